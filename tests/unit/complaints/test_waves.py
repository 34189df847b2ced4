"""Logistics waves: many delayed orders of one region x carrier become one parent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.grouping import GroupBook, Grouped
from streams.records import AlertKind, ParentOutcome, Signal, SignalChange, SurgeChange
from tests.factories import T0, make_signal
from tests.unit.complaints.test_engine import _rules_with
from tests.unit.complaints.test_surge_incidents import OLD, RULES, Feed, report

M = timedelta(minutes=1)
H = timedelta(hours=1)
ROUTE = {"region": "华南-广州", "carrier": "顺达快运"}


def delay(
    n: int,
    at: datetime = T0,
    *,
    change: SignalChange = SignalChange.RAISED,
    hours: float = 30.0,
    **route: str,
) -> Signal:
    where = {**ROUTE, **route}
    signal = make_signal(
        customer=f"w{n}",
        subject=f"SO{n}",
        at=at,
        change=change,
        signal_id=f"dl-{n}-{change.value}-{int(at.timestamp())}-{len(where['region'])}{where['region'] == ROUTE['region']}",
        **where,
    )
    assert signal.delay is not None
    return signal.model_copy(
        update={"delay": signal.delay.model_copy(update={"delay_hours": hours})}
    )


class TestOpening:
    @pytest.mark.parametrize(
        ("spacing", "orders", "opens"),
        [
            (M, 5, True),  # five orders within minutes: the hub is down
            (M, 4, False),  # one short of the rule
            (40 * M, 5, False),  # the fifth delay began more than 2 h after the first
        ],
    )
    def test_min_orders_within_the_window_open_one_wave(
        self, spacing: timedelta, orders: int, opens: bool
    ) -> None:
        feed = Feed()
        feed(*(delay(i, T0 + i * spacing) for i in range(orders)))
        assert len(feed.opened()) == (1 if opens else 0)

    @pytest.mark.parametrize(
        ("late", "opens"), [(timedelta(0), True), (timedelta(microseconds=1), False)]
    )
    def test_the_window_holds_a_delay_that_began_exactly_its_length_before(
        self, late: timedelta, opens: bool
    ) -> None:
        """The first of five delays began `wave.within` before the fifth: it counts; a
        microsecond earlier it does not."""
        within = RULES.logistics.wave.within
        first = T0 - late
        feed = Feed()
        feed(delay(0, first), *(delay(i, T0 + within - (4 - i) * M) for i in range(1, 5)))
        assert len(feed.opened()) == (1 if opens else 0)

    def test_the_wave_lists_its_orders_and_their_customers(self) -> None:
        feed = Feed()
        feed(*(delay(i, T0 + i * M, hours=10 * (i + 1)) for i in range(5)))
        (wave,) = feed.opened()
        assert (wave.kind, wave.tier, wave.rule_id) == (
            AlertKind.LOGISTICS_DELAY,
            2,
            "logistics-wave",
        )
        assert (wave.case_key, wave.region, wave.carrier) == (
            "wave:华南-广州|顺达快运",
            "华南-广州",
            "顺达快运",
        )
        group = wave.group
        assert group is not None and group.member_kind is AlertKind.LOGISTICS_DELAY
        assert group.member_order_ids == tuple(f"SO{i}" for i in range(5))
        assert group.member_case_keys == tuple(f"customer:w{i}" for i in range(5))
        assert group.on_resolve is ParentOutcome.RESOLVE
        assert wave.title == "物流延误波次 · 华南-广州 × 顺达快运：5 单延误，最长约 50 小时"
        assert wave.compensation is not None and "联系承运商核实" in wave.compensation.actions

    def test_other_routes_do_not_count(self) -> None:
        feed = Feed()
        feed(
            *(delay(i, T0 + i * M, region="华东-上海" if i % 2 else "华南-广州") for i in range(8))
        )
        assert feed.opened() == []


class TestGrowingAndEnding:
    def _open(self) -> Feed:
        feed = Feed()
        feed(*(delay(i, T0 + i * M) for i in range(5)))
        return feed

    def test_each_newly_delayed_order_joins_and_updates_it(self) -> None:
        feed = self._open()
        (update,) = feed(delay(9, T0 + 10 * M))
        assert update.group is not None and update.group.member_count == 6
        assert "SO9" in update.group.member_order_ids and "6 单" in update.title

    def test_a_new_estimate_of_a_member_does_not_count_it_twice(self) -> None:
        feed = self._open()
        feed(delay(2, T0 + 20 * M, hours=30.0))
        assert feed.latest().group is not None and feed.latest().group.member_count == 5  # type: ignore[union-attr]

    def test_it_ends_when_none_of_its_orders_is_delayed_any_more(self) -> None:
        feed = self._open()
        ends = [feed(delay(i, T0 + H + i * M, change=SignalChange.CLEARED)) for i in range(5)]
        assert [len(e) for e in ends] == [0, 0, 0, 0, 1]
        assert ends[-1][0].change is SignalChange.CLEARED
        assert feed.book is not None and feed.book.incidents == () and feed.book.routes == ()

    def test_a_replayed_signal_is_one_change(self) -> None:
        feed = self._open()
        again = delay(4, T0 + 4 * M)
        assert feed(again) == [] and feed.steps[-1].reason is Grouped.DUPLICATE

    def test_the_parents_own_signals_are_not_orders(self) -> None:
        feed = self._open()
        parent = feed.latest()
        assert feed(parent) == [] and feed.steps[-1].reason is Grouped.IGNORED

    def test_the_rule_is_data(self) -> None:
        feed = Feed(_rules_with({"logistics": {"wave": {"min_orders": 3, "tier": 1}}}))
        feed(*(delay(i, T0 + i * M) for i in range(3)))
        (wave,) = feed.opened()
        assert wave.tier == 1


class TestWithSurges:
    def test_surging_keys_of_the_waves_customers_become_its_facets(self) -> None:
        feed = Feed()
        customers = [f"customer:w{i}" for i in range(6)]
        feed(report("carrier:顺达快运", customers, first_seen=T0, new_key=True, expected=0.2))
        feed(*(delay(i, T0 + i * M) for i in range(6)))
        assert [s.kind for s in feed.opened()] == [AlertKind.LOGISTICS_DELAY]
        group = feed.latest().group
        assert group is not None and [(f.dimension, f.explains) for f in group.facets] == [
            ("carrier", True)
        ]

    def test_a_surge_the_wave_explains_is_folded_into_it(self) -> None:
        feed = Feed()
        customers = [f"customer:w{i}" for i in range(6)]
        feed(report("region:华南-广州", customers, first_seen=OLD))
        surge = feed.latest()
        assert surge.kind is AlertKind.SURGE
        feed(*(delay(i, T0 + i * M) for i in range(6)))
        assert feed.latest(surge.subject).change is SignalChange.CLEARED
        wave = feed.latest()
        assert wave.kind is AlertKind.LOGISTICS_DELAY and wave.group is not None
        assert [f.dimension for f in wave.group.facets] == ["region"]
        # the region key's later contacts update the wave, not a new surge
        feed(report("region:华南-广州", ["customer:w1"], change=SurgeChange.JOINED, at=T0 + H))
        assert len(feed.opened()) == 2


class TestBusyRoutes:
    """A route remembers up to `5 × grouping.max_members` delayed orders, forgetting those begun
    more than `logistics.forget_after` ago: the orders are looked up by id (issue #17), and what
    the route holds must be what the plain rule says, whether the stage carried its book in
    memory or read it back from the table at every input."""

    RULES = _rules_with({"grouping": {"max_members": 2}})  # a route keeps 10 orders

    @staticmethod
    def _plain(
        delayed: list[tuple[str, datetime]], signal: Signal, rules: object
    ) -> list[tuple[str, datetime]]:
        """The route's (order, since) after `signal`, by the rule as written."""
        order = signal.order_id or ""
        if signal.change is SignalChange.CLEARED:
            return [d for d in delayed if d[0] != order]
        known = next((d for d in delayed if d[0] == order), None)
        since = known[1] if known else signal.at
        horizon = signal.at - rules.logistics.forget_after  # type: ignore[attr-defined]
        others = [d for d in delayed if d[0] != order and d[1] >= horizon]
        return [*others, (order, since)][-5 * rules.grouping.max_members :]  # type: ignore[attr-defined]

    @settings(max_examples=150, deadline=None)
    @given(
        steps=st.lists(
            st.tuples(
                st.integers(0, 14),  # the order
                st.booleans(),  # cleared
                st.integers(0, 24 * 20),  # hours since the step before (45 days forget)
            ),
            min_size=1,
            max_size=60,
        )
    )
    def test_the_route_holds_what_the_rule_says(self, steps: list[tuple[int, bool, int]]) -> None:
        carried = Feed(self.RULES)
        reread = Feed(self.RULES)
        plain: list[tuple[str, datetime]] = []
        at = T0
        for order, cleared, hours in steps:
            at += timedelta(hours=hours, minutes=1)
            change = SignalChange.CLEARED if cleared else SignalChange.RAISED
            signal = delay(order, at, change=change)
            assert carried(signal) == reread(signal)
            if reread.book is not None:  # as a worker that read the table again would have it
                reread.book = GroupBook.from_entries(reread.book.entries().get)
            plain = self._plain(plain, signal, self.RULES)
            assert carried.book is not None and reread.book is not None
            assert carried.book.entries() == reread.book.entries()
            routes = carried.book.routes
            held = [(d.order_id, d.since) for d in routes[0].delayed] if routes else []
            assert held == plain
