"""Valid upstream events to start tests from; tests change one thing and look at the result."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.records import (
    ActionKind,
    Alert,
    AlertAction,
    AlertKind,
    AssessedEvent,
    Assessment,
    Category,
    Cue,
    DelayDetail,
    Emotion,
    ShipmentStatus,
    Signal,
    SignalChange,
    Source,
    Tick,
)

_counter = itertools.count(1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def make_event(
    source: Source, /, *, at: datetime | None = None, **overrides: Any
) -> dict[str, Any]:
    """A valid event of `source` as a JSON-ready dict; `overrides` replace or add fields."""
    moment = at or now_utc()
    number = next(_counter)
    base: dict[str, Any] = {"event_id": f"t-{source.value}-{number}", "occurred_at": iso(moment)}
    if source is Source.CALL:
        base |= {
            "call_id": f"call-{number}",
            "customer_id": "cust-1",
            "text": "快递三天了还没到，你们到底管不管？",
        }
    elif source is Source.SOCIAL:
        base |= {
            "post_id": f"p{number}",
            "platform": "weibo",
            "author": "小王",
            "text": "新手机发热严重，客服敷衍",
        }
    elif source is Source.LOGISTICS:
        base |= {
            "order_id": f"SO{number}",
            "customer_id": "cust-1",
            "status": "delayed",
            "promised_at": iso(moment + timedelta(hours=4)),
            "estimated_at": iso(moment + timedelta(hours=30)),
            "region": "华南-广州",
            "carrier": "顺达快运",
        }
    else:
        base |= {"customer_id": "cust-1", "kind": "login"}
    base.update(overrides)
    return base


def to_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


# -- the response engine ----------------------------------------------------------------------

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing, a Monday


def make_assessment(**overrides: Any) -> Assessment:
    """A negative, calm-ish disappointment about logistics unless told otherwise."""
    values: dict[str, Any] = {
        "scorer_version": "test",
        "polarity": 0.2,
        "negativity": 0.8,
        "negative": True,
        "intensity": 40,
        "emotion": Emotion.DISAPPOINTMENT,
        "category": Category.LOGISTICS,
        "keywords": ("慢",),
        "cues": (Cue(kind="negative_term", term="慢", weight=0.5),),
        "masked_text": "快递太慢了",
    }
    values.update(overrides)
    return Assessment(**values)


def make_assessed(
    *,
    customer: str = "c1",
    at: datetime = T0,
    event_id: str | None = None,
    source: Source = Source.CALL,
    **overrides: Any,
) -> AssessedEvent:
    """A contact of `customer` at `at`; `assessment=` or assessment fields (emotion=…) override."""
    number = next(_counter)
    assessment_fields = {
        k: overrides.pop(k) for k in list(overrides) if k in Assessment.model_fields
    }
    assessment = (
        overrides.pop("assessment")
        if "assessment" in overrides
        else make_assessment(**assessment_fields)
    )
    event_id = event_id or f"e{number}"
    values: dict[str, Any] = {
        "assessment_id": f"{source.value}:{event_id}",
        "case_key": f"customer:{customer}",
        "source": source,
        "event_id": event_id,
        "occurred_at": at,
        "customer_id": customer,
        "assessment": assessment,
    }
    values.update(overrides)
    return AssessedEvent(**values)


def make_action(alert: Alert, kind: ActionKind, at: datetime, **overrides: Any) -> AlertAction:
    values: dict[str, Any] = {
        "action_id": f"act-{next(_counter)}",
        "alert_id": alert.alert_id,
        "case_key": alert.case_key,
        "kind": kind,
        "actor": "王主管",
        "at": at,
    }
    values.update(overrides)
    return AlertAction(**values)


def make_tick(case_key: str, at: datetime) -> Tick:
    return Tick(case_key=case_key, at=at)


def make_signal(
    *,
    customer: str = "c1",
    at: datetime = T0,
    kind: AlertKind = AlertKind.LOGISTICS_DELAY,
    subject: str = "SO1",
    change: SignalChange = SignalChange.RAISED,
    **overrides: Any,
) -> Signal:
    """A detected condition about `customer`: by default order SO1 will be 30 h late (tier 3)."""
    values: dict[str, Any] = {
        "signal_id": f"sig-{next(_counter)}",
        "case_key": f"customer:{customer}",
        "kind": kind,
        "subject": subject,
        "change": change,
        "at": at,
        "tier": 3,
        "rule_id": "delay-24-48h",
        "title": f"订单 {subject} 预计延误 30 小时",
        "customer_id": customer,
        "order_id": subject if kind is AlertKind.LOGISTICS_DELAY else None,
        "category": Category.LOGISTICS,
        "delay": DelayDetail(
            status=ShipmentStatus.DELAYED,
            promised_at=at,
            estimated_at=at + timedelta(hours=30),
            delay_hours=30.0,
            bucket="24_48h",
        )
        if kind is AlertKind.LOGISTICS_DELAY
        else None,
    }
    values.update(overrides)
    return Signal(**values)
