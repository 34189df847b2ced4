"""Decides what a text is about: the complaint category (categories.yaml).

Pure. Each category sums the weights of its cue words found (more after a turn of the
sentence, less before it; negation does not matter: 没发货 is still about logistics); the
largest total wins if it reaches `min_score`, ties go to the earlier entry of `tie_order`, and
a text with no cue is `other`.
"""

from __future__ import annotations

from typing import NamedTuple

from complaints.lexicon import CategoryCues
from complaints.matching import Context, Match, longest
from streams.records import Category, Cue


class CategoryVerdict(NamedTuple):
    category: Category
    score: float
    cues: tuple[Cue, ...]  # the words of the chosen category, kind "category"


def decide_category(
    ctx: Context,
    matches: list[Match],
    cues_by_term: dict[str, dict[Category, float]],
    layer: frozenset[str],
    rules: CategoryCues,
) -> CategoryVerdict:
    """The category of `ctx.text` and the words that decided it."""
    scores = dict.fromkeys(rules.tie_order, 0.0)
    words: dict[Category, list[tuple[str, float]]] = {c: [] for c in rules.tie_order}
    for m in longest(matches, layer):
        factor = ctx.contrast_at(m.start)
        for category, weight in cues_by_term.get(m.term, {}).items():
            scores[category] += weight * factor
            words[category].append((m.term, weight * factor))
    best = max(rules.tie_order, key=lambda c: scores[c])  # first in tie_order wins ties
    if scores[best] < rules.min_score or scores[best] == 0:
        return CategoryVerdict(Category.OTHER, 0.0, ())
    cues = tuple(
        Cue(kind="category", term=t, label=best.value, weight=round(w, 3)) for t, w in words[best]
    )
    return CategoryVerdict(best, scores[best], cues)
