"""Alert events and subscriptions to start push tests from; tests change one thing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notify import Filters, Mention, PushFormat, Subscription
from streams.records import (
    Alert,
    AlertEvent,
    AlertStatus,
    Category,
    ClockKind,
    Compensation,
    Cue,
    Emotion,
    SlaClock,
    Source,
    Transition,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing, a Monday

# Personal data planted in customer text: none of it may reach a receiver.
PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"  # GB 11643 check character valid
EMAIL = "zhang.san@example.com"
CARD_NUMBER = "6222020200112233446"  # Luhn-valid
PLANTED = (PHONE, ID_NUMBER, EMAIL, CARD_NUMBER)

CALLBACK_SECRET = b"callback-secret-for-tests-0123456789"
JSON_SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="  # base64 of a test key
DINGTALK_SECRET = "SECtest0123456789abcdef"
FEISHU_SECRET = "feishu-test-secret"


def make_alert(**overrides: Any) -> Alert:
    """A tier-1, open, angry logistics complaint with a breached first-action clock."""
    clock = SlaClock(
        kind=ClockKind.FIRST_ACTION,
        target=timedelta(hours=2),
        calendar="24x7",
        warn_at=(0.75,),
        started_at=T0,
        running_since=T0,
        due_at=T0 + timedelta(hours=2),
        warned=(0.75,),
        breached_at=T0 + timedelta(hours=2),
    )
    values: dict[str, Any] = {
        "alert_id": "al-7f3a9c",
        "version": 4,
        "case_key": "customer:c1001",
        "customer_id": "c1001",
        "order_id": "SO123",
        "tier": 1,
        "status": AlertStatus.OPEN,
        "rule_id": "anger",
        "rules_version": "2026-11-01",
        "why": (Cue(kind="emotion", term="态度差", label="anger", weight=1.0),),
        "opened_at": T0,
        "updated_at": T0 + timedelta(hours=2),
        "contacts": 2,
        "sources": (Source.CALL,),
        "event_ids": ("e1", "e2"),
        "category": Category.LOGISTICS,
        "emotion": Emotion.ANGER,
        "intensity": 82,
        "threats": ("投诉",),
        "keywords": ("太慢", "态度差"),
        "excerpt": "快递三天了还没到，客服态度差，我要投诉！",
        "region": "华南-广州",
        "carrier": "顺达快运",
        "clocks": (clock,),
        "compensation": Compensation(
            rung="emotional",
            label="情感补偿",
            actions=("专属客服", "50 元券"),
            amount_yuan=50,
            needs_approval=False,
            rule_id="delay-gt-48h",
        ),
    }
    values.update(overrides)
    return Alert(**values)


def make_alert_event(
    transition: Transition = Transition.BREACHED, *, at: datetime | None = None, **alert: Any
) -> AlertEvent:
    """A lifecycle record of `make_alert(**alert)`."""
    snapshot = make_alert(**alert)
    return AlertEvent(
        record_id=f"{snapshot.alert_id}:{snapshot.version}",
        alert_id=snapshot.alert_id,
        version=snapshot.version,
        transition=transition,
        at=at or T0 + timedelta(hours=2),
        rule_id=snapshot.rule_id,
        detail="首次响应时限已过",
        alert=snapshot,
    )


def with_pii(event: AlertEvent) -> AlertEvent:
    """`event` with unmasked personal data planted wherever customer text can be."""
    pii = f"手机{PHONE}，身份证{ID_NUMBER}，邮箱{EMAIL}，卡号{CARD_NUMBER}"
    alert = event.alert.model_copy(
        update={
            "excerpt": f"{pii}，快递太慢了！",
            "keywords": (PHONE, EMAIL),
            "threats": (f"投诉{PHONE}",),
            "why": (Cue(kind="negative_term", term=ID_NUMBER, weight=1.0),),
            "escalated_to": f"王经理 {PHONE}",
            "assignee": EMAIL,
            "region": f"华南{PHONE}",
            "customer_id": PHONE,
        }
    )
    return event.model_copy(
        update={"detail": f"客户留了电话 {PHONE} 和 {EMAIL}", "actor": PHONE, "alert": alert}
    )


def subscription(fmt: PushFormat = PushFormat.JSON, **overrides: Any) -> Subscription:
    """An enabled subscription of `fmt` pointing at `url` (default: a placeholder)."""
    secrets = {
        PushFormat.JSON: JSON_SECRET,
        PushFormat.DINGTALK: DINGTALK_SECRET,
        PushFormat.FEISHU: FEISHU_SECRET,
        PushFormat.WECOM: None,
    }
    values: dict[str, Any] = {
        "id": f"sub-{fmt.value}",
        "name": f"值班群 {fmt.value}",
        "format": fmt,
        "url": "https://hooks.example.com/robot/send?key=ROBOT-KEY-123456",
        "secret": secrets[fmt],
        "filters": Filters(),
        "mention": Mention(),
    }
    values.update(overrides)
    return Subscription(**values)
