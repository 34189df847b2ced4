"""Stage 7a, budget: how many messages a subscription may send now, and when the next one can go.

Pure. No I/O, no clock reads: every method takes `now`. Three checks, all must pass:

- a hard cap: at most `per_minute` sends in any 61 s and `per_second` in any 1.1 s (the
  platform's limit with a little margin for clock skew), each counted from the time its answer
  came back, so network and server latency cannot squeeze two sends closer on the platform's
  side than they are here (one message is in flight at a time per subscription);
- pacing: a token bucket of `burst` tokens refilled at (per_minute - burst) per minute, so a
  burst uses a quarter of the minute and the rest is spread out (a tier-1 alert arriving
  mid-burst waits seconds, not a minute);
- a block: after the platform answered "rate limited" anyway (another system shares the robot,
  or its clock disagrees), nothing is sent until the block ends. Retrying into it is a bug.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from notify.policy import RateLimit

__all__ = ["UNLIMITED", "Budget"]

_MINUTE = timedelta(seconds=61)
_SECOND = timedelta(seconds=1.1)
#: What "unlimited" allows at once: every due group its own message.
UNLIMITED = 1000


@dataclass(frozen=True)
class Budget:
    """One subscription's send budget; methods return a new Budget (or a count / a time)."""

    limit: RateLimit
    tokens: float = 0.0  # as of `at`; a budget never spent (at None) is full
    at: datetime | None = None
    recent: tuple[datetime, ...] = field(default=())  # sends in the last minute, oldest first
    blocked_until: datetime | None = None

    @property
    def _rate(self) -> float:
        """Tokens per second."""
        if self.limit.per_minute is None:
            return math.inf
        return max(self.limit.per_minute - self.limit.burst, 1) / 60.0

    def _tokens(self, now: datetime) -> float:
        if self.limit.per_minute is None:
            return math.inf
        if self.at is None:
            return float(self.limit.burst)
        elapsed = max((now - self.at).total_seconds(), 0.0)
        return min(float(self.limit.burst), self.tokens + elapsed * self._rate)

    def _in(self, window: timedelta, now: datetime) -> int:
        return sum(1 for t in self.recent if t > now - window)

    def blocked(self, now: datetime) -> bool:
        return self.blocked_until is not None and now < self.blocked_until

    def available(self, now: datetime) -> int:
        """Messages that may go now (UNLIMITED when the platform has no limit)."""
        if self.blocked(now):
            return 0
        room = [UNLIMITED]
        if self.limit.per_minute is not None:
            room.append(math.floor(self._tokens(now) + 1e-9))
            room.append(self.limit.per_minute - self._in(_MINUTE, now))
        if self.limit.per_second is not None:
            room.append(self.limit.per_second - self._in(_SECOND, now))
        return max(0, min(room))

    def next_free(self, now: datetime) -> datetime:
        """The earliest time at or after `now` when one message may go."""
        if self.available(now) > 0:
            return now
        candidates = [now]
        if self.blocked_until is not None:
            candidates.append(self.blocked_until)
        tokens = self._tokens(now)
        if tokens < 1:
            candidates.append(now + timedelta(seconds=(1 - tokens) / self._rate))
        for cap, window in ((self.limit.per_minute, _MINUTE), (self.limit.per_second, _SECOND)):
            inside = [t for t in self.recent if t > now - window]
            if cap is not None and len(inside) >= cap:
                candidates.append(inside[len(inside) - cap] + window)
        return max(candidates)

    def spend(self, now: datetime) -> Budget:
        """One message sent (or attempted: every attempt counts) at `now`."""
        keep = (*(t for t in self.recent if t > now - _MINUTE), now)
        return replace(self, tokens=self._tokens(now) - 1, at=now, recent=keep)

    def answered(self, at: datetime) -> Budget:
        """The last message sent was answered at `at`: count it from then on.

        The platform received it somewhere between the send and the answer; counting the
        answer's time makes the windows hold on the platform's side whatever the latency (a
        later send is at least as far from this answer as the platform saw them apart).
        """
        if not self.recent or at <= self.recent[-1]:
            return self
        return replace(self, recent=(*self.recent[:-1], at))

    def block(self, until: datetime) -> Budget:
        """The platform refused for rate: nothing goes before `until`."""
        if self.blocked_until is not None and self.blocked_until > until:
            return self
        return replace(self, blocked_until=until)
