"""The present, rebuilt from Kafka: current alerts, their timelines, contact counts, and a
live feed for Server-Sent Events.

Every API replica reads the lifecycle and assessment topics from the beginning (no consumer
group), so replicas agree and a restart needs nothing but Kafka. Duplicated lifecycle records
(at-least-once) are dropped here by version, so nobody downstream sees one twice. A stream
position is the vector of next offsets per lifecycle partition — the same on every replica,
which is what makes `Last-Event-ID` resume exact.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from complaints.kpis import AlertTimes, ContactBook
from kesu.follower import Follower
from kesu.settings import Settings
from streams.records import Alert, AlertEvent, AlertStatus, AssessedEvent, Transition
from streams.topics import ASSESSMENTS, LIFECYCLE

log = logging.getLogger(__name__)

#: Closed alerts stay queryable this long after their last change.
KEEP_CLOSED = timedelta(days=30)


@dataclass(frozen=True)
class StreamItem:
    """One lifecycle record as the live feed sends it, with the position just after it."""

    position: str
    partition: int
    offset: int
    record: AlertEvent


class AlertView:
    """In-memory projection of the alert topics; fed by one background consumer task."""

    def __init__(self, settings: Settings, *, history: int = 20_000) -> None:
        self.alerts: dict[str, Alert] = {}
        self.timelines: dict[str, list[AlertEvent]] = {}
        self.times: dict[str, AlertTimes] = {}
        self.contacts = ContactBook()
        self._lifecycle = LIFECYCLE.name(settings.namespace)
        self._next: dict[int, int] = {}  # lifecycle partition -> next offset (the feed position)
        self._recent: deque[StreamItem] = deque(maxlen=history)
        self._subscribers: set[asyncio.Queue[StreamItem]] = set()
        # Partition counts come from the topic table (ensure_topics refuses a mismatch).
        self._follower = Follower(settings, (LIFECYCLE, ASSESSMENTS), self._apply, name="api-view")

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    @property
    def ready(self) -> bool:
        """True once everything that was on the topics at start has been read."""
        return self._follower.ready

    # -- applying records -----------------------------------------------------------------

    def _apply(self, message: ConsumerRecord[bytes, bytes]) -> None:
        if message.topic == self._lifecycle:
            self._apply_lifecycle(message.partition, message.offset, message.value)
        else:
            self._apply_contact(message.value)

    def _apply_contact(self, value: bytes | None) -> None:
        try:
            self.contacts.add(AssessedEvent.model_validate_json(value or b""))
        except ValidationError:
            log.warning("unreadable assessment record skipped")
        self.contacts.forget_before(datetime.now(UTC) - timedelta(days=8))

    def _apply_lifecycle(self, partition: int, offset: int, value: bytes | None) -> None:
        self._next[partition] = offset + 1
        try:
            record = AlertEvent.model_validate_json(value or b"")
        except ValidationError:
            log.warning("unreadable lifecycle record at %s/%s skipped", partition, offset)
            return
        current = self.alerts.get(record.alert_id)
        if current is not None and record.version <= current.version:
            return  # a re-published record (at-least-once): already applied
        self.alerts[record.alert_id] = record.alert
        self.timelines.setdefault(record.alert_id, []).append(record)
        self._note_times(record)
        item = StreamItem(self.position(), partition, offset, record)
        self._recent.append(item)
        for queue in list(self._subscribers):
            queue.put_nowait(item)
        self._forget_old_closed(record.at)

    def _note_times(self, record: AlertEvent) -> None:
        times = self.times.get(record.alert_id, AlertTimes())
        if record.transition is Transition.ACKNOWLEDGED and times.acknowledged_at is None:
            times = AlertTimes(record.at, times.resolved_at)
        if record.transition is Transition.RESOLVED and times.resolved_at is None:
            times = AlertTimes(times.acknowledged_at or record.at, record.at)
        self.times[record.alert_id] = times

    def _forget_old_closed(self, now: datetime) -> None:
        if len(self.alerts) % 1000:
            return
        for alert_id in [
            a.alert_id
            for a in self.alerts.values()
            if a.status is AlertStatus.CLOSED and now - a.updated_at > KEEP_CLOSED
        ]:
            self.alerts.pop(alert_id, None)
            self.timelines.pop(alert_id, None)
            self.times.pop(alert_id, None)

    # -- the live feed --------------------------------------------------------------------

    def position(self) -> str:
        """Next offset of every lifecycle partition, e.g. '12.0.7.3'."""
        return ".".join(str(self._next.get(p, 0)) for p in range(max(self._next, default=-1) + 1))

    def subscribe(
        self, last_event_id: str | None
    ) -> tuple[asyncio.Queue[StreamItem], list[StreamItem], bool]:
        """A queue of new records, the backlog after `last_event_id`, and whether the client
        must reload (its position is older than the history kept)."""
        queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self._subscribers.add(queue)
        if not last_event_id:
            return queue, [], False
        try:
            resume = [int(part) for part in last_event_id.split(".")]
        except ValueError:
            return queue, [], True
        backlog = [item for item in self._recent if item.offset >= _at(resume, item.partition)]
        oldest: dict[int, int] = {}
        for item in self._recent:
            oldest.setdefault(item.partition, item.offset)
        reset = (
            any(_at(resume, p) < first for p, first in oldest.items())
            and len(self._recent) == self._recent.maxlen
        )
        return queue, backlog, reset

    def unsubscribe(self, queue: asyncio.Queue[StreamItem]) -> None:
        self._subscribers.discard(queue)


def _at(vector: list[int], partition: int) -> int:
    return vector[partition] if partition < len(vector) else 0
