"""Token buckets per caller: how many requests each API key (or anonymous address) may make.

Pure; time is an argument. A bucket holds up to `burst` tokens and refills at `rate` per
second; a request takes one token or learns how long until one is there (the Retry-After).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """Requests per second sustained, and how many may come at once."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("need per_second > 0 and burst >= 1")


class RateLimiter:
    """One token bucket per caller, in memory (per API process), forgetting idle callers."""

    def __init__(self, rate: Rate, *, max_callers: int = 10_000) -> None:
        self.rate = rate
        self.max_callers = max_callers
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, as of)

    def take(self, caller: str, now: float) -> float:
        """0 when the request may go ahead (a token is taken), else the seconds to wait."""
        tokens, as_of = self._buckets.get(caller, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + max(0.0, now - as_of) * self.rate.per_second)
        if tokens >= 1.0:
            self._remember(caller, tokens - 1.0, now)
            return 0.0
        self._remember(caller, tokens, now)
        return (1.0 - tokens) / self.rate.per_second

    def _remember(self, caller: str, tokens: float, now: float) -> None:
        self._buckets[caller] = (tokens, now)
        if len(self._buckets) > self.max_callers:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        """Drop callers whose bucket has refilled (they lose nothing); then the oldest."""
        full_after = self.rate.burst / self.rate.per_second
        self._buckets = {
            caller: entry for caller, entry in self._buckets.items() if now - entry[1] < full_after
        }
        while len(self._buckets) > self.max_callers:
            oldest = min(self._buckets, key=lambda caller: self._buckets[caller][1])
            del self._buckets[oldest]


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
