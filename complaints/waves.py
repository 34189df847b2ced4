"""Logistics waves (issue #16): many orders of one region x carrier delayed at once, one parent.

Pure; time comes with the signals. The grouping stage sees every order's delay signal (the
order tracker's, complaints/logistics.py) and keeps, per route (region x carrier), the orders
delayed right now. When `logistics.wave.min_orders` of them began their delay within
`logistics.wave.within`, a wave opens: one parent alert whose members are those orders (their
customers' delay alerts, which the notifier then holds back), growing as more orders are
delayed. Surging keys explained by the wave's customers (the region, the carrier, the logistics
category) become its facets instead of surges of their own, and an open surge incident that
the wave explains is folded into it. The wave ends when none of its orders is delayed any more.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from complaints.grouping import (
    WAVE_CASE_PREFIX,
    WAVE_RULE,
    DelayedOrder,
    GroupBook,
    Grouped,
    GroupStep,
    Incident,
    RouteTally,
    add_members,
    announce_facets,
    fingerprint,
    parent_signal,
    remembered,
    route_of,
)
from complaints.per_tuple import PerTuple
from complaints.rules import RuleBook
from complaints.surge_incidents import adopt_pending
from streams.records import AlertKind, GroupMember, Signal, SignalChange

#: Orders remembered per route beyond the wave's member bound (the oldest go first).
_TRACKED_PER_MEMBER = 5


def on_delay(book: GroupBook, signal: Signal, rules: RuleBook) -> GroupStep:
    """Fold one order's delay signal (raised or cleared) into its route."""
    if (
        signal.kind is not AlertKind.LOGISTICS_DELAY
        or signal.group is not None
        or not (signal.region and signal.carrier and signal.order_id)
    ):
        return GroupStep(book, (), Grouped.IGNORED)
    tally = next(
        (t for t in book.routes if (t.region, t.carrier) == (signal.region, signal.carrier)),
        RouteTally(region=signal.region, carrier=signal.carrier),
    )
    if signal.signal_id in tally.recent:
        return GroupStep(book, (), Grouped.DUPLICATE)
    tally = tally.model_copy(update={"recent": remembered(tally.recent, signal.signal_id)})
    wave = _wave_of(book, signal.region, signal.carrier)
    if signal.change is SignalChange.CLEARED:
        return _cleared(book, tally, wave, signal, rules)
    return _raised(book, tally, wave, signal, rules)


def _wave_of(book: GroupBook, region: str, carrier: str) -> Incident | None:
    return next(
        (
            i
            for i in book.incidents
            if i.kind == "wave" and (i.region, i.carrier) == (region, carrier)
        ),
        None,
    )


def _raised(
    book: GroupBook, tally: RouteTally, wave: Incident | None, signal: Signal, rules: RuleBook
) -> GroupStep:
    order_id = signal.order_id or ""  # on_delay checked it is set
    hours = signal.delay.delay_hours if signal.delay else 0.0
    known = _ORDERS(tally.delayed).by_order.get(order_id)
    order = DelayedOrder(
        order_id=order_id,
        case_key=signal.case_key,
        since=known.since if known else signal.at,
        delay_hours=hours,
    )
    horizon = signal.at - rules.logistics.forget_after
    limit = _TRACKED_PER_MEMBER * rules.grouping.max_members
    tally = tally.model_copy(update={"delayed": _renewed(tally.delayed, order, horizon, limit)})
    book = _with_tally(book, tally)
    if wave is not None:
        wave = _add_orders(wave, (order,), signal.at, rules)
        return _show(book, wave, rules)
    # Delays that began within `within` of this one (at - since <= within: exact datetimes,
    # compared with one bound instead of a subtraction per order).
    began = signal.at - rules.logistics.wave.within
    recent = sum(1 for d in tally.delayed if d.since >= began)
    if recent < rules.logistics.wave.min_orders:
        return GroupStep(book, (), Grouped.ABSORBED)
    return _open(book, tally, signal.at, rules)


def _open(book: GroupBook, tally: RouteTally, at: datetime, rules: RuleBook) -> GroupStep:
    route = route_of(tally.region, tally.carrier)
    wave = Incident(
        incident_id=f"{WAVE_CASE_PREFIX}{route}@{at.isoformat()}",
        kind="wave",
        case_key=f"{WAVE_CASE_PREFIX}{route}"[:200],
        opened_at=at,
        updated_at=at,
        rule_id=WAVE_RULE,
        region=tally.region,
        carrier=tally.carrier,
    )
    wave = _add_orders(wave, tally.delayed, at, rules)
    book, wave = adopt_pending(book, wave, rules)
    signals = []
    for surge in [i for i in book.incidents if i.kind == "surge"]:
        # A surge the wave explains (its contacts are the wave's customers) is the same cause.
        if _covered(surge, wave, rules):
            book = book.without_incident(surge.incident_id)
            facets = {f.key: f for f in (*wave.facets, *surge.facets)}
            wave = wave.model_copy(update={"facets": tuple(facets.values())})
            gone = surge.model_copy(update={"members": (), "member_count": 0})
            signals.append(parent_signal(gone, SignalChange.CLEARED, rules, merged_into=wave))
    wave = announce_facets(wave, rules)
    wave = wave.model_copy(update={"shown": fingerprint(wave, rules)})
    signals.insert(0, parent_signal(wave, SignalChange.RAISED, rules))
    return GroupStep(book.with_incident(wave), tuple(signals), Grouped.OPENED)


def _covered(surge: Incident, wave: Incident, rules: RuleBook) -> bool:
    cases = surge.cases
    return bool(cases) and len(cases & wave.cases) >= rules.surge.explain_share * len(cases)


def _add_orders(
    wave: Incident, orders: tuple[DelayedOrder, ...], at: datetime, rules: RuleBook
) -> Incident:
    new = tuple(GroupMember(case_key=d.case_key, event_id=d.order_id, at=d.since) for d in orders)
    members, fresh = add_members(wave.members, new, rules.grouping.max_members)
    longest = max((d.delay_hours for d in orders), default=0.0)
    return wave.model_copy(
        update={
            "members": members,
            "member_count": wave.member_count + fresh,
            "longest_delay_hours": max(wave.longest_delay_hours, longest),
            "updated_at": max(wave.updated_at, at),
        }
    )


def _cleared(
    book: GroupBook, tally: RouteTally, wave: Incident | None, signal: Signal, rules: RuleBook
) -> GroupStep:
    delayed = _without(tally.delayed, signal.order_id or "")  # on_delay checked it is set
    book = _with_tally(book, tally.model_copy(update={"delayed": delayed}))
    if wave is None:
        return GroupStep(book, (), Grouped.ABSORBED)
    still = _ORDERS(delayed).by_order
    if any(m.event_id in still for m in wave.members):
        wave = wave.model_copy(update={"updated_at": max(wave.updated_at, signal.at)})
        return GroupStep(book.with_incident(wave), (), Grouped.ABSORBED)
    wave = wave.model_copy(update={"updated_at": max(wave.updated_at, signal.at)})
    book = book.without_incident(wave.incident_id)
    book = _with_tally(book, tally.model_copy(update={"delayed": delayed}))  # drop it if empty
    return GroupStep(book, (parent_signal(wave, SignalChange.CLEARED, rules),), Grouped.CLOSED)


def _show(book: GroupBook, wave: Incident, rules: RuleBook) -> GroupStep:
    wave = announce_facets(wave, rules)
    shown = fingerprint(wave, rules)
    if shown == wave.shown:
        return GroupStep(book.with_incident(wave), (), Grouped.ABSORBED)
    wave = wave.model_copy(update={"shown": shown})
    signal = parent_signal(wave, SignalChange.RAISED, rules)
    return GroupStep(book.with_incident(wave), (signal,), Grouped.UPDATED)


class _Orders(NamedTuple):
    """A route's delayed orders by id, in their order (the first, should an id repeat), and
    a lower bound of when they began: a busy route holds up to a thousand, and a delay signal
    looked each up one by one (issue #17)."""

    by_order: dict[str, DelayedOrder]
    oldest: datetime | None
    unique: bool


def _orders_of(delayed: tuple[DelayedOrder, ...]) -> _Orders:
    by_order: dict[str, DelayedOrder] = {}
    for d in delayed:
        by_order.setdefault(d.order_id, d)
    oldest = min((d.since for d in delayed), default=None)
    return _Orders(by_order, oldest, len(by_order) == len(delayed))


#: A few routes are busy at a time; a route not remembered is read again, nothing else.
_ORDERS: PerTuple[_Orders] = PerTuple(_orders_of, kept=64)


def _renewed(
    delayed: tuple[DelayedOrder, ...], order: DelayedOrder, horizon: datetime, limit: int
) -> tuple[DelayedOrder, ...]:
    """The route's orders with `order` last (in place of its earlier self), those begun
    before `horizon` forgotten, the newest `limit` kept."""
    route = _ORDERS(delayed)
    if not route.unique or (route.oldest is not None and route.oldest < horizon):
        others = [d for d in delayed if d.order_id != order.order_id and d.since >= horizon]
        return (*others, order)[-limit:]
    by_order = dict(route.by_order)
    by_order.pop(order.order_id, None)
    by_order[order.order_id] = order
    while len(by_order) > limit:
        del by_order[next(iter(by_order))]
    renewed = tuple(by_order.values())
    oldest = order.since if route.oldest is None else min(route.oldest, order.since)
    _ORDERS.remember(renewed, _Orders(by_order, oldest, True))  # a lower bound stays one
    return renewed


def _without(delayed: tuple[DelayedOrder, ...], order_id: str) -> tuple[DelayedOrder, ...]:
    """The route's orders but `order_id`."""
    route = _ORDERS(delayed)
    if order_id not in route.by_order:
        return delayed
    if not route.unique:
        return tuple(d for d in delayed if d.order_id != order_id)
    by_order = dict(route.by_order)
    del by_order[order_id]
    rest = tuple(by_order.values())
    _ORDERS.remember(rest, route._replace(by_order=by_order))
    return rest


def _with_tally(book: GroupBook, tally: RouteTally) -> GroupBook:
    route = tally.route
    others = tuple(t for t in book.routes if t.route != route)
    kept = (
        (*others, tally) if tally.delayed or _wave_of(book, tally.region, tally.carrier) else others
    )
    return book.model_copy(update={"routes": kept})
