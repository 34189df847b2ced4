"""The grouping stage's shell: surge key reports and order delays -> parent incident signals.

Thin. Surge keys live in different partitions of the `surge-keys` table and orders in the
`orders` table, so merging one cause into one incident needs one place: every surge report
and every order delay signal is sent to `kesu.grouping.reports` (one partition) under one
constant key, and this agent keeps the `groups` table (one partition: the book, as an index
entry plus one entry per incident, held key and route, so an input rewrites only what it
changed), calls complaints.group_stage.advance, sends the parent signals to the engine (keyed
by the parent's case) and stores the changed entries. Reports are rare next to contacts (a
surging key reports each contact while it surges; an order a few times per delay), so one
partition is cheap.

Outputs are acknowledged by Kafka before the table is written (agents/batches; the book is
carried in memory through a batch); a replayed input is in its entry's recent ids, and its
signals have derived ids the engine drops anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import faust
from pydantic import TypeAdapter

from agents.batches import Batch, consume_in_batches
from agents.kafka_io import bytes_topic
from complaints.group_stage import GroupInput, advance
from complaints.grouping import GroupBook
from complaints.rules import RuleBook
from kesu.metrics import GROUPING_STEPS
from kesu.settings import Settings
from streams.codec import encode_record
from streams.records import Signal, SurgeReport
from streams.topics import DLQ, GROUP_REPORTS, SIGNALS

#: The one key of the reports topic and of the book's table entry.
GROUPS_KEY = b"groups"

_INPUT: TypeAdapter[SurgeReport | Signal] = TypeAdapter(SurgeReport | Signal)


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    namespace = settings.namespace
    signals, dlq = SIGNALS.name(namespace), DLQ.name(namespace)
    reports = bytes_topic(
        app,
        GROUP_REPORTS.name(namespace),
        partitions=GROUP_REPORTS.partition_count(settings.pipeline_partitions),
    )
    # The book is stored as its JSON text: strict records read back only in JSON mode.
    books = app.Table(
        "groups",
        partitions=GROUP_REPORTS.partition_count(settings.pipeline_partitions),
        key_type=str,
        value_type=str,
    )

    def handle(event: faust.types.EventT, batch: Batch) -> None:
        message = event.message
        item: GroupInput = _INPUT.validate_json(message.value or b"")
        book = batch.memo.get("book")
        if book is None:
            book = GroupBook.from_entries(lambda name: batch.get(books, name))
        step = advance(book, item, rules)
        for signal in step.signals:
            batch.send(signals, key=signal.case_key.encode(), value=encode_record(signal))
        GROUPING_STEPS.labels(step.reason.value.lower()).inc()
        if step.book != book:
            before, after = book.entries(), step.book.entries()
            for name, text in after.items():
                if before.get(name) != text:
                    batch.put(books, name, text)
            for name in before.keys() - after.keys():
                batch.put(books, name, None)
        batch.memo["book"] = step.book

    @app.agent(reports, name="grouping", concurrency=1)
    async def group(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app, stream, name="grouping", dlq_topic=dlq, clock=clock, handle=handle
        )
