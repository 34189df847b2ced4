"""Customer activity and silence -> churn signals for the engine.

Silence is a signal, so this is driven by a timer as well as by events (the ingest agent
publishes each activity keyed by customer id to kesu.churn.activity):
  churn:   activity and due checks -> complaints.churn (observe, check) -> signals, then the
           `churn` table (six ints per customer, packed as text);
  a timer: sends a check for each customer whose next moment of change has come, found in an
           in-memory due index (agents.due_index), never by scanning every customer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import faust

from agents.batches import Batch, consume_in_batches
from agents.due_index import DueIndex, register_due_timer
from agents.kafka_io import bytes_topic, message_time
from complaints.churn import ChurnState, check, due_at, next_check, observe
from complaints.rules import RuleBook
from kesu.metrics import SIGNALS_SENT
from kesu.settings import Settings
from streams.codec import decode_valid, encode_record
from streams.records import CustomerActivity, Tick
from streams.topics import CHURN_ACTIVITY, CHURN_CHECKS, DLQ, SIGNALS


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    batch_window = settings.worker_signal_batch_window.total_seconds()
    namespace = settings.namespace
    policy = rules.churn
    activity_name, checks_name = CHURN_ACTIVITY.name(namespace), CHURN_CHECKS.name(namespace)
    signals, dlq = SIGNALS.name(namespace), DLQ.name(namespace)
    inputs = bytes_topic(
        app,
        activity_name,
        checks_name,
        partitions=CHURN_ACTIVITY.partition_count(settings.pipeline_partitions),
    )
    customers = app.Table(
        "churn",
        partitions=CHURN_ACTIVITY.partition_count(settings.pipeline_partitions),
        key_type=str,
        value_type=str,
    )
    index = DueIndex()

    def due_of(_key: str, stored: str, now: float) -> float | None:
        return due_at(ChurnState.unpack(stored), int(now), policy)

    def handle(event: faust.types.EventT, batch: Batch) -> None:
        message = event.message
        key = (message.key or b"").decode("utf-8")
        stored = batch.get(customers, key)
        before = ChurnState.unpack(stored) if stored else None
        if message.topic == checks_name:
            if before is None:
                return
            state, now = before, Tick.model_validate_json(message.value or b"").at
        else:
            state = observe(before, _activity(message.value), policy)
            now = message_time(message) or clock()
        result = check(key, state, now, policy)
        if result.signal is not None:
            signal = result.signal
            batch.send(signals, key=signal.case_key.encode(), value=encode_record(signal))
            SIGNALS_SENT.labels(signal.kind.value, signal.change.value).inc()
        if result.state != before:
            batch.put(customers, key, result.state.pack())
        index.schedule(key, next_check(result.state, int(now.timestamp()), policy))

    @app.agent(inputs, name="churn", concurrency=1)
    async def watch_customers(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app,
            stream,
            name="churn",
            dlq_topic=dlq,
            clock=clock,
            handle=handle,
            within=batch_window,
        )

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
