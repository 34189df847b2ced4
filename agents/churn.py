"""Customer activity and silence -> churn signals for the engine.

Silence is a signal, so this is driven by a timer as well as by events:
  rekey:   kesu.clean.activity -> kesu.churn.activity, keyed by customer id;
  churn:   activity and due checks -> complaints.churn (observe, check) -> signals, then the
           `churn` table (six ints per customer, packed as text);
  a timer: sends a check for each customer whose next moment of change has come, found in an
           in-memory due index (agents.due_index), never by scanning every customer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import faust

from agents.due_index import DueIndex, register_due_timer
from agents.kafka_io import bytes_topic, dead_letter_message, log_failure, processing_failed
from agents.sending import send_confirmed
from complaints.churn import ChurnState, check, due_at, next_check, observe
from complaints.rules import RuleBook
from kesu.metrics import SIGNALS_SENT
from kesu.settings import Settings
from streams.codec import decode_valid, encode_record
from streams.records import CustomerActivity, Source, Tick
from streams.topics import CHURN_ACTIVITY, CHURN_CHECKS, CLEAN, DLQ, SIGNALS


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    namespace = settings.namespace
    policy = rules.churn
    activity_name, checks_name = CHURN_ACTIVITY.name(namespace), CHURN_CHECKS.name(namespace)
    signals, dlq = SIGNALS.name(namespace), DLQ.name(namespace)
    clean = bytes_topic(app, CLEAN[Source.ACTIVITY].name(namespace))
    inputs = bytes_topic(app, activity_name, checks_name, partitions=CHURN_ACTIVITY.partitions)
    customers = app.Table(
        "churn", partitions=CHURN_ACTIVITY.partitions, key_type=str, value_type=str
    )
    index = DueIndex()

    def due_of(_key: str, stored: str, now: float) -> float | None:
        return due_at(ChurnState.unpack(stored), int(now), policy)

    @app.agent(clean, name="churn-rekey", concurrency=1)
    async def rekey(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                activity = _activity(message.value)
                await send_confirmed(
                    app, activity_name, key=activity.customer_id.encode(), value=message.value
                )
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("churn-rekey", message, exc)
                await dead_letter_message(app, dlq, processing_failed(exc), message, clock())

    @app.agent(inputs, name="churn", concurrency=1)
    async def watch_customers(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                key = (message.key or b"").decode("utf-8")
                stored = customers.get(key)
                before = ChurnState.unpack(stored) if stored else None
                if message.topic == checks_name:
                    if before is None:
                        continue
                    state, now = before, Tick.model_validate_json(message.value or b"").at
                else:
                    state = observe(before, _activity(message.value), policy)
                    now = (
                        datetime.fromtimestamp(message.timestamp, UTC)
                        if message.timestamp
                        else clock()
                    )
                result = check(key, state, now, policy)
                if result.signal is not None:
                    signal = result.signal
                    await send_confirmed(
                        app, signals, key=signal.case_key.encode(), value=encode_record(signal)
                    )
                    SIGNALS_SENT.labels(signal.kind.value, signal.change.value).inc()
                if result.state != before:
                    customers[key] = result.state.pack()
                index.schedule(key, next_check(result.state, int(now.timestamp()), policy))
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("churn", message, exc)
                await dead_letter_message(app, dlq, processing_failed(exc), message, clock())

    register_due_timer(
        app,
        name="churn-due",
        interval=settings.churn_check_interval.total_seconds(),
        table=customers,
        index=index,
        due_of=due_of,
        topic=checks_name,
        clock=clock,
    )


def _activity(raw: bytes | None) -> CustomerActivity:
    record = decode_valid(raw or b"")
    if not isinstance(record, CustomerActivity):
        raise TypeError(f"expected customer activity, got {type(record).__name__}")
    return record
