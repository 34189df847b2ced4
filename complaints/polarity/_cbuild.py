"""Turns snownlp's loaded tables into the C kernel's ``Model`` (load time only).

The segmenter counts are handed over as they are; the kernel converts them into int-indexed
tables. The Bayes step is prepared here, in Python, because its per-word terms must be exactly
snownlp's ``log(float(count) / total)``: computed once with the same expression and the same
``math.log``, each term is the same double that snownlp computes on every call.
"""

from __future__ import annotations

from math import log
from typing import TYPE_CHECKING

from complaints.polarity._modelfiles import SnowModel

if TYPE_CHECKING:
    from complaints.polarity._kernel import Model


def build_c_model(model: SnowModel) -> Model:
    """The kernel's ``Model`` for ``model``; raises ImportError if the kernel is not built."""
    from complaints.polarity._kernel import Model

    seg = model.seg
    classes = model.classes
    # Bayes.classify adds log(self.d[k].freq(word)) = log(float(count) / total), where a word
    # the class never saw counts `none`.
    terms = [{w: log(float(n) / c.total) for w, n in c.counts.items()} for c in classes]
    unknown = [log(float(c.none) / c.total) for c in classes]
    lexicon: dict[str, tuple[float, ...] | None] = {
        word: tuple([t.get(word, u) for t, u in zip(terms, unknown, strict=True)])
        for t0 in terms
        for word in t0
    }
    for word in model.stopwords:  # filter_stop runs before the classifier
        lexicon[word] = None
    labels = [c.label for c in classes]
    return Model(
        status=seg.status,
        uni=seg.uni,
        uni_total=seg.uni_total,
        uni_none=seg.uni_none,
        bi=seg.bi,
        bi_none=seg.bi_none,
        tri=seg.tri,
        tri_none=seg.tri_none,
        l1=seg.l1,
        l2=seg.l2,
        l3=seg.l3,
        lexicon=lexicon,
        priors=tuple(log(c.total) - log(model.bayes_total) for c in classes),
        unknown_terms=tuple(unknown),
        pos_class=labels.index("pos") if "pos" in labels else -1,
    )
