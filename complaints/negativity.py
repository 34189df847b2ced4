"""Combines snownlp polarity with the lexical evidence into one probability of a complaint.

Pure. ``negativity = sigmoid(bias + sum(weight * feature))`` (scoring.yaml `negativity`), with
features: snownlp's -logit(polarity) (clipped), the character model's logit of "negative"
(complaints.textmodel, clipped), how far that logit moves when the model reads only what follows
a turn (好吃，就是太咸了: the customer's point is the part after 就是; 0 without a turn), log(1 + negative word weight), log(1 + positive word weight),
log(1 + negative-emotion cue weight), and 0/1 flags for insults, threats, repeat contact,
waiting, ！！ and ？？ runs, negative and positive emoji, an enquiry, service speech, a grievance
(grievances.yaml: 多扣, 说好…结果…) and a demand (demands.yaml: 必须退款, 给个说法). snownlp alone
misreads complaints with few sentiment words ("等了2个多小时也是醉了": 0.98); the words and
signals carry what its review-trained model never saw.
"""

from __future__ import annotations

from math import exp, log
from typing import NamedTuple

from complaints.cuecache import per_model
from complaints.lexicon import NegativityModel
from complaints.signals import Signals


class Features(NamedTuple):
    snownlp: float
    text_model: float
    text_model_turn: float
    negative_terms: float
    positive_terms: float
    emotion_terms: float
    insult: float
    threat: float
    repeat_contact: float
    waiting: float
    exclamation_run: float
    question_run: float
    emoji_negative: float
    emoji_positive: float
    inquiry: float
    service_speech: float
    grievance: float
    demand: float


_NEGATIVE_EMOJI = ("emoji_anger", "emoji_sadness", "emoji_fear", "emoji_sarcasm")
_FLAGS = Features._fields[Features._fields.index("insult") :]


def features_of(
    polarity: float,
    text_logit: float,
    text_logit_after_turn: float | None,
    negative_terms: float,
    positive_terms: float,
    emotion_terms: float,
    signals: Signals,
    clip: float,
) -> Features:
    """The model's inputs: polarity (0-1), the text model's logit of the whole text and of what
    follows its turns (None without a turn; both already clipped), the word weights, and the
    signals found."""
    counts = signals.counts
    p = min(max(polarity, 1e-12), 1 - 1e-12)
    return Features(
        max(-clip, min(clip, log((1 - p) / p))),
        text_logit,
        0.0 if text_logit_after_turn is None else text_logit_after_turn - text_logit,
        log1p_(negative_terms),
        log1p_(positive_terms),
        log1p_(emotion_terms),
        # the 0/1 flags, in the order of Features (Signals.has: a count above 0)
        *[
            float(any(counts.get(e, 0.0) > 0 for e in _NEGATIVE_EMOJI))
            if name == "emoji_negative"
            else float(counts.get(name, 0.0) > 0)
            for name in _FLAGS
        ],
    )


def negativity_of(features: Features, model: NegativityModel) -> float:
    """Probability (0-1) that the text is a negative / complaining one."""
    z = model.bias + sum(
        weight * value for weight, value in zip(_weights(model), features, strict=True)
    )
    z = max(-50.0, min(50.0, z))
    return 1.0 / (1.0 + exp(-z))


def log1p_(x: float) -> float:
    return log(1.0 + max(0.0, x))


@per_model
def _weights(model: NegativityModel) -> tuple[float, ...]:
    """The model's weights in the order of Features (read once per model, not per text)."""
    return tuple(getattr(model.weights, name) for name in Features._fields)
