"""The response engine's shell: contacts, actions, clock ticks, signals and notices -> lifecycle.

Thin: parse, call complaints.engine.decide, publish, store. The five input topics are keyed
by case and co-partitioned with the `cases` table. A parent incident that ends tells each of
its member cases (other partitions) through `kesu.engine.notices`, which this agent reads too.
Outputs are acknowledged by Kafka before the table is written (agents/batches): a crash in
between replays the input, and decide() then produces the very same records (same
alert_id:version) and notices (same notice_id), which consumers de-duplicate.

The clock: a timer sends a Tick for each case whose next deadline has come, found in an
in-memory due index (agents/due_index) rebuilt from the `cases` table after a rebalance and
kept current here — not by scanning every case, and without a second table to write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import faust
from pydantic import BaseModel

from agents.batches import Batch, consume_in_batches
from agents.due_index import DueIndex, register_due_timer
from agents.kafka_io import bytes_topic, message_time
from complaints.engine import Input, decide
from complaints.incidents import CaseState
from complaints.rules import RuleBook
from kesu.metrics import ALERT_TRANSITIONS, ENGINE_SUPPRESSED
from kesu.settings import Settings
from streams.codec import Rejection, encode_record
from streams.records import AlertAction, AssessedEvent, GroupNotice, RejectReason, Signal, Tick
from streams.topics import (
    ACTIONS,
    ALERT_STATE,
    ASSESSMENTS,
    DLQ,
    LIFECYCLE,
    NOTICES,
    SIGNALS,
    TICKS,
)

_UNREAD = object()


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    """Add the respond agent and the clock that ticks due cases."""
    batch_window = settings.worker_batch_window.total_seconds()
    namespace = settings.namespace
    models: dict[str, type[BaseModel]] = {
        ASSESSMENTS.name(namespace): AssessedEvent,
        ACTIONS.name(namespace): AlertAction,
        TICKS.name(namespace): Tick,
        SIGNALS.name(namespace): Signal,
        NOTICES.name(namespace): GroupNotice,
    }
    notices = NOTICES.name(namespace)
    inputs = bytes_topic(
        app, *models, partitions=ASSESSMENTS.partition_count(settings.pipeline_partitions)
    )
    lifecycle, state_topic, dlq = (
        LIFECYCLE.name(namespace),
        ALERT_STATE.name(namespace),
        DLQ.name(namespace),
    )
    # The state is stored as its JSON text: strict records read back only in JSON mode.
    cases = app.Table(
        "cases",
        partitions=ASSESSMENTS.partition_count(settings.pipeline_partitions),
        key_type=str,
        value_type=str,
    )
    index = DueIndex()

    def state_of(batch: Batch, key: str) -> CaseState | None:
        """The case as this batch left it, parsed once per batch."""
        state = batch.memo.get(key, _UNREAD)
        if state is _UNREAD:
            stored = cases.get(key)
            state = CaseState.model_validate_json(stored) if stored else None
            batch.memo[key] = state
        return state  # type: ignore[no-any-return]

    def handle(event: faust.types.EventT, batch: Batch) -> None:
        message = event.message
        item: Input = models[message.topic].model_validate_json(message.value or b"")  # type: ignore[assignment]
        key = item.case_key
        if (message.key or b"").decode("utf-8", "replace") != key:
            batch.dead_letter(
                event,
                Rejection(
                    RejectReason.INVALID_FIELD,
                    "record key must equal its case_key (co-partitioning)",
                ),
            )
            return
        state = state_of(batch, key)
        decision = decide(state, item, message_time(message) or clock(), rules)
        for record in decision.outputs:
            body = encode_record(record)
            batch.send(lifecycle, key=record.alert_id.encode(), value=body)
            batch.send_latest(state_topic, key=record.alert_id.encode(), value=body)
            ALERT_TRANSITIONS.labels(record.transition.value, str(record.alert.tier)).inc()
        for notice in decision.notices:
            batch.send(notices, key=notice.case_key.encode(), value=encode_record(notice))
        if decision.suppressed is not None:
            ENGINE_SUPPRESSED.labels(decision.suppressed.value).inc()
        if decision.state != state:
            batch.memo[key] = decision.state
            batch.put(cases, key, decision.state, encode=CaseState.stored)
        index.schedule(key, _due(decision.state))

    def due_of(_key: str, stored: str, _now: float) -> float | None:
        return _due(CaseState.model_validate_json(stored))

    @app.agent(inputs, name="respond", concurrency=1)
    async def respond(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app,
            stream,
            name="respond",
            dlq_topic=dlq,
            clock=clock,
            handle=handle,
            within=batch_window,
        )

    register_due_timer(
        app,
        name="case-clocks",
        interval=settings.tick_interval.total_seconds(),
        table=cases,
        index=index,
        due_of=due_of,
        topic=TICKS.name(namespace),
        clock=clock,
    )


def _due(state: CaseState | None) -> float | None:
    return state.next_due_at.timestamp() if state is not None and state.next_due_at else None
