"""The measures an operations dashboard shows (seeds 002, 003), computed from records.

Pure. Contacts feed volume and the negative-emotion share (the seed's case went from 35 % to
8 %); alerts feed open-by-tier, SLA met/warned/breached, mean time to acknowledge and to
resolve, and follow-ups due and done. Time is an argument.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from streams.records import Alert, AlertStatus, AssessedEvent, ClockKind

#: Width of one point of the negative-share chart.
BUCKET = timedelta(minutes=15)


def bucket_of(moment: datetime) -> datetime:
    seconds = int(BUCKET.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, moment.tzinfo)


@dataclass
class ContactBook:
    """Running counts of scored contacts by 15-minute bucket, channel and category."""

    buckets: dict[datetime, list[int]] = field(
        default_factory=dict
    )  # start -> [contacts, negative]
    by_channel: dict[datetime, Counter[str]] = field(default_factory=dict)
    by_category: dict[datetime, Counter[str]] = field(default_factory=dict)

    def add(self, contact: AssessedEvent) -> None:
        if contact.assessment is None:
            return
        start = bucket_of(contact.occurred_at)
        counts = self.buckets.setdefault(start, [0, 0])
        counts[0] += 1
        counts[1] += int(contact.assessment.negative)
        self.by_channel.setdefault(start, Counter())[contact.source.value] += 1
        if contact.assessment.negative:
            self.by_category.setdefault(start, Counter())[contact.assessment.category.value] += 1

    def forget_before(self, moment: datetime) -> None:
        for old in [b for b in self.buckets if b < moment]:
            self.buckets.pop(old, None)
            self.by_channel.pop(old, None)
            self.by_category.pop(old, None)


@dataclass(frozen=True)
class AlertTimes:
    """When people first acted on an alert (from its lifecycle records)."""

    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None


def contact_kpis(book: ContactBook, now: datetime, window: timedelta) -> dict[str, object]:
    since = now - window
    chosen = sorted(b for b in book.buckets if b >= bucket_of(since))
    contacts = sum(book.buckets[b][0] for b in chosen)
    negative = sum(book.buckets[b][1] for b in chosen)
    channels: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for b in chosen:
        channels.update(book.by_channel.get(b, Counter()))
        categories.update(book.by_category.get(b, Counter()))
    series = [
        {
            "bucket_start": b.isoformat(),
            "contacts": book.buckets[b][0],
            "negative": book.buckets[b][1],
            "negative_share": round(book.buckets[b][1] / book.buckets[b][0], 4),
        }
        for b in chosen
    ]
    return {
        "contacts": contacts,
        "negative": negative,
        "negative_share": round(negative / contacts, 4) if contacts else None,
        "by_channel": dict(channels),
        "negative_by_category": dict(categories),
        "negative_share_series": series,
    }


def alert_kpis(
    alerts: list[Alert], times: dict[str, AlertTimes], now: datetime, window: timedelta
) -> dict[str, object]:
    since = now - window
    open_alerts = [a for a in alerts if a.status not in (AlertStatus.RESOLVED, AlertStatus.CLOSED)]
    recent = [a for a in alerts if a.opened_at >= since]
    sla: Counter[str] = Counter()
    for alert in recent + [a for a in open_alerts if a.opened_at < since]:
        for clock in alert.clocks:
            if clock.breached_at is not None:
                sla["breached"] += 1
            elif clock.stopped_at is not None:
                sla["met" if clock.met else "missed"] += 1
            elif clock.warned:
                sla["warned"] += 1
            else:
                sla["running"] += 1
    ack = [
        (t.acknowledged_at - a.opened_at).total_seconds()
        for a in recent
        if (t := times.get(a.alert_id)) and t.acknowledged_at
    ]
    resolve = [
        (t.resolved_at - a.opened_at).total_seconds()
        for a in recent
        if (t := times.get(a.alert_id)) and t.resolved_at
    ]
    follow_ups_due = sum(
        1
        for a in alerts
        if a.follow_up and a.follow_up.announced and a.follow_up.recorded_at is None
    )
    follow_ups_done = sum(
        1
        for a in alerts
        if a.follow_up and a.follow_up.recorded_at and a.follow_up.recorded_at >= since
    )
    running_first_action = [
        c
        for a in open_alerts
        for c in a.clocks
        if c.kind is ClockKind.FIRST_ACTION and c.running_since
    ]
    return {
        "open_by_tier": {
            str(tier): sum(1 for a in open_alerts if a.tier == tier) for tier in (1, 2, 3)
        },
        "open_total": len(open_alerts),
        "opened_in_window": len(recent),
        "sla": {key: sla.get(key, 0) for key in ("running", "warned", "breached", "met", "missed")},
        "awaiting_first_action": len(running_first_action),
        "mean_time_to_acknowledge_seconds": round(sum(ack) / len(ack), 1) if ack else None,
        "mean_time_to_resolve_seconds": round(sum(resolve) / len(resolve), 1) if resolve else None,
        "follow_ups": {"due": follow_ups_due, "done": follow_ups_done},
    }
