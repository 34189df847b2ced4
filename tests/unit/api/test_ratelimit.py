"""Token buckets: bursts, refill, Retry-After, and a bounded number of callers."""

from __future__ import annotations

import pytest

from api.ratelimit import Rate, RateLimiter, retry_after


class TestRateLimiter:
    def test_a_burst_passes_then_the_next_request_waits(self) -> None:
        """`burst` requests at once go ahead; the next learns when a token is back."""
        limiter = RateLimiter(Rate(per_second=2, burst=3))
        assert [limiter.take("k", now=10.0) for _ in range(3)] == [0.0, 0.0, 0.0]
        assert limiter.take("k", now=10.0) == pytest.approx(0.5)

    def test_tokens_refill_at_the_rate_up_to_the_burst(self) -> None:
        """After a pause the bucket holds at most `burst` tokens again."""
        limiter = RateLimiter(Rate(per_second=1, burst=2))
        for _ in range(2):
            limiter.take("k", now=0.0)
        assert limiter.take("k", now=1.0) == 0.0
        assert limiter.take("k", now=1.0) > 0
        assert [limiter.take("k", now=100.0) for _ in range(3)][:2] == [0.0, 0.0]

    def test_callers_have_their_own_buckets(self) -> None:
        """One noisy key does not slow down another."""
        limiter = RateLimiter(Rate(per_second=1, burst=1))
        assert limiter.take("a", now=0.0) == 0.0
        assert limiter.take("a", now=0.0) > 0
        assert limiter.take("b", now=0.0) == 0.0

    def test_memory_is_bounded(self) -> None:
        """Past max_callers, idle callers are forgotten and the table stays bounded."""
        limiter = RateLimiter(Rate(per_second=1, burst=1), max_callers=100)
        for i in range(1000):
            limiter.take(f"ip:{i}", now=float(i))
        assert len(limiter._buckets) <= 100


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (30, "30")])
def test_retry_after_is_whole_seconds_at_least_one(seconds: float, header: str) -> None:
    """Retry-After rounds up: a client that honours it is not refused again."""
    assert retry_after(seconds) == header


def test_a_rate_must_be_positive() -> None:
    """A zero rate is a configuration error, not a silent lock-out."""
    with pytest.raises(ValueError, match="per_second"):
        Rate(per_second=0, burst=1)
