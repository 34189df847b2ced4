"""The rate budget: platform limits, pacing, blocks, with a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notify.budget import UNLIMITED, Budget
from notify.policy import PLATFORM_LIMITS, BudgetSpec, Policy, RateLimit
from tests.properties import PROPERTY_EXAMPLES
from tests.unit.notify.samples import T0


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _greedy(budget: Budget, wants: list[float]) -> list[datetime]:
    """Send each wanted message as soon as the budget allows; the send times."""
    sent: list[datetime] = []
    for want in sorted(wants):
        now = budget.next_free(max(_at(want), sent[-1] if sent else _at(want)))
        assert budget.available(now) >= 1
        budget = budget.spend(now)
        sent.append(now)
    return sent


def _most_in(sent: list[datetime], window: timedelta) -> int:
    return max((sum(1 for t in sent if s <= t < s + window) for s in sent), default=0)


class TestPlatformBudgets:
    @pytest.mark.parametrize(
        ("fmt", "at_once", "in_first_minute"),
        [("wecom", 5, 20), ("dingtalk", 5, 20), ("feishu", 5, 100), ("json", UNLIMITED, None)],
    )
    def test_a_fresh_budget(self, fmt: str, at_once: int, in_first_minute: int | None) -> None:
        """A quarter of the minute at once (Feishu: its 5 per second), the minute's total in 61 s."""
        budget = Budget(Policy().limit(fmt))
        assert budget.available(T0) == at_once
        if in_first_minute is not None:
            sent = _greedy(budget, [0.0] * 300)
            assert sum(1 for t in sent if t < _at(61)) == in_first_minute

    def test_wecom_paces_one_every_four_seconds_after_its_burst(self) -> None:
        sent = _greedy(Budget(PLATFORM_LIMITS["wecom"]), [0.0] * 8)
        assert [(t - T0).total_seconds() for t in sent] == [0, 0, 0, 0, 0, 4, 8, 12]

    def test_a_block_stops_everything_until_it_ends(self) -> None:
        """After a rate-limit answer nothing goes before the block ends, whatever the tokens."""
        budget = Budget(PLATFORM_LIMITS["dingtalk"]).block(_at(600))
        assert budget.available(_at(599)) == 0
        assert budget.next_free(_at(10)) == _at(600)
        assert budget.available(_at(600)) == 5
        assert budget.block(_at(300)).blocked_until == _at(600), "a shorter block never shortens"

    def test_an_unlimited_budget_still_honours_a_block(self) -> None:
        budget = Budget(PLATFORM_LIMITS["json"]).block(_at(7))
        assert budget.available(_at(1)) == 0 and budget.available(_at(7)) == UNLIMITED

    def test_policy_overrides_the_platform(self) -> None:
        """A robot shared with another system gets half the budget."""
        limit = Policy(budget=BudgetSpec(per_minute=10)).limit("dingtalk")
        assert (limit.per_minute, limit.burst, limit.block) == (10, 2, timedelta(minutes=10))


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    wants=st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=150),
    fmt=st.sampled_from(["wecom", "dingtalk", "feishu"]),
)
def test_never_more_than_the_platform_allows_in_any_window(wants: list[float], fmt: str) -> None:
    """Whatever arrives when, a greedy sender stays within the documented limits."""
    limit: RateLimit = PLATFORM_LIMITS[fmt]
    sent = _greedy(Budget(limit), wants)
    assert len(sent) == len(wants)
    assert limit.per_minute is not None
    assert _most_in(sent, timedelta(seconds=60)) <= limit.per_minute
    if limit.per_second is not None:
        assert _most_in(sent, timedelta(seconds=1)) <= limit.per_second


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    latencies=st.lists(
        st.tuples(st.floats(min_value=0, max_value=3), st.floats(min_value=0, max_value=1)),
        min_size=30,
        max_size=120,
    ),
    fmt=st.sampled_from(["wecom", "feishu"]),
)
def test_the_platform_sees_no_more_than_its_limit_whatever_the_latency(
    latencies: list[tuple[float, float]], fmt: str
) -> None:
    """One message at a time, each answered after its own latency: wherever between send and
    answer the platform received each one, no window of the platform holds too many."""
    limit = PLATFORM_LIMITS[fmt]
    budget, now = Budget(limit), T0
    received: list[datetime] = []
    for latency, where in latencies:
        now = budget.next_free(now)
        budget = budget.spend(now)
        answered = now + timedelta(seconds=latency)
        received.append(now + timedelta(seconds=latency * where))  # somewhere in between
        budget = budget.answered(answered)
        now = answered
    assert limit.per_minute is not None
    assert _most_in(received, timedelta(seconds=60)) <= limit.per_minute
    if limit.per_second is not None:
        assert _most_in(received, timedelta(seconds=1)) <= limit.per_second
