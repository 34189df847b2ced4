"""The notifier: lifecycle records in, webhook and robot deliveries out, every attempt logged.

Its own consumer group (`<namespace>-notifier`) on kesu.alerts.lifecycle. For each batch it
first catches up the subscriptions and delivery-log topics, then starts every delivery in the
background: the records of one alert reach one subscription in order, everything else runs
side by side, so one failing or hanging receiver delays only its own deliveries, never the
other subscribers'. Every attempt goes to the delivery log and every give-up to the push DLQ;
an offset is committed only once every delivery of that record and of all before it has
finished and Kafka has acknowledged its log entries (notify/inflight.py). A restart
therefore re-reads only unfinished records, and the delivery log (read back on start) says
which (subscription, record) pairs are done: they are skipped, so nothing is pushed twice to
the same subscription.

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

from kesu.follower import Follower
from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.local_keys import ensure_callback_secret
from kesu.metrics import PUSH_SKIPPED
from kesu.settings import Settings
from notify.books import FINAL_OUTCOMES, DeliveryBook, SubscriptionBook
from notify.delivery import Clock, OnRecord, RetryPolicy, make_client
from notify.dispatch import LinksFor, notify
from notify.inflight import InFlight
from notify.links import make_links
from notify.models import Delivery, DeliveryOutcome, Subscription, delivery_id_for
from notify.sealing import Sealer
from streams.records import AlertEvent
from streams.topics import DELIVERIES, LIFECYCLE, PUSH_DLQ, SUBSCRIPTIONS

__all__ = ["Notifier", "notifier_group", "retry_policy"]

log = logging.getLogger(__name__)

_BATCH = 200
#: Records whose deliveries may still be running before the notifier stops reading more.
_MAX_IN_FLIGHT = 2000


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
        self._links_for: LinksFor = lambda event, subscription, now: make_links(
            event,
            subscription,
            base_url=settings.base_url,
            callback_secret=callback_secret,
            issued_at=now,
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
            await self._consume(consumer, books, functools.partial(self._record, producer), client)
        finally:
            self.ready.clear()
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await books.stop()
            await client.aclose()

    # -- routing and delivering -----------------------------------------------------------

    async def _consume(
        self,
        consumer: AIOKafkaConsumer,
        books: Follower,
        record: OnRecord,
        client: httpx.AsyncClient,
    ) -> None:
        """Read, start every delivery in the background, commit what has finished, forever.

        Deliveries of one alert to one subscription run in order; everything else runs
        side by side, so a receiver that fails or hangs delays only its own chain. At most
        `_MAX_IN_FLIGHT` records wait for their deliveries: beyond that the partitions pause
        (the consumer keeps polling, so it stays in its group).
        """
        inflight = InFlight()
        chains: dict[tuple[str, str], asyncio.Task[None]] = {}
        async with asyncio.TaskGroup() as deliveries:
            while True:
                assigned = consumer.assignment()
                if len(inflight) >= _MAX_IN_FLIGHT:
                    consumer.pause(*assigned)
                else:
                    consumer.resume(*assigned)
                batch = await consumer.getmany(timeout_ms=1000, max_records=_BATCH)
                if batch:
                    await books.catch_up()  # every subscription acknowledged before these records
                    for tp, messages in batch.items():
                        for message in messages:
                            self._dispatch(
                                tp, message, deliveries, inflight, chains, record, client
                            )
                done = inflight.committable()
                if done:
                    await consumer.commit(done)

    def _dispatch(
        self,
        tp: TopicPartition,
        message: ConsumerRecord[bytes, bytes],
        deliveries: asyncio.TaskGroup,
        inflight: InFlight,
        chains: dict[tuple[str, str], asyncio.Task[None]],
        record: OnRecord,
        client: httpx.AsyncClient,
    ) -> None:
        """Start one record's deliveries (synchronously: the record is fully held on return)."""
        inflight.read(tp, message.offset)
        try:
            event = AlertEvent.model_validate_json(message.value or b"")
        except ValidationError:
            log.warning(
                "unreadable lifecycle record at %s/%s skipped", message.partition, message.offset
            )
            return
        for subscription in self.subscriptions.all():
            if message.timestamp < self.subscriptions.since_ms(subscription.id):
                continue  # published before the subscription existed
            key = (event.alert_id, subscription.id)
            task = deliveries.create_task(
                self._deliver_in_turn(chains.get(key), subscription, event, record, client)
            )
            chains[key] = task
            inflight.hold(tp, message.offset)
            task.add_done_callback(
                functools.partial(_finished, inflight, chains, key, tp, message.offset)
            )

    async def _deliver_in_turn(
        self,
        previous: asyncio.Task[None] | None,
        subscription: Subscription,
        event: AlertEvent,
        record: OnRecord,
        client: httpx.AsyncClient,
    ) -> None:
        """Deliver after this alert's previous record reached this subscription (or gave up)."""
        if previous is not None:
            await asyncio.wait([previous])
        if delivery_id_for(subscription.id, event.record_id) in self.deliveries.done:
            PUSH_SKIPPED.inc()  # delivered before a restart, or a duplicate lifecycle record
            return
        await notify(
            [subscription],
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


def _finished(
    inflight: InFlight,
    chains: dict[tuple[str, str], asyncio.Task[None]],
    key: tuple[str, str],
    tp: TopicPartition,
    offset: int,
    task: asyncio.Task[None],
) -> None:
    inflight.release(tp, offset)
    if chains.get(key) is task:
        del chains[key]


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
