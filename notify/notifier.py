"""The notifier process: lifecycle records in, grouped and budgeted messages out, all logged.

A thin shell around the pure pipeline (notify/pipeline.py). Its own consumer group
(`<namespace>-notifier`) on kesu.alerts.lifecycle; beside it, one follower reads the
subscriptions, the delivery log, the silences and the alerts' current state
(kesu.alerts.state, so an incident opened by another partition can inhibit its members).
For each batch it first catches those up, then hands every record to the pipeline and sends
what the pipeline says is due — one message at a time per subscription (so one alert's records
reach a subscription in order and a hanging receiver holds only its own), all subscriptions
side by side. Every attempt goes to the delivery log and every give-up to the push DLQ.

An offset is committed only once every record before it is settled for every subscription
(delivered or dead-lettered in some message, filtered, or suppressed) and Kafka has those log
entries (notify/inflight.py). A restart therefore re-reads only unsettled records, and the
delivery log (read back on start) says which (subscription, record) pairs are settled: they
are skipped, so nothing is pushed twice to the same subscription. What waited in a group is
re-read and waits again; group timers start afresh after a restart.

A subscription receives the records published after it was created (Kafka timestamps), so a
new subscription is not flooded with history and a re-created notifier group is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from complaints.rules import RuleBook, load_rules
from kesu.follower import Follower
from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from notify.books import DeliveryBook, SubscriptionBook
from notify.delivery import Clock, attempt, make_client, record_delivery
from notify.egress import EgressPolicy
from notify.formats import DigestItem, OutgoingRequest, render, render_digest
from notify.inflight import InFlight
from notify.links import make_links
from notify.metrics import (
    PUSH_BUDGET_LIMIT,
    PUSH_BUDGET_USED,
    PUSH_FOLDED,
    PUSH_MESSAGES,
    PUSH_SKIPPED,
    PUSH_SUPPRESSED,
    PUSH_WAITING,
    WEBHOOK_FAILURES,
    WEBHOOK_NOT_ROUTED,
)
from notify.models import Delivery, DeliveryOutcome, Failure, Subscription, delivery_id_for
from notify.outcomes import Answer, Verdict
from notify.pipeline import INHIBITED, SILENCED, Outgoing, Pipeline, Routed
from notify.retry import RetryPolicy
from notify.sealing import Sealer
from streams.records import AlertEvent, Silence
from streams.topics import ALERT_STATE, DELIVERIES, LIFECYCLE, PUSH_DLQ, SILENCES, SUBSCRIPTIONS

__all__ = ["Notifier", "notifier_group", "retry_policy"]

log = logging.getLogger(__name__)

_BATCH = 200
#: Records not yet settled before the notifier stops reading more.
_MAX_IN_FLIGHT = 5000
#: Longest sleep of the loop: how soon a due group or a finished send is looked at.
_TICK_S = 0.2
#: Never poll without waiting: the sends run on the same event loop.
_MIN_POLL_MS = 5


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
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        rules: RuleBook | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        egress = EgressPolicy.parse(settings.push_allowed_destinations)
        self._client_factory = client_factory or (lambda: make_client(egress=egress))
        self._policy = retry_policy(settings)
        self._callback_secret = ensure_callback_secret(settings).encode()
        self.subscriptions = SubscriptionBook(Sealer(self._callback_secret))
        self.deliveries = DeliveryBook(keep_per_subscription=0)  # only what is settled
        self.pipeline = Pipeline(
            rules or load_rules(settings.rules_file),
            self._policy,
            random.Random(),  # noqa: S311 - jitter, not cryptography
        )
        self._topics = {
            spec: spec.name(settings.namespace)
            for spec in (SUBSCRIPTIONS, DELIVERIES, SILENCES, ALERT_STATE)
        }
        self._deliveries_topic = DELIVERIES.name(settings.namespace)
        self._dlq_topic = PUSH_DLQ.name(settings.namespace)
        #: (subscription, record id) -> where the record is, while it waits for a message.
        self._held: dict[tuple[str, str], tuple[TopicPartition, int]] = {}
        self._inflight = InFlight()
        self._wake = asyncio.Event()
        self.ready = asyncio.Event()

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume forever; after losing Kafka, start again from the committed offsets."""
        while True:
            try:
                await self._run_once()
            except* (KafkaError, KafkaNotConfigured, OSError) as group:
                # except*: a failed log write surfaces from inside the task group
                names = sorted({type(e).__name__ for e in _leaves(group)})
                log.warning("notifier lost Kafka (%s); restarting in 2 s", ", ".join(names))
                await asyncio.sleep(2)

    def _apply(self, message: ConsumerRecord[bytes, bytes]) -> None:
        topic = message.topic
        if topic == self._topics[SUBSCRIPTIONS]:
            self.subscriptions.apply(message.key, message.value, message.timestamp)
        elif topic == self._topics[DELIVERIES]:
            self.deliveries.apply(message.value)
        elif topic == self._topics[SILENCES]:
            self._apply_silence(message.key, message.value)
        else:
            with contextlib.suppress(ValidationError):
                self.pipeline.note_alert(AlertEvent.model_validate_json(message.value or b"").alert)

    def _apply_silence(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:
            if key:
                self.pipeline.forget_silence(key.decode("utf-8", "replace"))
            return
        try:
            self.pipeline.note_silence(Silence.model_validate_json(value))
        except ValidationError:
            log.warning("unreadable silence record skipped")

    async def _run_once(self) -> None:
        settings = self._settings
        books = Follower(
            settings,
            (SUBSCRIPTIONS, DELIVERIES, SILENCES, ALERT_STATE),
            self._apply,
            name="notifier-books",
        )
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
            max_poll_interval_ms=300_000,
        )
        client = self._client_factory()
        self._held.clear()
        self._inflight = InFlight()
        self.pipeline.sync([])  # a fresh run re-reads what was not settled
        try:
            await books.catch_up()
            await producer.start()
            await consumer.start()
            log.info(
                "Notifier ready: %d subscription(s), %d settled delivery(ies), %d silence(s)",
                len(self.subscriptions.all()),
                len(self.deliveries.covered),
                len(self.pipeline.silences),
            )
            self.ready.set()
            await self._consume(consumer, books, producer, client)
        finally:
            self.ready.clear()
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await books.stop()
            await client.aclose()

    async def _consume(
        self,
        consumer: AIOKafkaConsumer,
        books: Follower,
        producer: AIOKafkaProducer,
        client: httpx.AsyncClient,
    ) -> None:
        """Read, hand to the pipeline, send what is due, commit what is settled, forever."""
        async with asyncio.TaskGroup() as tasks:
            while True:
                assigned = consumer.assignment()
                if len(self._inflight) >= _MAX_IN_FLIGHT:
                    consumer.pause(*assigned)
                else:
                    consumer.resume(*assigned)
                batch = await consumer.getmany(timeout_ms=self._poll_ms(), max_records=_BATCH)
                if batch:
                    await books.catch_up()  # every subscription acknowledged before these records
                now = self._clock()
                logs: list[Delivery] = []
                released: list[tuple[str, Sequence[str]]] = []
                for subscription, entry in self.pipeline.sync(self.subscriptions.all()):
                    released.append((subscription.id, entry.record_ids))
                for tp, messages in batch.items():
                    for message in messages:
                        logs += self._observe(tp, message, now)
                messages_out, dropped = self.pipeline.take(now)
                for gone in dropped:
                    PUSH_SUPPRESSED.labels(gone.suppressed.reason).inc()
                    logs += [
                        _filtered(
                            gone.subscription,
                            gone.entry.event,
                            rid,
                            gone.suppressed.reason,
                            gone.suppressed.by,
                            now,
                        )
                        for rid in gone.entry.record_ids
                    ]
                    released.append((gone.subscription.id, gone.entry.record_ids))
                if logs or released:
                    tasks.create_task(self._log_then_release(producer, logs, released))
                for out in messages_out:
                    tasks.create_task(self._send(out, client, producer))
                self._gauges(now)
                done = self._inflight.committable()
                if done:
                    await consumer.commit(done)

    def _poll_ms(self) -> int:
        """Wait for records, but not past the pipeline's next due time (nor past a tick)."""
        if self._wake.is_set():
            self._wake.clear()
            return _MIN_POLL_MS
        wakeup = self.pipeline.next_wakeup(self._clock())
        seconds = _TICK_S if wakeup is None else (wakeup - self._clock()).total_seconds()
        return max(_MIN_POLL_MS, int(min(seconds, _TICK_S) * 1000))

    # -- records in -----------------------------------------------------------------------

    def _observe(
        self, tp: TopicPartition, message: ConsumerRecord[bytes, bytes], now: datetime
    ) -> list[Delivery]:
        """Hand one record to the pipeline; hold its offset while it waits for a message."""
        self._inflight.read(tp, message.offset)
        try:
            event = AlertEvent.model_validate_json(message.value or b"")
        except ValidationError:
            log.warning(
                "unreadable lifecycle record at %s/%s skipped", message.partition, message.offset
            )
            return []
        eligible = [
            s
            for s in self.subscriptions.all()
            if message.timestamp >= self.subscriptions.since_ms(s.id)
        ]
        logs: list[Delivery] = []
        for routed in self.pipeline.observe(
            event, eligible, now, covered=self.deliveries.is_covered
        ):
            logs += self._routed(routed, tp, message.offset, now)
        return logs

    def _routed(
        self, routed: Routed, tp: TopicPartition, offset: int, now: datetime
    ) -> list[Delivery]:
        sub, event = routed.subscription, routed.event
        if routed.outcome == "queued":
            self._inflight.hold(tp, offset)
            self._held[(sub.id, event.record_id)] = (tp, offset)
            return []
        if routed.outcome == "skipped":
            PUSH_SKIPPED.inc()  # settled before a restart, or a duplicate lifecycle record
            return []
        reason = routed.reason or "FILTERED"
        if reason in (INHIBITED, SILENCED):
            PUSH_SUPPRESSED.labels(reason).inc()
        else:
            WEBHOOK_NOT_ROUTED.labels(reason).inc()
        return [_filtered(sub, event, event.record_id, reason, routed.by, now)]

    # -- messages out ---------------------------------------------------------------------

    def _render(self, out: Outgoing, now: datetime) -> OutgoingRequest:
        sub = out.subscription
        base = self._settings.base_url
        if out.single:
            event = out.entries[0].event
            links = make_links(
                event,
                sub,
                base_url=base,
                callback_secret=self._callback_secret,
                issued_at=out.created_at,  # the same buttons on every attempt
            )
            return render(
                sub, event, links, now=now, mention=out.mention, delivery_id=out.delivery_id
            )
        return render_digest(
            sub,
            [DigestItem(e.event, e.record_ids, e.reminder) for e in out.entries],
            now=now,
            delivery_id=out.delivery_id,
            groups=out.groups,
            alert_link=lambda alert_id: f"{base}/#alert={quote(alert_id, safe='')}",
            more_link=f"{base}/#digest={out.delivery_id}",
            mention=out.mention,
        )

    async def _send(
        self, out: Outgoing, client: httpx.AsyncClient, producer: AIOKafkaProducer
    ) -> None:
        """One attempt of one message; the pipeline settles the answer; log, then release."""
        sub = out.subscription
        now = self._clock()
        where = f"subscription {sub.id} ({sub.format.value}, {sub.masked_url()})"
        try:
            request = self._render(out, now)
        except Exception as exc:  # a poison record must not stall the consumer: dead-letter it
            log.error(
                "message %s to %s not rendered (%s)", out.delivery_id, where, type(exc).__name__
            )
            answer = Answer(Verdict(False, Failure.RENDER_FAILED))
        else:
            answer = await attempt(client, request, sub.format, self._policy.timeout)
        PUSH_MESSAGES.labels(sub.id, _kind(out)).inc()
        if out.attempt == 1 and out.folded:
            PUSH_FOLDED.labels(sub.id).inc(out.folded)
        settled = self.pipeline.settle(out, answer, self._clock())
        entry = settled.log
        if entry.failure is not None:
            WEBHOOK_FAILURES.labels(sub.format.value, entry.failure.value).inc()
        _log_outcome(entry, where)
        await self._log_then_release(producer, [entry], [(sub.id, settled.done)])
        self._wake.set()

    async def _log_then_release(
        self,
        producer: AIOKafkaProducer,
        entries: Sequence[Delivery],
        released: Sequence[tuple[str, Sequence[str]]],
    ) -> None:
        """Write log entries (a give-up also to the push DLQ); once Kafka has them all, the
        records they settle stop holding their offsets."""
        sent = []
        for entry in entries:
            await record_delivery(None, entry)  # counts it
            value = entry.model_dump_json().encode("utf-8")
            key = entry.delivery_id.encode()
            sent.append(await producer.send(self._deliveries_topic, key=key, value=value))
            if entry.outcome is DeliveryOutcome.DEAD_LETTERED:
                sent.append(await producer.send(self._dlq_topic, key=key, value=value))
        await asyncio.gather(*sent)
        for entry in entries:
            self.deliveries.note(entry)
        for subscription_id, record_ids in released:
            for record_id in record_ids:
                held = self._held.pop((subscription_id, record_id), None)
                if held is not None:
                    self._inflight.release(*held)

    def _gauges(self, now: datetime) -> None:
        PUSH_WAITING.set(self.pipeline.waiting())
        for sub in self.subscriptions.all():
            PUSH_BUDGET_USED.labels(sub.id).set(self.pipeline.budget_used(sub.id, now))
            limit = sub.policy.limit(sub.format.value).per_minute
            if limit is not None:
                PUSH_BUDGET_LIMIT.labels(sub.id).set(limit)


def _kind(out: Outgoing) -> str:
    if out.single:
        return "single"
    if any(e.reminder for e in out.entries):
        return "reminder"
    return "digest" if len(out.groups) > 1 else "group"


def _log_outcome(entry: Delivery, where: str) -> None:
    carried = len(entry.covered()) if entry.record_ids else 1
    if entry.outcome is DeliveryOutcome.DELIVERED:
        log.info("message %s delivered to %s (%d record(s))", entry.delivery_id, where, carried)
    elif entry.outcome is DeliveryOutcome.DEAD_LETTERED:
        log.error(
            "message %s to %s dead-lettered after %d attempt(s): %s",
            entry.delivery_id,
            where,
            entry.attempts,
            entry.last_error,
        )
    else:
        log.warning(
            "message %s to %s %s: %s; next at %s",
            entry.delivery_id,
            where,
            "refused for rate, its alerts wait for the budget"
            if entry.outcome is DeliveryOutcome.DEFERRED
            else "failed",
            entry.last_error,
            entry.next_attempt_at,
        )


def _filtered(
    subscription: Subscription,
    event: AlertEvent,
    record_id: str,
    reason: str,
    by: str | None,
    now: datetime,
) -> Delivery:
    """The delivery-log entry of a record a subscription does not get, with the reason."""
    return Delivery(
        delivery_id=delivery_id_for(subscription.id, record_id),
        subscription_id=subscription.id,
        format=subscription.format,
        record_id=record_id,
        alert_id=event.alert_id,
        transition=event.transition,
        outcome=DeliveryOutcome.FILTERED,
        attempts=0,
        filtered_by=reason,
        suppressed_by=by,
        created_at=now,
        updated_at=now,
    )


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
