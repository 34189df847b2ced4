"""Order tracking: shipment status changes -> proactive delay signals and the delay-map entry.

Pure. One `OrderState` per order id. A shipment is a condition when the carrier reports an
exception or a loss, or when it will miss its promise: the current estimate is past the promised
time, or the promise has passed undelivered. Each condition gets the delay bucket, the tier and
the compensation from the rule book (`logistics:`). Signals go out only when what they say
changes (status class, tier, bucket, estimate); delivery clears. Event time rules: a change older
than the last one applied changes nothing, so a late or replayed event never reopens or re-counts.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from complaints.rules import DelayBucket, RuleBook, Rung
from streams.records import (
    AlertKind,
    Category,
    Compensation,
    Cue,
    DelayDetail,
    DelayMapEntry,
    DelayState,
    LogisticsChange,
    ShipmentStatus,
    Signal,
    SignalChange,
)

_DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")
_HOUR = timedelta(hours=1)


class Announced(NamedTuple):
    """What the last RAISED signal said; a new one goes out only when this changes."""

    state: DelayState
    tier: int
    bucket: str
    promised_at: datetime
    estimated_at: datetime | None


class OrderState(BaseModel):
    """Everything the tracker keeps per order (one Faust table entry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    customer_id: str
    status: ShipmentStatus
    promised_at: datetime
    estimated_at: datetime | None = None
    region: str
    carrier: str
    sku: str | None = None
    batch: str | None = None
    changed_at: datetime  # event time of the last applied change
    event_id: str
    as_of: datetime  # the latest moment judged: the last change, or a later overdue check
    announced: Announced | None = None  # None: no open proactive alert

    @property
    def case_key(self) -> str:
        return f"customer:{self.customer_id}"


class Tracked(NamedTuple):
    state: OrderState | None
    signals: tuple[Signal, ...]


class _Condition(NamedTuple):
    state: DelayState
    tier: int
    delay: timedelta
    bucket: DelayBucket


def track(
    state: OrderState | None, change: LogisticsChange, now: datetime, rules: RuleBook
) -> Tracked:
    """Apply one status change (event time `change.occurred_at`, never later than `now`)."""
    at = min(change.occurred_at, now)
    if state is not None and (
        at < state.changed_at or (at == state.changed_at and change.event_id == state.event_id)
    ):
        return Tracked(state, ())  # older news (or the same news): changes nothing
    estimate = change.estimated_at
    if estimate is None and state is not None and change.status is not ShipmentStatus.DELIVERED:
        estimate = state.estimated_at  # a status change without a new estimate keeps the last one
    updated = OrderState(
        order_id=change.order_id,
        customer_id=change.customer_id,
        status=change.status,
        promised_at=change.promised_at,
        estimated_at=estimate,
        region=change.region,
        carrier=change.carrier,
        sku=change.sku,
        batch=change.batch,
        changed_at=at,
        event_id=change.event_id,
        as_of=max(at, state.as_of) if state is not None else at,
        announced=state.announced if state is not None else None,
    )
    return _announce(
        updated, condition_of(updated, updated.as_of, rules), at, change.event_id, rules
    )


def check_overdue(state: OrderState, now: datetime, rules: RuleBook) -> Tracked:
    """Judge a silent order again at `now`: its promise (or a bucket bound) may have passed."""
    if now <= state.as_of:
        return Tracked(state, ())
    updated = state.model_copy(update={"as_of": now})
    condition = condition_of(updated, now, rules)
    evidence = f"overdue:{condition.bucket.id if condition else 'none'}"
    return _announce(updated, condition, now, evidence, rules)


def next_check(state: OrderState, rules: RuleBook) -> datetime | None:
    """When time alone could change what the order says: its promise, then each bucket bound."""
    if state.status is ShipmentStatus.DELIVERED:
        return None
    moments = [state.promised_at] + [
        moment
        for b in rules.logistics.buckets
        if b.up_to is not None and (moment := _later(state.promised_at, b.up_to)) is not None
    ]
    return min((m for m in moments if m > state.as_of), default=None)


def _later(moment: datetime, delta: timedelta) -> datetime | None:
    """`moment + delta`, or None past the calendar's end (a stored order from before dates
    were bounded must not crash the timer on every start)."""
    try:
        return moment + delta
    except OverflowError:
        return None


def condition_of(state: OrderState, at: datetime, rules: RuleBook) -> _Condition | None:
    """The delay condition of an order as of `at`, or None when it is on time (or delivered)."""
    if state.status is ShipmentStatus.DELIVERED:
        return None
    late = [timedelta(0)]
    if state.estimated_at is not None:
        late.append(state.estimated_at - state.promised_at)
    late.append(at - state.promised_at)  # the promise passed and it is still not delivered
    delay = max(late)
    policy = rules.logistics
    if state.status is ShipmentStatus.LOST:
        kind = DelayState.LOST
    elif state.status is ShipmentStatus.EXCEPTION:
        kind = DelayState.EXCEPTION
    elif state.status is ShipmentStatus.DELAYED or delay > timedelta(0):
        kind = DelayState.DELAYED
    else:
        return None
    tier = policy.tiers[ShipmentStatus(kind.value)]
    return _Condition(kind, tier, delay, policy.bucket_for(delay))


def _announce(
    state: OrderState, condition: _Condition | None, at: datetime, evidence: str, rules: RuleBook
) -> Tracked:
    if condition is None:
        if state.announced is None:
            return Tracked(state, ())
        cleared = _signal(state, None, SignalChange.CLEARED, at, evidence, rules)
        return Tracked(state.model_copy(update={"announced": None}), (cleared,))
    what = Announced(
        condition.state,
        condition.tier,
        condition.bucket.id,
        state.promised_at,
        state.estimated_at,
    )
    if what == state.announced:
        return Tracked(state, ())
    raised = _signal(state, condition, SignalChange.RAISED, at, evidence, rules)
    return Tracked(state.model_copy(update={"announced": what}), (raised,))


def map_entry(state: OrderState | None, rules: RuleBook) -> DelayMapEntry | None:
    """The order's line on the delay map, or None when it is not delayed (or delivered)."""
    if state is None:
        return None
    condition = condition_of(state, state.as_of, rules)
    if condition is None:
        return None
    return DelayMapEntry(
        order_id=state.order_id,
        region=state.region,
        carrier=state.carrier,
        state=condition.state,
        delay_hours=round(condition.delay / _HOUR, 2),
        at=state.as_of,
    )


def compensation_for(condition: _Condition, rules: RuleBook) -> Compensation:
    """The bucket's coupon (and dedicated agent above 48 h), plus the status's own actions."""
    bucket = condition.bucket
    rung: Rung = "emotional" if bucket.dedicated_agent else "basic"
    actions = (f"{bucket.coupon_yuan}元优惠券",) if bucket.coupon_yuan else ()
    if bucket.dedicated_agent:
        actions = (*actions, "专属客服")
    extra = rules.logistics.status_actions.get(ShipmentStatus(condition.state.value), ())
    return Compensation(
        rung=rung,
        label=rules.compensation.rungs[rung].label,
        actions=(*actions, *extra),
        amount_yuan=bucket.coupon_yuan,
        needs_approval=bucket.coupon_yuan > rules.compensation.front_line_limit_yuan,
        rule_id=bucket.id,
    )


def signal_id_for(order_id: str, evidence: str, change: SignalChange) -> str:
    """Deterministic: the same change of the same order, replayed, is the same signal."""
    digest = hashlib.sha256(f"{order_id}|{evidence}|{change.value}".encode()).hexdigest()
    return f"dl-{digest[:24]}"


def _signal(
    state: OrderState,
    condition: _Condition | None,
    change: SignalChange,
    at: datetime,
    evidence: str,
    rules: RuleBook,
) -> Signal:
    delay = _detail(state, condition)
    if condition is None:
        title = (
            f"订单 {state.order_id} 已签收"
            if state.status is ShipmentStatus.DELIVERED
            else f"订单 {state.order_id} 预计可按时送达"
        )
        rule_id, tier, compensation = "delay-cleared", 3, None
        why: tuple[Cue, ...] = ()
    else:
        title = _title(state.order_id, condition)
        rule_id = _rule_id(condition)
        tier, compensation = condition.tier, compensation_for(condition, rules)
        why = _why(state, condition)
    return Signal(
        signal_id=signal_id_for(state.order_id, evidence, change),
        case_key=state.case_key,
        kind=AlertKind.LOGISTICS_DELAY,
        subject=state.order_id,
        change=change,
        at=at,
        tier=tier,  # type: ignore[arg-type]
        rule_id=rule_id,
        title=title,
        why=why,
        customer_id=state.customer_id,
        order_id=state.order_id,
        sku=state.sku,
        batch=state.batch,
        region=state.region,
        carrier=state.carrier,
        category=Category.LOGISTICS,
        compensation=compensation,
        delay=delay,
    )


def _detail(state: OrderState, condition: _Condition | None) -> DelayDetail:
    return DelayDetail(
        status=state.status,
        promised_at=state.promised_at,
        estimated_at=state.estimated_at,
        delay_hours=round(condition.delay / _HOUR, 2) if condition else 0.0,
        bucket=condition.bucket.id if condition else "on-time",
        bucket_label=condition.bucket.label if condition else "",
    )


def _rule_id(condition: _Condition) -> str:
    if condition.state is DelayState.DELAYED:
        return condition.bucket.id
    return f"delay-{condition.state.value}"  # delay-lost, delay-exception


def _title(order_id: str, condition: _Condition) -> str:
    hours = condition.delay / _HOUR
    late = f"，已延误约 {hours:.0f} 小时" if hours >= 1 else ""
    if condition.state is DelayState.LOST:
        return f"订单 {order_id} 包裹丢失{late}"
    if condition.state is DelayState.EXCEPTION:
        return f"订单 {order_id} 承运商报告异常{late}"
    if hours < 1:
        return f"订单 {order_id} 物流延误（{condition.bucket.label}）"
    return f"订单 {order_id} 预计延误 {hours:.0f} 小时（{condition.bucket.label}）"


def _why(state: OrderState, condition: _Condition) -> tuple[Cue, ...]:
    cues = [
        Cue(kind="shipment_status", term=state.status.value, label=state.carrier, weight=1.0),
        Cue(
            kind="promised_at",
            term=f"承诺 {_local(state.promised_at)}"
            + (f" · 预计 {_local(state.estimated_at)}" if state.estimated_at else ""),
            label=condition.bucket.id,
            weight=round(condition.delay / _HOUR, 2),
        ),
    ]
    return tuple(cues)


def _local(moment: datetime) -> str:
    return moment.astimezone(_DISPLAY_ZONE).strftime("%m-%d %H:%M")
