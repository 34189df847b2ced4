"""Order tracking: delay buckets, compensation, tiers, delivery, estimates and event time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from complaints.logistics import (
    OrderState,
    Tracked,
    check_overdue,
    map_entry,
    next_check,
    track,
)
from complaints.rules import load_rules
from streams.records import DelayState, LogisticsChange, SignalChange, Source
from tests.factories import T0, make_event

RULES = load_rules()
H = timedelta(hours=1)


def change(at: datetime = T0, **fields: Any) -> LogisticsChange:
    """A change of order SO1 promised at T0 + 4 h; `late=` hours sets the estimate past it."""
    late = fields.pop("late", None)
    values: dict[str, Any] = {
        "order_id": "SO1",
        "customer_id": "c1",
        "status": "in_transit",
        "promised_at": (T0 + 4 * H).isoformat(),
        "estimated_at": None,
        "region": "华东-上海",
        "carrier": "顺达快运",
    }
    if late is not None:
        values["estimated_at"] = (T0 + 4 * H + late * H).isoformat()
    values.update(fields)
    return LogisticsChange.model_validate(make_event(Source.LOGISTICS, at=at, **values))


class Orders:
    """Feeds changes into one order's state, like the agent does."""

    def __init__(self) -> None:
        self.state: OrderState | None = None

    def feed(self, item: LogisticsChange, now: datetime | None = None) -> Tracked:
        result = track(self.state, item, now or item.occurred_at, RULES)
        self.state = result.state
        return result


class TestBuckets:
    """Seed 003: < 24 h → 10 元; 24–48 h → 20 元; > 48 h → 50 元 and a dedicated agent."""

    @pytest.mark.parametrize(
        ("late_hours", "bucket", "coupon", "actions", "rung"),
        [
            (2, "delay-under-24h", 10, ("10元优惠券",), "basic"),
            (23.5, "delay-under-24h", 10, ("10元优惠券",), "basic"),
            (24, "delay-24-48h", 20, ("20元优惠券",), "basic"),
            (47, "delay-24-48h", 20, ("20元优惠券",), "basic"),
            (48, "delay-over-48h", 50, ("50元优惠券", "专属客服"), "emotional"),
            (120, "delay-over-48h", 50, ("50元优惠券", "专属客服"), "emotional"),
        ],
    )
    def test_the_delay_picks_bucket_and_compensation(
        self, late_hours: float, bucket: str, coupon: int, actions: tuple[str, ...], rung: str
    ) -> None:
        (signal,) = Orders().feed(change(late=late_hours)).signals
        assert signal.change is SignalChange.RAISED and signal.tier == 3
        assert signal.delay is not None and signal.delay.bucket == bucket
        assert signal.delay.delay_hours == late_hours
        comp = signal.compensation
        assert comp is not None
        assert (comp.amount_yuan, comp.actions, comp.rung, comp.rule_id) == (
            coupon,
            actions,
            rung,
            bucket,
        )
        assert not comp.needs_approval
        assert signal.rule_id == bucket and signal.subject == "SO1"
        assert signal.case_key == "customer:c1" and signal.region == "华东-上海"

    def test_an_order_on_time_says_nothing(self) -> None:
        orders = Orders()
        assert orders.feed(change(late=-1)).signals == ()
        assert map_entry(orders.state, RULES) is None

    def test_a_promise_passed_undelivered_is_a_delay_by_event_time(self) -> None:
        """No estimate, but the status change comes 30 h after the promise: 24–48 h."""
        (signal,) = Orders().feed(change(at=T0 + 34 * H)).signals
        assert signal.delay is not None
        assert (signal.delay.bucket, signal.delay.delay_hours) == ("delay-24-48h", 30.0)


class TestTiers:
    @pytest.mark.parametrize(
        ("status", "rule_id", "extra"),
        [
            ("lost", "delay-lost", "补发或全额退款"),
            ("exception", "delay-exception", "联系承运商核实"),
        ],
    )
    def test_lost_and_exception_are_tier_1(self, status: str, rule_id: str, extra: str) -> None:
        (signal,) = Orders().feed(change(status=status)).signals
        assert (signal.tier, signal.rule_id) == (1, rule_id)
        assert signal.compensation is not None and extra in signal.compensation.actions

    def test_a_delayed_order_that_becomes_lost_is_raised_again_at_tier_1(self) -> None:
        orders = Orders()
        orders.feed(change(late=5))
        (signal,) = orders.feed(change(at=T0 + H, status="lost", late=5)).signals
        assert (signal.change, signal.tier) == (SignalChange.RAISED, 1)


class TestUpdatesAndClearing:
    def test_a_changed_estimate_is_raised_again_with_the_new_bucket(self) -> None:
        orders = Orders()
        (first,) = orders.feed(change(late=5)).signals
        (second,) = orders.feed(change(at=T0 + H, late=30)).signals
        assert second.change is SignalChange.RAISED and second.signal_id != first.signal_id
        assert second.delay is not None and second.delay.bucket == "delay-24-48h"

    def test_a_status_change_that_says_nothing_new_sends_nothing(self) -> None:
        orders = Orders()
        orders.feed(change(late=5))
        assert orders.feed(change(at=T0 + H, late=5)).signals == ()
        assert orders.feed(change(at=T0 + 2 * H, status="delayed", late=5)).signals == ()

    def test_delivery_clears_the_alert(self) -> None:
        orders = Orders()
        orders.feed(change(late=5))
        (signal,) = orders.feed(change(at=T0 + 9 * H, status="delivered")).signals
        assert signal.change is SignalChange.CLEARED and signal.title == "订单 SO1 已签收"
        assert map_entry(orders.state, RULES) is None

    def test_delivery_of_an_order_never_announced_sends_nothing(self) -> None:
        orders = Orders()
        orders.feed(change())
        assert orders.feed(change(at=T0 + H, status="delivered")).signals == ()

    def test_an_estimate_back_within_the_promise_clears(self) -> None:
        orders = Orders()
        orders.feed(change(late=5))
        (signal,) = orders.feed(change(at=T0 + H, late=-1)).signals
        assert signal.change is SignalChange.CLEARED


class TestEventTime:
    def test_an_out_of_order_change_changes_nothing(self) -> None:
        """A late 'delayed' older than the delivery neither reopens nor counts."""
        orders = Orders()
        orders.feed(change(late=5))
        orders.feed(change(at=T0 + 9 * H, status="delivered"))
        before = orders.state
        result = orders.feed(change(at=T0 + 2 * H, late=40))
        assert result.signals == () and result.state == before
        assert map_entry(orders.state, RULES) is None

    def test_the_same_change_twice_changes_nothing(self) -> None:
        orders = Orders()
        item = change(late=5)
        orders.feed(item)
        assert orders.feed(item).signals == ()

    def test_signal_ids_are_deterministic(self) -> None:
        item = change(late=5)
        assert Orders().feed(item).signals == Orders().feed(item).signals

    def test_a_future_stamp_is_judged_at_now(self) -> None:
        result = Orders().feed(change(at=T0 + 10 * H, late=1), now=T0)
        assert result.signals[0].at == T0


class TestDelayMap:
    def test_the_map_entry_follows_the_worst_state(self) -> None:
        orders = Orders()
        orders.feed(change(late=30))
        entry = map_entry(orders.state, RULES)
        assert entry is not None and (entry.state, entry.delay_hours) == (DelayState.DELAYED, 30)
        orders.feed(change(at=T0 + H, status="exception", late=30))
        entry = map_entry(orders.state, RULES)
        assert entry is not None and entry.state is DelayState.EXCEPTION


class TestOverdue:
    def test_a_silent_order_past_its_promise_is_raised_by_the_check(self) -> None:
        orders = Orders()
        orders.feed(change())
        assert orders.state is not None
        assert next_check(orders.state, RULES) == T0 + 4 * H
        result = check_overdue(orders.state, T0 + 5 * H, RULES)
        (signal,) = result.signals
        assert signal.delay is not None and signal.delay.bucket == "delay-under-24h"
        assert result.state is not None and next_check(result.state, RULES) == T0 + 28 * H
        assert check_overdue(result.state, T0 + 6 * H, RULES).signals == ()
        (later,) = check_overdue(result.state, T0 + 29 * H, RULES).signals
        assert later.delay is not None and later.delay.bucket == "delay-24-48h"

    def test_a_check_on_a_delivered_order_does_nothing(self) -> None:
        orders = Orders()
        orders.feed(change(status="delivered"))
        assert orders.state is not None and next_check(orders.state, RULES) is None
        assert check_overdue(orders.state, T0 + 50 * H, RULES).signals == ()
