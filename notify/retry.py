"""Stage 9c, retry: after one attempt's answer, deliver, retry later, defer to the budget, or give up.

Pure. No I/O; time and randomness are arguments. Four outcomes:

- DELIVERED: the receiver took it (a robot: HTTP 2xx and code 0).
- DEFER: the receiver refused for rate (a robot's rate-limit code, HTTP 429). Retrying into
  that block is a bug: the subscription's budget is blocked until the block ends (the robot's
  documented block, or the receiver's Retry-After), and what the message carried waits for
  the next message, folded with whatever arrives meanwhile.
- RETRY: a transient failure (5xx, 408, timeout, connection, a robot's "busy"): the same
  message again after min(max_delay, base_delay * 2**(n-1)), at least Retry-After (capped).
- GIVE_UP: any other answer, or the last attempt failed: dead-lettered.

Every wait keeps its jitter, also when Retry-After or a block sets it: a wait set by the
receiver is stretched by up to `jitter` (never shortened), so subscriptions refused together
do not come back in lockstep.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from notify.models import Failure
from notify.outcomes import Answer

__all__ = ["RATE_FAILURES", "Next", "RetryPolicy", "Step", "next_step"]

#: Answers that mean "too many, too fast": never retried into, always deferred to the budget.
RATE_FAILURES = frozenset({Failure.ROBOT_RATE_LIMITED, Failure.RATE_LIMITED})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Durations in seconds."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.1  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    timeout: float = 10.0  # per attempt: connect, write and read
    max_retry_after: float = 900.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need max_attempts >= 1 and 0 <= base_delay <= max_delay")
        if not 0 <= self.jitter < 1 or self.timeout <= 0:
            raise ValueError("need 0 <= jitter < 1 and timeout > 0")

    def delay(self, retry: int, rng: random.Random, *, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1 = the first retry)."""
        wait = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        floor = min(retry_after, self.max_retry_after) if retry_after is not None else None
        if floor is not None and floor > wait:
            return self.stretch(floor, rng)
        if self.jitter:
            wait = min(self.max_delay, wait * (1 + self.jitter * (2 * rng.random() - 1)))
        return wait

    def stretch(self, seconds: float, rng: random.Random) -> float:
        """A wait someone else set, made up to `jitter` longer (never shorter)."""
        return seconds * (1 + self.jitter * rng.random()) if self.jitter else seconds


class Next(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEFER = "defer"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class Step:
    """What to do after an attempt; `at` is when to try again (RETRY) or when the budget
    reopens (DEFER)."""

    next: Next
    at: datetime | None = None


def next_step(
    answer: Answer,
    attempt: int,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    block: timedelta,
) -> Step:
    """The step after attempt number `attempt` (1 = the first) answered `answer` at `now`.

    Args:
        block: how long the platform refuses after its rate limit (notify/policy.py), used
            when the answer carries no Retry-After.
    """
    verdict = answer.verdict
    if verdict.delivered:
        return Step(Next.DELIVERED)
    retry_after = answer.retry_after_seconds(now)
    if verdict.failure in RATE_FAILURES:
        seconds = (
            min(retry_after, policy.max_retry_after)
            if retry_after is not None
            else block.total_seconds()
        )
        return Step(Next.DEFER, now + timedelta(seconds=policy.stretch(seconds, rng)))
    if verdict.retryable and attempt < policy.max_attempts:
        wait = policy.delay(attempt, rng, retry_after=retry_after)
        return Step(Next.RETRY, now + timedelta(seconds=wait))
    return Step(Next.GIVE_UP)
