"""Stages 3-5, group / wait / dedup: alert events gathered per group until the group is due.

Pure. No I/O, no clock reads. A group is the set of alerts of one subscription sharing the
values of the policy's `group_by` labels. Several records of one alert while it waits collapse
into one entry (the latest record speaks; every record id is kept, so the delivery log says
what the message covered). When a group is due (Alertmanager's timers, notify/policy.py):

- its first message `group_wait` after its first pending alert arrived;
- later ones no sooner than `group_interval` after its last message;
- at once when an entry is urgent (an opening or raise to an immediate tier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from notify.policy import Policy
from streams.records import AlertEvent, Transition

__all__ = ["Entry", "Group", "GroupKey", "group_key", "key_text", "urgency"]

#: The group_by labels and their values, e.g. (("tier", "1"), ("kind", "complaint")).
GroupKey = tuple[tuple[str, str], ...]

#: Transitions that make an alert of an immediate tier urgent: it is new, or newly that tier.
_URGENT_TRANSITIONS = frozenset({Transition.OPENED, Transition.TIER_RAISED, Transition.REOPENED})


def group_key(labels: Mapping[str, str], group_by: Sequence[str]) -> GroupKey:
    return tuple((name, labels.get(name, "")) for name in group_by)


def key_text(key: GroupKey) -> str:
    """The key as people and the delivery log read it: "tier=1,kind=complaint" ("" for all)."""
    return ",".join(f"{name}={value}" for name, value in key)


def urgency(event: AlertEvent, policy: Policy) -> bool:
    """Whether this record skips the group timers (never the budget)."""
    return event.transition in _URGENT_TRANSITIONS and event.alert.tier in policy.immediate_tiers


@dataclass(frozen=True)
class Entry:
    """One alert waiting in a group: its latest record, and every record it stands for."""

    key: GroupKey
    event: AlertEvent
    record_ids: tuple[str, ...]
    first_seen: datetime
    urgent: bool = False
    reminder: bool = False  # an unacknowledged alert announced again after repeat_interval

    @property
    def alert_id(self) -> str:
        return self.event.alert_id

    @property
    def tier(self) -> int:
        return self.event.alert.tier

    def priority(self) -> tuple[int, int, int, datetime]:
        """Sort key: tier 1 first, urgent first, new before reminders, oldest first."""
        return (self.tier, 0 if self.urgent else 1, 1 if self.reminder else 0, self.first_seen)

    def merged(self, newer: AlertEvent, urgent: bool) -> Entry:
        """This entry after a later record of the same alert arrived."""
        latest = newer if newer.version >= self.event.version else self.event
        ids = (
            self.record_ids
            if newer.record_id in self.record_ids
            else (*self.record_ids, newer.record_id)
        )
        return replace(
            self, event=latest, record_ids=ids, urgent=self.urgent or urgent, reminder=False
        )


@dataclass
class Group:
    """The alerts of one subscription and group key: what waits, and when it was last sent."""

    key: GroupKey
    pending: dict[str, Entry] = field(default_factory=dict)
    last_sent_at: datetime | None = None
    #: Alerts this group's messages carried, with when (for repeat_interval reminders).
    announced: dict[str, datetime] = field(default_factory=dict)

    def add(self, event: AlertEvent, now: datetime, *, urgent: bool) -> None:
        """Gather one record; a later record of a waiting alert replaces it in the message."""
        waiting = self.pending.get(event.alert_id)
        if waiting is None:
            self.pending[event.alert_id] = Entry(self.key, event, (event.record_id,), now, urgent)
        else:
            self.pending[event.alert_id] = waiting.merged(event, urgent)

    def put_back(self, entries: Iterable[Entry]) -> None:
        """Entries of a message the platform refused for rate: they wait again, as they were."""
        for entry in entries:
            waiting = self.pending.get(entry.alert_id)
            if waiting is None:
                self.pending[entry.alert_id] = entry
            else:  # a newer record arrived meanwhile: keep both records, the newest event
                merged = entry.merged(waiting.event, waiting.urgent)
                ids = tuple(dict.fromkeys((*entry.record_ids, *waiting.record_ids)))
                self.pending[entry.alert_id] = replace(merged, record_ids=ids)

    def due_at(self, policy: Policy) -> datetime | None:
        """When the group's pending alerts should go (None: nothing pending)."""
        if not self.pending:
            return None
        entries = self.pending.values()
        urgent = [
            e.first_seen for e in entries if e.urgent or e.reminder
        ]  # reminders waited enough
        if urgent:
            return min(urgent)
        opened = min(e.first_seen for e in entries)
        due = opened + policy.group_wait
        if self.last_sent_at is not None:
            due = max(due, self.last_sent_at + policy.group_interval)
        return due

    def take(self) -> list[Entry]:
        """Everything pending, in priority order; the group is empty afterwards."""
        entries = sorted(self.pending.values(), key=Entry.priority)
        self.pending = {}
        return entries

    def sent(self, entries: Iterable[Entry], now: datetime) -> None:
        """A message carrying `entries` was sent (delivered or given up) at `now`."""
        self.last_sent_at = now
        for entry in entries:
            self.announced[entry.alert_id] = now

    @property
    def best_tier(self) -> int:
        return min((e.tier for e in self.pending.values()), default=3)
