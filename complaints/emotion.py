"""Decides the emotion type of a text from its cue words and signals (emotions.yaml,
scoring.yaml `emotion`).

Pure. Each negative type (seed 003: anger, disappointment, apathy; anxiety and helplessness)
collects the weights of its cue words — not when negated (不生气), less before a turn of the
sentence, more after it or under a degree word — plus the bonuses of the signals found (an
insult, a threat or a demand points to anger, waiting to anxiety, repeat contact to
helplessness) and the weights of the grievances (钱被扣, 承诺未兑现 point to anger). The intent
step comes first: a complaint takes the type with the largest total, or, when no type reaches
`min_score`, the fallback of its category (issue #18: decided by evidence, not a fixed type);
praise is `positive`; any other text is `neutral`, never a negative type.
"""

from __future__ import annotations

from typing import NamedTuple

from complaints.cuecache import cue
from complaints.lexicon import NEGATIVE_EMOTIONS, EmotionModel
from complaints.matching import Context, Match, longest
from complaints.signals import Signals
from streams.records import Category, Cue, Emotion, Intent


class EmotionEvidence(NamedTuple):
    scores: dict[Emotion, float]
    cues: tuple[Cue, ...]  # kind "emotion", label = the type it points to

    @property
    def total(self) -> float:
        return sum(self.scores.values())


def weigh_emotions(
    ctx: Context,
    matches: list[Match],
    cues_by_term: dict[str, dict[Emotion, float]],
    layer: frozenset[str],
    degree: dict[str, float],
    signals: Signals,
    model: EmotionModel,
) -> EmotionEvidence:
    """Per negative type, the weight of its cues in `ctx.text` and of the signals found."""
    scores = dict.fromkeys(NEGATIVE_EMOTIONS, 0.0)
    cues: list[Cue] = []
    for m in longest(matches, layer):
        targets = cues_by_term.get(m.term)
        if not targets:
            continue
        mod = ctx.modifiers(m)
        if mod.negator is not None:
            continue
        factor = mod.contrast * (degree.get(mod.degree, 1.0) if mod.degree else 1.0)
        for emotion, weight in targets.items():
            scores[emotion] += weight * factor
            cues.append(
                cue(
                    kind="emotion",
                    term=m.term,
                    label=emotion.value,
                    weight=round(weight * factor, 3),
                )
            )
    counts = signals.counts
    for signal, per_emotion in model.bonus.items():
        if counts.get(signal, 0.0) > 0:  # signals.has, without a call per bonus
            for emotion, bonus in per_emotion.items():
                scores[emotion] += bonus
    return EmotionEvidence(scores, tuple(cues))


def decide_emotion(
    evidence: EmotionEvidence, intent: Intent, category: Category, model: EmotionModel
) -> Emotion:
    """The emotion type: the strongest negative type of a complaint, positive for praise,
    neutral otherwise. A complaint whose cues reach no type's `min_score` takes the fallback
    of its category (money taken reads as anger, a late parcel as anxiety), else `fallback`."""
    if intent is not Intent.COMPLAINT:
        return Emotion.POSITIVE if intent is Intent.PRAISE else Emotion.NEUTRAL
    best = max(NEGATIVE_EMOTIONS, key=lambda e: evidence.scores[e])  # first listed wins ties
    if evidence.scores[best] >= model.min_score:
        return best
    return model.fallback_by_category.get(category, model.fallback)
