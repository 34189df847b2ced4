"""Subscriptions, the delivery log and silences as the API shows them, rebuilt from the push
topics; and why an alert's pushes are held ("inhibited by …", "silenced").

Like api/view.py for alerts: every replica reads the topics from the beginning (no consumer
group), so a subscription or silence created on one replica is listed by all, and survives
restarts. The reasons come from the same pure functions the notifier uses (notify/), with the
same rules file, so the dashboard says what the notifier does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from aiokafka import ConsumerRecord, TopicPartition
from pydantic import ValidationError

from api.errors import ApiError
from api.publisher import EventPublisher, KafkaUnavailable
from complaints.rules import RuleBook, load_rules
from kesu.follower import Follower
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from notify.books import DeliveryBook, SubscriptionBook
from notify.inhibit import Inhibitor
from notify.sealing import Sealer
from notify.suppression import Suppressed, suppression_of
from streams.records import Alert, Silence
from streams.topics import DELIVERIES, SILENCES, SUBSCRIPTIONS, TopicSpec

log = logging.getLogger(__name__)


class PushView:
    """The books of notify/books.py and the silences, fed by one background follower task."""

    def __init__(self, settings: Settings, *, rules: RuleBook | None = None) -> None:
        #: Seals what the API writes to the subscriptions topic and opens what it reads.
        self.sealer = Sealer(ensure_callback_secret(settings).encode())
        self.subscriptions = SubscriptionBook(self.sealer)
        self.deliveries = DeliveryBook()
        self.silences: dict[str, Silence] = {}
        self.rules = rules or load_rules(settings.rules_file)
        self._cached: tuple[tuple[str, int, int], Inhibitor] | None = None
        self._subscriptions_topic = SUBSCRIPTIONS.name(settings.namespace)
        self._silences_topic = SILENCES.name(settings.namespace)
        self._follower = Follower(
            settings, (SUBSCRIPTIONS, DELIVERIES, SILENCES), self._apply, name="api-push-view"
        )

    def _apply(self, message: ConsumerRecord[bytes, bytes]) -> None:
        if message.topic == self._subscriptions_topic:
            self.subscriptions.apply(message.key, message.value, message.timestamp)
        elif message.topic == self._silences_topic:
            self._apply_silence(message.key, message.value)
        else:
            self.deliveries.apply(message.value)

    def _apply_silence(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:
            if key:
                self.silences.pop(key.decode("utf-8", "replace"), None)
            return
        try:
            silence = Silence.model_validate_json(value)
        except ValidationError:
            log.warning("unreadable silence record skipped")
            return
        self.silences[silence.silence_id] = silence

    def suppressor(
        self, alerts: Iterable[Alert], now: datetime, *, version: str | None = None
    ) -> Callable[[Alert], Suppressed | None]:
        """Why each alert's pushes are held at `now`, judged against `alerts` (index built
        once). With `version` (the alert view's position) the index is reused until the
        alerts or the silences change, or a second passes (silences start and end)."""
        key = (version, len(self.silences), int(now.timestamp())) if version else None
        if key is None or self._cached is None or self._cached[0] != key:
            inhibitor = Inhibitor(alerts, self.rules.inhibit_rules)
            self._cached = (key, inhibitor) if key else None
        else:
            inhibitor = self._cached[1]
        silences = list(self.silences.values())
        return lambda alert: suppression_of(alert, inhibitor, silences, now)

    @property
    def ready(self) -> bool:
        return self._follower.ready

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    async def wait_past(self, topic: str, partition: int, offset: int, timeout: float) -> bool:
        """Wait until this replica has read the record just written at `offset`."""
        return await self._follower.wait_past(TopicPartition(topic, partition), offset, timeout)


async def write_through(
    publisher: EventPublisher,
    push_view: PushView,
    settings: Settings,
    spec: TopicSpec,
    key: str,
    value: bytes | None,
) -> None:
    """Write one record of a push topic (None: a tombstone) and wait until this replica has
    read it back, so the caller's next read shows the change. Kafka away: 503, nothing changed."""
    topic = spec.name(settings.namespace)
    try:
        [written] = await publisher.publish(topic, [(key.encode(), value)])
    except KafkaUnavailable as exc:
        raise ApiError(
            503, "KAFKA_UNAVAILABLE", f"{exc}; nothing was changed", headers={"Retry-After": "5"}
        ) from exc
    await push_view.wait_past(
        topic, written.partition, written.offset, settings.publish_timeout.total_seconds()
    )
