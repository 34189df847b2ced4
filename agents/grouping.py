"""The grouping stage's shell: surge key reports, order delays and voices -> parent signals.

Thin. Surge keys live in different partitions of the `surge-keys` table and orders in the
`orders` table, so merging one cause into one incident needs one place: every surge report
and every order delay signal is sent to `kesu.grouping.reports` (one partition) under one
constant key (those of one batch folded into one `GroupReports` record), and this agent keeps
the `groups` table (one partition: the book, as an index entry plus one entry per incident,
held key and route, so an input rewrites only what it changed), calls
complaints.group_stage.advance, sends the parent signals to the engine (keyed by the parent's
case) and stores the changed entries. Reports are rare next to contacts (a surging key reports
each contact while it surges; an order a few times per delay); voices (one per negative text,
for emerging issues, complaints/emerging_incidents.py; ingest folds the voices of one batch
into one `IssueVoices` record) are not, so the book is kept in memory between batches (rebuilt only when the table moved on without it: another
worker had the partition, or a batch did not finish) and the grouper's groups are entries of
their own, written only when changed (`GroupStep.writes`).

Outputs are acknowledged by Kafka before the table is written (agents/batches; the book is
carried in memory through a batch); a replayed input is in its entry's recent ids, and its
signals have derived ids the engine drops anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

import faust
from faust.types import TP
from pydantic import BaseModel, Field, TypeAdapter

from agents.batches import Batch, consume_in_batches, deliver
from agents.kafka_io import bytes_topic
from complaints.group_stage import GroupInput, advance
from complaints.grouping import GroupBook
from complaints.rules import RuleBook
from kesu.metrics import GROUPING_STEPS
from kesu.settings import Settings
from streams.codec import encode_record
from streams.records import GroupReports, IssueVoices, Signal, SurgeReport, Tick
from streams.topics import DLQ, GROUP_REPORTS, SIGNALS

#: The one key of the reports topic and of the book's table entry.
GROUPS_KEY = b"groups"

#: The table entry counting the batches that wrote the book: the cache is the table's when equal.
GENERATION_ENTRY = "generation"

#: Voices are most inputs: tried first, and the first record type that fits is the one.
_INPUT: TypeAdapter[GroupInput] = TypeAdapter(
    Annotated[GroupInput, Field(union_mode="left_to_right")]
)


def inputs_of(value: bytes) -> tuple[GroupInput, ...]:
    """The inputs of one reports record: the voices of one ingest batch (`IssueVoices`), the
    surge reports or delay signals of one batch (`GroupReports`), or (a tick, or written by
    an earlier version) one surge report, delay signal or voice."""
    if value.startswith(b'{"voices"'):
        return IssueVoices.model_validate_json(value).voices
    if value.startswith(b'{"reports"'):
        return GroupReports.model_validate_json(value).reports
    return (_INPUT.validate_json(value),)


def send_report(batch: Batch, topic: str, report: Signal | SurgeReport) -> None:
    """Stage `report` for the grouping stage, folded with the batch's others into one
    `GroupReports` record (in the order staged)."""
    batch.send_folded(topic, key=GROUPS_KEY, item=report, encode=_reports_record)


def _reports_record(reports: list[Signal | SurgeReport]) -> bytes:
    return encode_record(GroupReports(reports=tuple(reports)))


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    batch_window = settings.worker_signal_batch_window.total_seconds()
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

    stage = GroupingStage(books, rules, signals)

    stage_partition = TP(reports.get_topic_name(), 0)

    async def clock_tick() -> None:
        """Tell the stage the time (in order with its inputs), so quiet issues close when no
        voice comes; only the worker that holds the stage's partition does."""
        if app.rebalancing or not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return
        if stage_partition not in app.consumer.assignment():
            return
        ticks = Batch(app, "", clock)
        ticks.send(
            reports.get_topic_name(),
            key=GROUPS_KEY,
            value=encode_record(Tick(case_key="groups", at=clock())),
        )
        await deliver(app, ticks, "grouping-clock")

    app.timer(
        interval=settings.tick_interval.total_seconds(), on_leader=False, name="grouping-clock"
    )(clock_tick)

    @app.agent(reports, name="grouping", concurrency=1)
    async def group(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app,
            stream,
            name="grouping",
            dlq_topic=dlq,
            clock=clock,
            handle=stage.handle,
            within=batch_window,
            after_batch=stage.finished,
        )


class GroupingStage:
    """The stage's handler over its `groups` table (a Faust table, or any mapping in tests).

    The book is carried in memory from batch to batch (`finished`) and read again from the
    table only when the table moved on without it (the generation entry differs: another
    worker had the partition, or a batch did not finish).
    """

    def __init__(self, books: Any, rules: RuleBook, signals_topic: str) -> None:
        self.books = books
        self.rules = rules
        self.signals_topic = signals_topic
        # The book as the last finished batch left it, and that batch's generation.
        self.cached: GroupBook | None = None
        self.cached_generation: int | None = None

    def handle(self, event: faust.types.EventT, batch: Batch) -> None:
        """Step the book through every input of one reports record."""
        items = inputs_of(event.message.value or b"")
        failed: Exception | None = None
        for item in items:
            try:
                self._step(item, batch)
            except Exception as exc:  # the record's other voices still count
                failed = failed or exc
        if failed is not None:  # the record is a dead letter whole (its voices replay as seen)
            raise failed

    def finished(self, batch: Batch) -> None:
        """The batch's writes are in the table: its book is the table's."""
        if "book" in batch.memo:
            self.cached, self.cached_generation = batch.memo["book"], batch.memo["generation"]

    def _step(self, item: GroupInput, batch: Batch) -> None:
        book = batch.memo.get("book")
        if book is None:
            book = self._load(batch)
        try:
            step = advance(book, item, self.rules)
        except Exception:
            # The issue state may be half changed in place: read it again from the table
            # (and this batch's writes) for the next event.
            batch.memo.pop("book", None)
            raise
        for signal in step.signals:
            batch.send(
                self.signals_topic, key=signal.case_key.encode(), value=encode_record(signal)
            )
        GROUPING_STEPS.labels(step.reason.value.lower()).inc()
        if step.book is not book:
            for name, part in step.book.changed_parts(book).items():
                batch.put(self.books, name, part, encode=_entry_text)
        for name, written in step.writes:  # the issue groups changed in place
            batch.put(self.books, name, written)
        batch.memo["book"] = step.book

    def _load(self, batch: Batch) -> GroupBook:
        generation = int(batch.get(self.books, GENERATION_ENTRY) or 0)
        if batch.memo.get("generation") is None:  # the batch's first event
            batch.memo["generation"] = generation + 1
            batch.put(self.books, GENERATION_ENTRY, str(generation + 1))
            cached = self.cached
            if cached is not None and self.cached_generation == generation:
                self.cached = None  # changed in place from here: not the table's until written
                return cached
        self.cached = None
        return GroupBook.from_entries(
            lambda name: self._read(batch, name), lambda prefix: self._scan(batch, prefix)
        )

    def _read(self, batch: Batch, name: str) -> str | None:
        """An entry's JSON text as this batch left it (a staged part is not encoded yet)."""
        return _entry_text(batch.get(self.books, name))  # type: ignore[no-any-return]

    def _scan(self, batch: Batch, prefix: str) -> Iterator[tuple[str, str]]:
        """Entries whose names start with `prefix`, as this batch left them."""
        staged = {w.key for w in batch.writes.values() if w.table is self.books}
        names = {*(k for k in self.books.keys() if k.startswith(prefix)), *staged}
        for name in sorted(names):
            if name.startswith(prefix) and (text := self._read(batch, name)) is not None:
                yield name, text


def _entry_text(value: Any) -> Any:
    """What the `groups` table stores for a staged value: a book part as its JSON text."""
    return value.model_dump_json() if isinstance(value, BaseModel) else value
