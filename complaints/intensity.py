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

from complaints.lexicon import IntensityModel


def intensity_of(negativity: float, counts: Mapping[str, float], model: IntensityModel) -> int:
    """Intensity 0-100 from negativity (0-1) and signal counts (name -> how many)."""
    cues = sum(min(w.weight * counts.get(name, 0.0), w.cap) for name, w in model.cues.items())
    s = model.base * negativity + negativity * cues
    return max(0, min(100, round(100 * (1 - exp(-s)))))
