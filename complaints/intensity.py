"""Computes emotional intensity (情绪强度), 0 (calm) to 100 (furious): how strongly negative.

Pure. ``S = base * negativity + negativity * sum(min(weight * count, cap))`` over the signals
of domain.md (intensifiers, strong words, insults, threats, repeat contact, waiting, ！ and
runs of ！！！ / ？？？, emoji, 你们 on a call, fast speech); ``intensity = 100 * (1 - e^-S)``.
Gating the signals by negativity keeps an excited compliment ("太棒了！！！") calm, and the
saturating curve keeps the result in 0..100 whatever piles up.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import exp

from complaints.cuecache import per_model
from complaints.lexicon import IntensityModel


def intensity_of(negativity: float, counts: Mapping[str, float], model: IntensityModel) -> int:
    """Intensity 0-100 from negativity (0-1) and signal counts (name -> how many)."""
    # signals the text does not have add 0.0, which changes no sum: only those it has are added
    cues = sum(
        [min(weight * counts[name], cap) for name, weight, cap in _cues(model) if name in counts]
    )
    s = model.base * negativity + negativity * cues
    return max(0, min(100, round(100 * (1 - exp(-s)))))


@per_model
def _cues(model: IntensityModel) -> tuple[tuple[str, float, float], ...]:
    """(signal, weight, cap) of the model, in its order (read once per model, not per text)."""
    return tuple((name, w.weight, w.cap) for name, w in model.cues.items())
