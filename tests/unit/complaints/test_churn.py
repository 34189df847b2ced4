"""Churn: silence and falling feature use, one signal per episode, a compact state."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

from complaints.churn import (
    ChurnState,
    check,
    due_at,
    next_check,
    observe,
    week_of,
    week_start,
)
from complaints.rules import ChurnPolicy, load_rules
from streams.records import CustomerActivity, SignalChange, Source
from tests.factories import T0, make_event

POLICY = load_rules().churn  # 7 days of silence, down 50 % week over week
D = timedelta(days=1)
MONDAY = T0  # 2026-11-23 10:00 Beijing, a Monday


def activity(at: datetime, kind: str = "login", **fields: Any) -> CustomerActivity:
    if kind == "feature_use":
        fields.setdefault("feature", "报表")
    return CustomerActivity.model_validate(
        make_event(Source.ACTIVITY, at=at, customer_id="c1", kind=kind, **fields)
    )


class Customer:
    """Feeds activity and checks, like the agent: observe, then check at the activity's time."""

    def __init__(self, policy: ChurnPolicy = POLICY) -> None:
        self.policy = policy
        self.state = ChurnState()
        self.signals: list[Any] = []

    def see(self, item: CustomerActivity) -> None:
        self.state = observe(self.state, item, self.policy)
        self.check(item.occurred_at)

    def check(self, now: datetime) -> None:
        result = check("c1", self.state, now, self.policy)
        self.state = result.state
        if result.signal is not None:
            self.signals.append(result.signal)


class TestSilence:
    def test_seven_days_without_login_raise_one_tier_3_signal(self) -> None:
        customer = Customer()
        customer.see(activity(T0))
        customer.check(T0 + 6 * D)
        assert customer.signals == []
        customer.check(T0 + 7 * D + timedelta(minutes=1))
        (signal,) = customer.signals
        assert (signal.change, signal.tier, signal.rule_id) == (
            SignalChange.RAISED,
            3,
            "churn-silent",
        )
        assert signal.at == T0 + 7 * D  # when the silence started to count, not when seen
        assert signal.case_key == "customer:c1" and signal.subject == "churn"
        assert signal.churn is not None and signal.churn.days_since_login == 7.0

    def test_one_signal_per_episode_then_cleared_when_the_customer_comes_back(self) -> None:
        customer = Customer()
        customer.see(activity(T0))
        for day in range(8, 20):
            customer.check(T0 + day * D)
        assert [s.change for s in customer.signals] == [SignalChange.RAISED]
        customer.see(activity(T0 + 20 * D))
        assert [s.change for s in customer.signals] == [SignalChange.RAISED, SignalChange.CLEARED]
        customer.check(T0 + 21 * D)
        assert len(customer.signals) == 2
        customer.check(T0 + 28 * D)  # silent again: a second episode
        assert [s.change for s in customer.signals][-1] is SignalChange.RAISED
        assert len({s.signal_id for s in customer.signals}) == 3

    def test_a_late_old_login_does_not_move_the_last_login_back(self) -> None:
        customer = Customer()
        customer.see(activity(T0 + 3 * D))
        customer.see(activity(T0))
        assert customer.state.last_login == int((T0 + 3 * D).timestamp())

    def test_signal_ids_are_deterministic(self) -> None:
        runs = []
        for _ in range(2):
            customer = Customer()
            customer.see(activity(T0))
            customer.check(T0 + 9 * D)
            runs.append(customer.signals[0].signal_id)
        assert runs[0] == runs[1]


class TestFeatureUse:
    def test_use_down_half_week_over_week_raises(self) -> None:
        customer = Customer()
        customer.see(activity(MONDAY))
        customer.see(activity(MONDAY, "feature_use", count=40))
        customer.see(activity(MONDAY + 6 * D))  # logged in: never silent
        customer.see(activity(MONDAY + 7 * D, "feature_use", count=20))
        customer.see(activity(MONDAY + 10 * D))
        customer.check(MONDAY + 13 * D)
        assert customer.signals == []  # the second week is not over yet
        customer.check(MONDAY + 14 * D)
        (signal,) = customer.signals
        assert signal.rule_id == "churn-feature-drop"
        assert signal.churn is not None and signal.churn.feature_use_change == -0.5

    def test_a_smaller_drop_or_a_tiny_baseline_is_no_signal(self) -> None:
        for before, after in ((40, 21), (4, 0)):
            customer = Customer()
            customer.see(activity(MONDAY + 13 * D))
            customer.see(activity(MONDAY, "feature_use", count=before))
            if after:
                customer.see(activity(MONDAY + 7 * D, "feature_use", count=after))
            customer.check(MONDAY + 14 * D)
            assert customer.signals == [], (before, after)

    def test_require_all_needs_both_rules(self) -> None:
        policy = POLICY.model_copy(update={"require": "all"})
        customer = Customer(policy)
        customer.see(activity(MONDAY))
        customer.see(activity(MONDAY, "feature_use", count=40))
        customer.check(MONDAY + 7 * D + timedelta(hours=1))  # silent, but the drop is not yet known
        assert customer.signals == []
        customer.check(MONDAY + 14 * D)  # 40 -> 0: both hold
        (signal,) = customer.signals
        assert signal.churn is not None and len(signal.churn.reasons) == 2

    def test_the_ring_keeps_three_weeks_and_drops_older_uses(self) -> None:
        state = ChurnState()
        for week, count in ((0, 1), (1, 2), (2, 3), (3, 4)):
            state = observe(
                state, activity(MONDAY + 7 * week * D, "feature_use", count=count), POLICY
            )
        assert (state.uses, state.uses_1, state.uses_2) == (4, 3, 2)
        older = observe(state, activity(MONDAY, "feature_use", count=100), POLICY)
        assert older == state
        jump = observe(state, activity(MONDAY + 70 * D, "feature_use", count=5), POLICY)
        assert (jump.uses, jump.uses_1, jump.uses_2) == (5, 0, 0)


class TestDueTimes:
    def test_weeks_start_on_monday_midnight_beijing(self) -> None:
        week = week_of(int(MONDAY.timestamp()), POLICY)
        start = datetime.fromtimestamp(week_start(week, POLICY), tz=MONDAY.tzinfo)
        assert start == MONDAY - timedelta(hours=10)  # 00:00 Beijing = 16:00 UTC the day before

    def test_the_next_check_is_the_end_of_the_silence(self) -> None:
        state = observe(ChurnState(), activity(T0), POLICY)
        now = int(T0.timestamp())
        assert next_check(state, now, POLICY) == now + 7 * 86400
        assert due_at(state, now, POLICY) == now + 7 * 86400
        assert due_at(state, now + 8 * 86400, POLICY) == now + 8 * 86400  # overdue: check now

    def test_nothing_is_due_for_an_announced_silent_customer(self) -> None:
        customer = Customer()
        customer.see(activity(T0))
        customer.check(T0 + 8 * D)
        assert due_at(customer.state, int((T0 + 8 * D).timestamp()), POLICY) is None


class TestCompactState:
    def test_the_state_is_six_ints_and_packs_to_a_short_string(self) -> None:
        customer = Customer()
        customer.see(activity(T0))
        customer.see(activity(T0, "feature_use", count=12))
        packed = customer.state.pack()
        assert ChurnState.unpack(packed) == customer.state
        assert len(packed) <= 48
        assert all(isinstance(v, int) for v in customer.state)
        assert sys.getsizeof(customer.state) <= 100  # a tuple of six slots
