"""The notifier: lifecycle records in, webhook and robot deliveries out, every attempt logged.

Its own consumer group (`<namespace>-notifier`) on kesu.alerts.lifecycle. For each batch it
first catches up the subscriptions and delivery-log topics, then routes and delivers every
record (records of one alert in order, different alerts concurrently), writes every attempt
to the delivery log and every give-up to the push DLQ, and commits the batch's offsets only
after Kafka has acknowledged all of those. A restart therefore re-reads at most one batch,
and the delivery log (read back on start) says which (subscription, record) pairs are done:
they are skipped, so nothing is pushed twice to the same subscription.

A subscription receives the records published after it was created (Kafka timestamps), so a
new subscription is not flooded with history and a re-created notifier group is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from api.push.books import FINAL_OUTCOMES, DeliveryBook, SubscriptionBook
from api.push.delivery import Clock, OnRecord, RetryPolicy, make_client
from api.push.dispatch import notify
from api.push.follower import Follower
from api.push.links import make_links
from api.push.models import Delivery, DeliveryOutcome, delivery_id_for
from api.push.sealing import Sealer
from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.local_keys import ensure_callback_secret
from kesu.metrics import PUSH_SKIPPED
from kesu.settings import Settings
from streams.records import AlertEvent
from streams.topics import DELIVERIES, LIFECYCLE, PUSH_DLQ, SUBSCRIPTIONS

__all__ = ["Notifier", "notifier_group", "retry_policy"]

log = logging.getLogger(__name__)

_BATCH = 200


def notifier_group(settings: Settings) -> str:
    """The notifier's consumer group (the worker's is the namespace itself)."""
    return f"{settings.namespace}-notifier"


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.push_max_attempts,
        base_delay=settings.push_retry_base_delay.total_seconds(),
        max_delay=settings.push_retry_max_delay.total_seconds(),
        timeout=settings.push_timeout.total_seconds(),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Notifier:
    """Runs until cancelled; `ready` is set once the books are read and the consumer is up."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = _utc_now,
        client_factory: Callable[[], httpx.AsyncClient] = make_client,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._client_factory = client_factory
        self._policy = retry_policy(settings)
        callback_secret = ensure_callback_secret(settings).encode()
        self.subscriptions = SubscriptionBook(Sealer(callback_secret))
        self.deliveries = DeliveryBook(keep_per_subscription=0)  # only `done` is needed here
        self._links_for = functools.partial(
            make_links, base_url=settings.base_url, callback_secret=callback_secret
        )
        self._deliveries_topic = DELIVERIES.name(settings.namespace)
        self._dlq_topic = PUSH_DLQ.name(settings.namespace)
        self._subscriptions_topic = SUBSCRIPTIONS.name(settings.namespace)
        self.ready = asyncio.Event()

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume forever; after losing Kafka, start again from the committed offsets."""
        while True:
            try:
                await self._run_once()
            except* (KafkaError, KafkaNotConfigured, OSError) as group:
                # except*: a failed log write surfaces from inside the batch's task groups
                names = sorted({type(e).__name__ for e in _leaves(group)})
                log.warning("notifier lost Kafka (%s); restarting in 2 s", ", ".join(names))
                await asyncio.sleep(2)

    def _apply(self, message: ConsumerRecord[bytes, bytes]) -> None:
        if message.topic == self._subscriptions_topic:
            self.subscriptions.apply(message.key, message.value, message.timestamp)
        else:
            self.deliveries.apply(message.value)

    async def _run_once(self) -> None:
        settings = self._settings
        books = Follower(settings, (SUBSCRIPTIONS, DELIVERIES), self._apply, name="notifier-books")
        producer = AIOKafkaProducer(
            **aiokafka_options(settings),
            client_id=f"{settings.namespace}-notifier",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )
        consumer = AIOKafkaConsumer(
            LIFECYCLE.name(settings.namespace),
            **aiokafka_options(settings),
            client_id=f"{settings.namespace}-notifier",
            group_id=notifier_group(settings),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=_max_poll_ms(self._policy),
        )
        client = self._client_factory()
        try:
            await books.catch_up()
            await producer.start()
            await consumer.start()
            log.info(
                "Notifier ready: %d subscription(s), %d delivery id(s) done",
                len(self.subscriptions.all()),
                len(self.deliveries.done),
            )
            self.ready.set()
            while True:
                batch = await consumer.getmany(timeout_ms=1000, max_records=_BATCH)
                if not batch:
                    continue
                await books.catch_up()
                await self._handle(batch, producer, client)
                await consumer.commit(
                    {tp: messages[-1].offset + 1 for tp, messages in batch.items()}
                )
        finally:
            self.ready.clear()
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await books.stop()
            await client.aclose()

    # -- one batch ------------------------------------------------------------------------

    async def _handle(
        self,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        producer: AIOKafkaProducer,
        client: httpx.AsyncClient,
    ) -> None:
        chains: dict[str, list[tuple[AlertEvent, int]]] = {}
        for messages in batch.values():
            for message in messages:
                try:
                    event = AlertEvent.model_validate_json(message.value or b"")
                except ValidationError:
                    log.warning(
                        "unreadable lifecycle record at %s/%s skipped",
                        message.partition,
                        message.offset,
                    )
                    continue
                chains.setdefault(event.alert_id, []).append((event, message.timestamp))
        record = functools.partial(self._record, producer)
        async with asyncio.TaskGroup() as group:
            for chain in chains.values():
                group.create_task(self._send_in_order(chain, client, record))

    async def _send_in_order(
        self,
        chain: list[tuple[AlertEvent, int]],
        client: httpx.AsyncClient,
        record: OnRecord,
    ) -> None:
        for event, timestamp_ms in chain:
            wanted = []
            for subscription in self.subscriptions.all():
                if timestamp_ms < self.subscriptions.since_ms(subscription.id):
                    continue  # published before the subscription existed
                if delivery_id_for(subscription.id, event.record_id) in self.deliveries.done:
                    PUSH_SKIPPED.inc()
                    continue
                wanted.append(subscription)
            if wanted:
                await notify(
                    wanted,
                    event,
                    client=client,
                    clock=self._clock,
                    links_for=self._links_for,
                    policy=self._policy,
                    on_record=record,
                )

    async def _record(self, producer: AIOKafkaProducer, entry: Delivery) -> None:
        """Log one delivery entry (and a give-up to the push DLQ); return once Kafka has it."""
        value = entry.model_dump_json().encode("utf-8")
        key = entry.delivery_id.encode()
        sent = [await producer.send(self._deliveries_topic, key=key, value=value)]
        if entry.outcome is DeliveryOutcome.DEAD_LETTERED:
            sent.append(await producer.send(self._dlq_topic, key=key, value=value))
        await asyncio.gather(*sent)
        if entry.outcome in FINAL_OUTCOMES:
            self.deliveries.done.add(entry.delivery_id)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _max_poll_ms(policy: RetryPolicy) -> int:
    """Longer than the worst batch: every attempt timing out plus every backoff, with room."""
    worst = policy.max_attempts * policy.timeout + (policy.max_attempts - 1) * max(
        policy.max_delay, policy.max_retry_after, policy.robot_rate_limit_delay
    )
    return int(max(300.0, 2 * worst) * 1000)
