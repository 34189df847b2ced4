"""Subscriptions and the delivery log as the API shows them, rebuilt from the push topics.

Like api/view.py for alerts: every replica reads the topics from the beginning (no consumer
group), so a subscription created on one replica is listed by all, and survives restarts.
"""

from __future__ import annotations

from aiokafka import ConsumerRecord, TopicPartition

from kesu.follower import Follower
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from notify.books import DeliveryBook, SubscriptionBook
from notify.sealing import Sealer
from streams.topics import DELIVERIES, SUBSCRIPTIONS


class PushView:
    """The books of notify/books.py, fed by one background follower task."""

    def __init__(self, settings: Settings) -> None:
        #: Seals what the API writes to the subscriptions topic and opens what it reads.
        self.sealer = Sealer(ensure_callback_secret(settings).encode())
        self.subscriptions = SubscriptionBook(self.sealer)
        self.deliveries = DeliveryBook()
        self._subscriptions_topic = SUBSCRIPTIONS.name(settings.namespace)
        self._follower = Follower(
            settings, (SUBSCRIPTIONS, DELIVERIES), self._apply, name="api-push-view"
        )

    def _apply(self, message: ConsumerRecord[bytes, bytes]) -> None:
        if message.topic == self._subscriptions_topic:
            self.subscriptions.apply(message.key, message.value, message.timestamp)
        else:
            self.deliveries.apply(message.value)

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
