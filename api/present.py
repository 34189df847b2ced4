"""Alerts as people see them: Chinese labels, the most urgent clock, and text masked again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from api.models import AlertPublic, SlaSummary, Suppression, TimelineEntry
from complaints.masking import mask_personal_data
from notify.suppression import Suppressed, describe
from streams.records import (
    ALERT_KIND_LABELS,
    ALERT_STATUS_LABELS,
    CATEGORY_LABELS,
    EMOTION_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    TRANSITION_LABELS,
    Alert,
    AlertEvent,
    Silence,
)


def sla_summary(alert: Alert, now: datetime) -> SlaSummary:
    running = [c for c in alert.clocks if c.stopped_at is None]
    if not alert.clocks:
        return SlaSummary(state="none")
    if not running:
        missed = any(c.met is False for c in alert.clocks)
        return SlaSummary(state="missed" if missed else "met")
    clock = min(running, key=lambda c: c.due_at or datetime.max.replace(tzinfo=now.tzinfo))
    if clock.running_since is None:
        return SlaSummary(state="paused", kind=clock.kind.value)
    state = "breached" if clock.breached_at else "warned" if clock.warned else "running"
    remaining = (clock.due_at - now).total_seconds() if clock.due_at else None
    return SlaSummary(
        state=state, kind=clock.kind.value, due_at=clock.due_at, remaining_seconds=remaining
    )


def present_alert(
    alert: Alert, now: datetime, suppressed: Suppression | None = None
) -> AlertPublic:
    labels = {
        "tier": TIER_LABELS[alert.tier],
        "status": ALERT_STATUS_LABELS[alert.status],
        "sources": "、".join(SOURCE_LABELS[s] for s in alert.sources),
        "kind": ALERT_KIND_LABELS[alert.kind],
    }
    if alert.emotion:
        labels["emotion"] = EMOTION_LABELS[alert.emotion]
    if alert.category:
        labels["category"] = CATEGORY_LABELS[alert.category]
    update: dict[str, object] = {
        "excerpt": mask_personal_data(alert.excerpt).text,
        "title": mask_personal_data(alert.title).text,
    }
    if alert.surge is not None:
        examples = tuple(mask_personal_data(t).text for t in alert.surge.examples)
        update["surge"] = alert.surge.model_copy(update={"examples": examples})
    if alert.group is not None:  # a parent incident: its members' texts, masked again
        examples = tuple(mask_personal_data(t).text for t in alert.group.examples)
        update["group"] = alert.group.model_copy(update={"examples": examples})
        labels["members"] = f"{alert.group.member_count} 条成员"
    masked = alert.model_copy(update=update)
    if alert.group is not None:
        examples = tuple(mask_personal_data(t).text for t in alert.group.examples)
        masked = masked.model_copy(
            update={"group": alert.group.model_copy(update={"examples": examples})}
        )
    return AlertPublic(
        **masked.model_dump(),
        labels=labels,
        sla=sla_summary(alert, now),
        suppressed=suppressed,
    )


def present_suppression(
    suppressed: Suppressed | None, alerts: Mapping[str, Alert], silences: Mapping[str, Silence]
) -> Suppression | None:
    """Why the alert's pushes are held, for people (None: they go out)."""
    if suppressed is None:
        return None
    return Suppression(
        reason=suppressed.reason.lower(),
        by=suppressed.by,
        rule_id=suppressed.rule_id,
        text=describe(suppressed, alerts, silences),
    )


def present_entry(record: AlertEvent) -> TimelineEntry:
    return TimelineEntry(
        record_id=record.record_id,
        version=record.version,
        transition=record.transition.value,
        label=TRANSITION_LABELS[record.transition],
        at=record.at,
        actor=record.actor,
        rule_id=record.rule_id,
        detail=mask_personal_data(record.detail).text,
        tier=record.alert.tier,
        status=record.alert.status.value,
    )
