"""Upper-tail probabilities of counts: how improbable is `count` when `mean` was expected?

Pure arithmetic, no I/O. Poisson when the variance is at most the mean; otherwise a negative
binomial with the same mean and variance (over-dispersed counts: busy days, a viral post).
Only the upper tail matters to surge detection, so a count at or below the mean gets p = 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: Stop summing tail terms when the rest is below this fraction of the sum (far below any
#: threshold a rule can set: open_score is at most 15).
_REL_TOL = 1e-12
_MAX_TERMS = 10_000


def tail_probability(count: float, mean: float, variance: float) -> float:
    """P(X >= count) for a count with this mean and variance (Poisson floor on the variance).

    Returns 1.0 when count <= mean, and a number in [0, 1] otherwise (0.0 only on underflow).
    """
    if not (mean > 0 and math.isfinite(mean) and math.isfinite(count)) or count <= mean:
        return 1.0
    k = math.ceil(count - 1e-9)
    if not math.isfinite(variance) or variance <= mean * (1 + 1e-9):
        return _poisson_tail(k, mean)
    return _negbin_tail(k, mean, variance)


def score_of(p: float) -> float:
    """-log10 p, the number rules compare with open_score / stay_score (capped at 300)."""
    return 300.0 if p <= 1e-300 else max(0.0, -math.log10(p))


def _poisson_tail(k: int, mean: float) -> float:
    log_term = k * math.log(mean) - mean - math.lgamma(k + 1)
    return _sum_upwards(log_term, k, lambda j: mean / (j + 1))


def _negbin_tail(k: int, mean: float, variance: float) -> float:
    # NB(r, p): mean = r (1 - p) / p, variance = mean / p.
    p = mean / variance
    r = mean * mean / (variance - mean)
    log_term = (
        math.lgamma(k + r)
        - math.lgamma(r)
        - math.lgamma(k + 1)
        + r * math.log(p)
        + k * math.log1p(-p)
    )
    q = 1 - p
    return _sum_upwards(log_term, k, lambda j: (j + r) / (j + 1) * q)


def _sum_upwards(log_first: float, k: int, ratio_at: Callable[[int], float]) -> float:
    """Sum pmf(k) + pmf(k+1) + … from log pmf(k) and the term ratio pmf(j+1)/pmf(j)."""
    if log_first < -745:  # exp underflows: the tail is below 1e-320
        return 0.0
    term = math.exp(log_first)
    total = term
    j = k
    for _ in range(_MAX_TERMS):
        ratio = ratio_at(j)
        term *= ratio
        total += term
        j += 1
        # Past the mode the ratios shrink, so the rest is below a geometric series.
        if ratio < 1 and term * ratio / (1 - ratio) <= _REL_TOL * total:
            break
    return min(1.0, total)
