"""The response engine's shell: contacts, actions, clock ticks, signals and notices -> lifecycle.

Thin: parse, call complaints.engine.decide, publish, store. The five input topics are keyed
by case and co-partitioned with the `cases` table. A parent incident that ends tells each of
its member cases (other partitions) through `kesu.engine.notices`, which this agent reads too.
Outputs are acknowledged by Kafka before the table is written: a crash in between replays the
input, and decide() then produces the very same records (same alert_id:version) and notices
(same notice_id), which consumers de-duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import faust
from pydantic import BaseModel

from agents.kafka_io import bytes_topic, dead_letter_message, log_failure, processing_failed
from agents.sending import send_confirmed
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


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> faust.types.TableT:
    """Add the respond agent; returns the `case-due` table the clock timer scans."""
    namespace = settings.namespace
    models: dict[str, type[BaseModel]] = {
        ASSESSMENTS.name(namespace): AssessedEvent,
        ACTIONS.name(namespace): AlertAction,
        TICKS.name(namespace): Tick,
        SIGNALS.name(namespace): Signal,
        NOTICES.name(namespace): GroupNotice,
    }
    notices = NOTICES.name(namespace)
    inputs = bytes_topic(app, *models, partitions=ASSESSMENTS.partitions)
    lifecycle, state_topic, dlq = (
        LIFECYCLE.name(namespace),
        ALERT_STATE.name(namespace),
        DLQ.name(namespace),
    )
    # The state is stored as its JSON text: strict records read back only in JSON mode.
    cases = app.Table("cases", partitions=ASSESSMENTS.partitions, key_type=str, value_type=str)
    due = app.Table("case-due", partitions=ASSESSMENTS.partitions, key_type=str, value_type=float)

    @app.agent(inputs, name="respond", concurrency=1)
    async def respond(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                item: Input = models[message.topic].model_validate_json(message.value or b"")  # type: ignore[assignment]
                key = item.case_key
                if (message.key or b"").decode("utf-8", "replace") != key:
                    await dead_letter_message(
                        app,
                        dlq,
                        Rejection(
                            RejectReason.INVALID_FIELD,
                            "record key must equal its case_key (co-partitioning)",
                        ),
                        message,
                        clock(),
                    )
                    continue
                stored = cases.get(key)
                state = CaseState.model_validate_json(stored) if stored else None
                now = (
                    datetime.fromtimestamp(message.timestamp, UTC) if message.timestamp else clock()
                )
                decision = decide(state, item, now, rules)
                for record in decision.outputs:
                    body = encode_record(record)
                    await send_confirmed(app, lifecycle, key=record.alert_id.encode(), value=body)
                    await send_confirmed(app, state_topic, key=record.alert_id.encode(), value=body)
                    ALERT_TRANSITIONS.labels(record.transition.value, str(record.alert.tier)).inc()
                for notice in decision.notices:
                    await send_confirmed(
                        app, notices, key=notice.case_key.encode(), value=encode_record(notice)
                    )
                if decision.suppressed is not None:
                    ENGINE_SUPPRESSED.labels(decision.suppressed.value).inc()
                if decision.state == state:
                    continue
                if decision.state is None:
                    cases.pop(key, None)
                    due.pop(key, None)
                    continue
                cases[key] = decision.state.model_dump_json()
                if decision.state.next_due_at is None:
                    due.pop(key, None)
                else:
                    due[key] = decision.state.next_due_at.timestamp()
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("respond", message, exc)
                await dead_letter_message(app, dlq, processing_failed(exc), message, clock())

    return due
