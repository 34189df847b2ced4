"""Assembles what a person reads to see *why*: the cues of an assessment and its keywords.

Pure. Cues come most telling first: the emotion verdict and snownlp's polarity, the intent (its
weight: the negativity after the intent step), what part of the text was scored, the signals
(threats, insults, waiting, punctuation…), the demands, grievances and faults, the turns of sentences,
the polarity words by weight, then the emotion and category words and the domain. Keywords are
the words that drove the verdict: threats, insults, demands, grievances and faults, then the words
pointing the verdict's way.
"""

from __future__ import annotations

from typing import NamedTuple

from complaints.category import CategoryVerdict
from complaints.cuecache import cue
from complaints.emotion import EmotionEvidence
from complaints.intent import IntentVerdict
from complaints.signals import Signals
from complaints.terms import TermEvidence
from streams.records import EMOTION_LABELS, INTENT_LABELS, Cue, Emotion


class Scope(NamedTuple):
    """Which part of the text was scored."""

    transcript: bool  # only the customer's lines of a transcript
    cut_to: int | None  # characters kept of a longer text, or None


def explain(
    emotion: Emotion,
    negative: bool,
    polarity: float,
    emotions: EmotionEvidence,
    terms: TermEvidence,
    signals: Signals,
    turns: list[str],
    turn_weight: float,
    category: CategoryVerdict,
    scope: Scope,
    intent: IntentVerdict,
    grievances: tuple[Cue, ...],
    demands: tuple[Cue, ...],
) -> tuple[tuple[Cue, ...], tuple[str, ...]]:
    """(cues, keywords) of one assessment, each most important first (not yet truncated)."""
    emotion_cues = tuple(c for c in emotions.cues if c.label == emotion.value)
    strongest = (
        max(emotion_cues, key=lambda c: c.weight).term if emotion_cues else EMOTION_LABELS[emotion]
    )
    headline = (
        cue(
            kind="emotion",
            term=strongest,
            label=emotion.value,
            weight=round(emotions.scores.get(emotion, 0.0), 3),
        ),
        cue(kind="polarity", term="snownlp", label=None, weight=round(polarity, 4)),
    )
    scoped: tuple[Cue, ...] = ()
    if scope.transcript:
        scoped += (cue(kind="scope", term="客户发言", label="transcript", weight=1.0),)
    if scope.cut_to is not None:
        scoped += (cue(kind="scope", term=f"截取{scope.cut_to}字", label="truncated", weight=1.0),)
    said: tuple[Cue, ...] = (
        cue(
            kind="intent",
            term=INTENT_LABELS[intent.intent],
            label=intent.intent.value,
            weight=round(intent.negativity, 4),
        ),
    )
    said += tuple(c for c in intent.content if c.kind == "ack")
    faults = tuple(c for c in intent.content if c.kind == "fault")
    contrast = tuple(cue(kind="contrast", term=t, label=None, weight=turn_weight) for t in turns)
    words = sorted(terms.cues, key=lambda c: -abs(c.weight))
    cues = (
        *headline,
        *said,
        *scoped,
        *signals.cues,
        *demands,
        *grievances,
        *faults,
        *contrast,
        *words,
        *emotion_cues,
        *category.cues,
    )

    if negative:
        first = [c.term for c in signals.cues if c.kind in ("threat", "insult")]
        first += [c.term for c in (*demands, *grievances, *faults)]
        driving = [c.term for c in words if c.weight < 0]
    else:
        first, driving = [], [c.term for c in words if c.weight > 0]
    about = [c.term for c in category.cues if c.kind == "category"]
    ranked = [*first, *driving, *(c.term for c in emotion_cues), *about]
    return cues, tuple(dict.fromkeys(ranked))
