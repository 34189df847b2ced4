"""Weighs the polarity words of a text (polarity.yaml) with what modifies them.

Pure. A negative word counts toward ``negative``, a positive one toward ``positive``; a degree
word multiplies it (太慢), a negator turns it round (不好 counts as negative, 不差 / 没问题 only
weakly as positive, 不是不满意 not as a complaint), a turn of the sentence moves the weight to
what follows it (虽然…但是…), and a positive word alone in quotes is sarcasm (‘好’到家了).
"""

from __future__ import annotations

from typing import NamedTuple

from complaints.cuecache import cue
from complaints.lexicon import PolarityTerms
from complaints.matching import Context, Match, longest
from streams.records import Cue


class TermEvidence(NamedTuple):
    negative: float  # sum of the negative contributions (>= 0)
    positive: float  # sum of the positive contributions (>= 0)
    cues: tuple[Cue, ...]  # one per counted word, signed weight (negative = complaint)
    intensified: int  # negative words under a degree word
    strong: int  # negative contributions of at least `strong_min`
    sarcasm: int


def weigh_terms(
    ctx: Context,
    matches: list[Match],
    rules: PolarityTerms,
    layer: frozenset[str],
    strong_min: float,
) -> TermEvidence:
    """The polarity evidence of `ctx.text` (`matches`: all term occurrences)."""
    kept = [
        m for m in longest(matches, layer) if m.term in rules.negative or m.term in rules.positive
    ]
    negative = positive = 0.0
    intensified = strong = sarcasm = 0
    cues: list[Cue] = []
    for k, m in enumerate(kept):
        # 好 / 真 before another polarity word is a degree word (好慢), not praise.
        if m.term in rules.degree and k + 1 < len(kept) and kept[k + 1].start == m.end:
            continue
        mod = ctx.modifiers(m)
        sign = -1.0 if m.term in rules.negative else 1.0
        weight = rules.negative.get(m.term) or rules.positive[m.term]
        term, kind = m.term, "negative_term" if sign < 0 else "positive_term"
        if mod.negator is not None:
            factor = rules.negated_negative_factor if sign < 0 else rules.negated_positive_factor
            value = -sign * weight * factor
            term, kind = mod.negator + (mod.degree or "") + m.term, "negation"
        elif sign > 0 and mod.quoted:
            value = -weight
            kind, sarcasm = "sarcasm", sarcasm + 1
        else:
            degree = rules.degree.get(mod.degree, 1.0) if mod.degree else 1.0
            value = sign * weight * degree
            if mod.degree and sign < 0:
                term, kind, intensified = mod.degree + m.term, "intensifier", intensified + 1
        value *= mod.contrast
        if value < 0:
            negative -= value
            strong += -value >= strong_min
        else:
            positive += value
        cues.append(cue(kind=kind, term=term, label=None, weight=round(value, 3)))
    return TermEvidence(negative, positive, tuple(cues), intensified, strong, sarcasm)
