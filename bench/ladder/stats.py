"""The few statistics the ladder prints: percentiles and the median of per-pair ratios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of nothing")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Ratios:
    """Per-pair ratios candidate / baseline, summarised: median and range."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def as_dict(self) -> dict[str, object]:
        return {
            "median": round(self.median, 4),
            "min": round(self.low, 4),
            "max": round(self.high, 4),
            "pairs": [round(v, 4) for v in self.values],
        }


def pair_ratios(candidate: Sequence[float], baseline: Sequence[float]) -> Ratios:
    """candidate[i] / baseline[i] for each pair i (both measured in the same repetition)."""
    if len(candidate) != len(baseline) or not candidate:
        raise ValueError("ratios need the same, non-zero number of candidates and baselines")
    return Ratios(tuple(c / b for c, b in zip(candidate, baseline, strict=True)))
