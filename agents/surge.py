"""Surge detection's shell: negative contacts per key -> surge signals for the response engine.

Thin, two parts around complaints.surge_track (the ingest agent publishes each negative
contact once per surge key it counts toward — "batch:B2511-07", "region:华东-上海", … — so a
key's counts and baseline live in one partition of the `surge-keys` table; the contacts of one
ingest batch travel to a key as one compact `SurgeContacts` record):
- `surge` counts, judges and reports to the grouping stage (agents/grouping.py, one partition)
  when the key's surge opens, grows, gains a contact or closes; that stage merges the keys of
  one burst into one incident and sends the engine its parent signal;
- a timer sends a Tick for each key with an open surge once its window has passed, so silence
  closes a surge (timers cannot write tables; the agent decides); it finds them in an
  in-memory due index rebuilt from the table after a rebalance.

Outputs are acknowledged by Kafka before the table is written (agents/batches): a replayed
input yields the same report id, which the grouping stage drops. Several contacts of one key
in a batch fold into its entry in memory: parsed once, written once. A record's contacts are
judged in full before anything is staged, so one that fails part-way is a dead letter whole.

Why a plain table holding each key's current window, not a Faust windowed table: the baseline
must fold every closed window exactly once, in order, inside the stream. A windowed table hands
closed windows to `on_window_close` from a background expiry task, and windows that expire
across a crash or rebalance are dropped without the callback (faust-streaming/faust#193, open),
so a baseline would silently miss them. Here the window arithmetic is the pure core's
(complaints/surge_baseline.window_index) and the table's changelog restores it exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import faust

from agents.batches import Batch, consume_in_batches
from agents.due_index import DueIndex, register_due_timer
from agents.grouping import send_report
from agents.kafka_io import bytes_topic
from complaints.rules import RuleBook, SurgePolicy
from complaints.surge_track import (
    SurgeEntry,
    counted_contact,
    next_tick_at,
    on_contacts,
    on_tick,
    parse_key,
)
from kesu.metrics import SURGE_SIGNALS
from kesu.settings import Settings
from streams.records import AssessedEvent, SurgeContact, SurgeContacts, Tick
from streams.topics import DLQ, GROUP_REPORTS, SURGE_CONTACTS, SURGE_TICKS

log = logging.getLogger(__name__)

_UNREAD = object()


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    batch_window = settings.worker_signal_batch_window.total_seconds()
    namespace = settings.namespace
    policy = rules.surge
    contacts_topic, ticks_topic = SURGE_CONTACTS.name(namespace), SURGE_TICKS.name(namespace)
    reports, dlq = GROUP_REPORTS.name(namespace), DLQ.name(namespace)
    max_members = rules.grouping.window_members
    keyed = bytes_topic(
        app,
        contacts_topic,
        ticks_topic,
        partitions=SURGE_CONTACTS.partition_count(settings.pipeline_partitions),
    )
    # Values are JSON text: strict records read back only in JSON mode.
    entries = app.Table(
        "surge-keys",
        partitions=SURGE_CONTACTS.partition_count(settings.pipeline_partitions),
        key_type=str,
        value_type=str,
    )
    index = DueIndex()

    def entry_of(batch: Batch, text: str) -> SurgeEntry:
        entry = batch.memo.get(text, _UNREAD)
        if entry is _UNREAD:
            stored = entries.get(text)
            entry = SurgeEntry.from_json(stored) if stored else SurgeEntry()
            batch.memo[text] = entry
        return entry  # type: ignore[no-any-return]

    def handle(event: faust.types.EventT, batch: Batch) -> None:
        message = event.message
        text = (message.key or b"").decode("utf-8")
        key = parse_key(text)
        entry = entry_of(batch, text)
        if message.topic == contacts_topic:
            contacts = contacts_of(message.value or b"", policy)
            steps = on_contacts(entry, key, contacts, policy, max_members)
        else:
            tick = Tick.model_validate_json(message.value or b"")
            steps = [on_tick(entry, key, tick.at, policy)]
        # decided in full before anything is staged: a record that fails part-way is a dead
        # letter as a whole, with no half of its contacts counted
        said = [s.report for s in steps if s.report is not None]
        for report in said:
            send_report(batch, reports, report)
            SURGE_SIGNALS.labels(key.dimension, report.change.value).inc()
        last = steps[-1].entry
        if last != entry:
            batch.memo[text] = last
            batch.put(entries, text, last, encode=SurgeEntry.to_json)
        index.schedule(text, _tick_at(last, policy))

    def due_of(_key: str, stored: str, _now: float) -> float | None:
        return _tick_at(SurgeEntry.from_json(stored), policy)

    @app.agent(keyed, name="surge", concurrency=1)
    async def judge(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app,
            stream,
            name="surge",
            dlq_topic=dlq,
            clock=clock,
            handle=handle,
            within=batch_window,
        )

    register_due_timer(
        app,
        name="surge-windows",
        interval=settings.tick_interval.total_seconds(),
        table=entries,
        index=index,
        due_of=due_of,
        topic=ticks_topic,
        clock=clock,
    )


def contacts_of(value: bytes, policy: SurgePolicy) -> tuple[SurgeContact, ...]:
    """The contacts of a surge-contacts record: a SurgeContacts, or (written by a worker of
    an earlier version, still on the topic after an upgrade) one whole AssessedEvent."""
    if value.startswith(b'{"contacts"'):
        return SurgeContacts.model_validate_json(value).contacts
    counted = counted_contact(AssessedEvent.model_validate_json(value), policy)
    if counted is None:
        raise ValueError("a contact that counts toward no surge key")
    return (counted,)


def _tick_at(entry: SurgeEntry, policy: SurgePolicy) -> float | None:
    moment = next_tick_at(entry, policy)
    return moment.timestamp() if moment is not None else None
