"""Shipment status changes -> proactive delay signals for the engine and the delay map.

Two pieces (the ingest agent publishes each change keyed by order id to kesu.logistics.changes,
so the `orders` table is co-partitioned with it):
  track:   changes and overdue checks -> complaints.logistics -> signals (keyed by case, and
           to the grouping stage, which finds waves of one region x carrier) and the order's
           delay-map line (compacted, keyed by order id), then the `orders` table;
  a timer: sends a check for each undelivered order whose promise or bucket bound just passed.
Outputs are acknowledged by Kafka before the table write (agents/batches): a crash replays the
input, and the deterministic signal ids make the replay one signal in the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import faust

from agents.batches import Batch, consume_in_batches
from agents.due_index import DueIndex, register_due_timer
from agents.grouping import send_report
from agents.kafka_io import bytes_topic, expiring_changelog, message_time
from complaints.logistics import OrderState, Tracked, check_overdue, map_entry, next_check, track
from complaints.rules import RuleBook
from kesu.metrics import SIGNALS_SENT
from kesu.settings import Settings
from streams.codec import decode_valid, encode_record
from streams.records import LogisticsChange, Tick
from streams.topics import (
    DELAY_MAP,
    DLQ,
    GROUP_REPORTS,
    LOGISTICS_CHANGES,
    LOGISTICS_CHECKS,
    SIGNALS,
)


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    batch_window = settings.worker_signal_batch_window.total_seconds()
    namespace = settings.namespace
    changes_name, checks_name = LOGISTICS_CHANGES.name(namespace), LOGISTICS_CHECKS.name(namespace)
    signals, delay_map, dlq = (
        SIGNALS.name(namespace),
        DELAY_MAP.name(namespace),
        DLQ.name(namespace),
    )
    reports = GROUP_REPORTS.name(namespace)
    inputs = bytes_topic(
        app,
        changes_name,
        checks_name,
        partitions=LOGISTICS_CHANGES.partition_count(settings.pipeline_partitions),
    )
    # Stored as JSON text: strict records read back only in JSON mode.
    orders = app.Table(
        "orders",
        partitions=LOGISTICS_CHANGES.partition_count(settings.pipeline_partitions),
        key_type=str,
        value_type=str,
        extra_topic_configs=orders_changelog_config(rules),
    )
    index = DueIndex()

    def due_of(_key: str, stored: str, _now: float) -> float | None:
        moment = next_check(OrderState.model_validate_json(stored), rules)
        return moment.timestamp() if moment else None

    def handle(event: faust.types.EventT, batch: Batch) -> None:
        message = event.message
        key = (message.key or b"").decode("utf-8")
        stored = batch.get(orders, key)
        state = OrderState.model_validate_json(stored) if stored else None
        if message.topic == checks_name:
            if state is None:
                return
            result = check_overdue(state, Tick.model_validate_json(message.value or b"").at, rules)
        else:
            now = message_time(message) or clock()
            result = track(state, _change(message.value), now, rules)
        publish(result, state, batch)
        if result.state is not None and result.state != state:
            batch.put(orders, key, result.state.model_dump_json())
        if result.state is not None:
            moment = next_check(result.state, rules)
            index.schedule(key, moment.timestamp() if moment else None)

    def publish(result: Tracked, before: OrderState | None, batch: Batch) -> None:
        for signal in result.signals:
            body = encode_record(signal)
            batch.send(signals, key=signal.case_key.encode(), value=body)
            send_report(batch, reports, signal)  # waves (agents/grouping.py)
            SIGNALS_SENT.labels(signal.kind.value, signal.change.value).inc()
        old, new = map_entry(before, rules), map_entry(result.state, rules)
        if new != old and result.state is not None:
            batch.send(
                delay_map,
                key=result.state.order_id.encode(),
                value=encode_record(new) if new is not None else None,
            )

    @app.agent(inputs, name="logistics", concurrency=1)
    async def track_orders(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app,
            stream,
            name="logistics",
            dlq_topic=dlq,
            clock=clock,
            handle=handle,
            within=batch_window,
        )

    register_due_timer(
        app,
        name="logistics-overdue",
        interval=settings.logistics_check_interval.total_seconds(),
        table=orders,
        index=index,
        due_of=due_of,
        topic=checks_name,
        clock=clock,
    )


def _change(raw: bytes | None) -> LogisticsChange:
    record = decode_valid(raw or b"")
    if not isinstance(record, LogisticsChange):
        raise TypeError(f"expected a logistics change, got {type(record).__name__}")
    return record


def orders_changelog_config(rules: RuleBook) -> dict[str, str]:
    """The orders changelog forgets an order silent for `logistics.forget_after`.

    Every change rewrites the order's entry, so only orders nobody has written about for that
    long (delivered, or abandoned by the carrier's feed) expire; Faust sets this when it creates
    the topic. A worker's local store keeps them until its state is rebuilt from the topic.
    """
    return expiring_changelog(rules.logistics.forget_after)
