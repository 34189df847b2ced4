"""Surge detection's shell: negative contacts per key -> surge signals for the response engine.

Thin, three parts around complaints.surge_track:
- `surge-fanout` reads scored contacts and re-keys each negative one by every surge key it
  counts toward ("batch:B2511-07", "region:华东-上海", …), so a key's counts and baseline live
  in one partition of the `surge-keys` table;
- `surge` counts, judges and reports to the grouping stage (agents/grouping.py, one partition)
  when the key's surge opens, grows, gains a contact or closes; that stage merges the keys of
  one burst into one incident and sends the engine its parent signal;
- a timer sends a Tick for each key with an open surge once its window has passed, so silence
  closes a surge (timers cannot write tables; the agent decides).

Outputs are acknowledged by Kafka before the table is written; a replayed input yields the
same report id, which the grouping stage drops.

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
from datetime import UTC, datetime

import faust

from agents.grouping import GROUPS_KEY
from agents.kafka_io import bytes_topic, dead_letter_message, log_failure, processing_failed
from agents.sending import send_confirmed
from complaints.rules import RuleBook
from complaints.surge import surge_keys
from complaints.surge_track import SurgeEntry, next_tick_at, on_contact, on_tick, parse_key
from kesu.metrics import SURGE_CONTACTS_COUNTED, SURGE_SIGNALS
from kesu.settings import Settings
from streams.codec import encode_record
from streams.records import AssessedEvent, Tick
from streams.topics import ASSESSMENTS, DLQ, GROUP_REPORTS, SURGE_CONTACTS, SURGE_TICKS

log = logging.getLogger(__name__)

#: Do not re-send a tick for the same window sooner than this (the agent may be busy).
_RESEND_AFTER_SECONDS = 30.0


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    namespace = settings.namespace
    policy = rules.surge
    contacts_topic, ticks_topic = SURGE_CONTACTS.name(namespace), SURGE_TICKS.name(namespace)
    reports, dlq = GROUP_REPORTS.name(namespace), DLQ.name(namespace)
    max_members = rules.grouping.window_members
    assessments = bytes_topic(app, ASSESSMENTS.name(namespace))
    keyed = bytes_topic(app, contacts_topic, ticks_topic, partitions=SURGE_CONTACTS.partitions)
    # Values are JSON text: strict records read back only in JSON mode.
    entries = app.Table(
        "surge-keys", partitions=SURGE_CONTACTS.partitions, key_type=str, value_type=str
    )
    due = app.Table(
        "surge-due", partitions=SURGE_CONTACTS.partitions, key_type=str, value_type=float
    )

    @app.agent(assessments, name="surge-fanout", concurrency=1)
    async def fan_out(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                contact = AssessedEvent.model_validate_json(message.value or b"")
                body = None
                for key in surge_keys(contact, policy):
                    body = body or encode_record(contact)
                    await send_confirmed(app, contacts_topic, key=key.text.encode(), value=body)
                    SURGE_CONTACTS_COUNTED.labels(key.dimension).inc()
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("surge-fanout", message, exc)
                await dead_letter_message(app, dlq, processing_failed(exc), message, clock())

    @app.agent(keyed, name="surge", concurrency=1)
    async def judge(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                text = (message.key or b"").decode("utf-8")
                key = parse_key(text)
                stored = entries.get(text)
                entry = SurgeEntry.from_json(stored) if stored else SurgeEntry()
                if message.topic == contacts_topic:
                    contact = AssessedEvent.model_validate_json(message.value or b"")
                    step = on_contact(entry, key, contact, policy, max_members)
                else:
                    tick = Tick.model_validate_json(message.value or b"")
                    step = on_tick(entry, key, tick.at, policy)
                if step.report is not None:
                    report = step.report
                    await send_confirmed(app, reports, key=GROUPS_KEY, value=encode_record(report))
                    SURGE_SIGNALS.labels(key.dimension, report.change.value).inc()
                if step.entry != entry:
                    entries[text] = step.entry.to_json()
                tick_at = next_tick_at(step.entry, policy)
                if tick_at is None:
                    due.pop(text, None)
                elif due.get(text) != tick_at.timestamp():
                    due[text] = tick_at.timestamp()
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("surge", message, exc)
                await dead_letter_message(app, dlq, processing_failed(exc), message, clock())

    sent: dict[str, tuple[float, float]] = {}  # key -> (due time ticked, when)

    @app.timer(interval=settings.tick_interval.total_seconds(), on_leader=False)
    async def tick_open_surges() -> None:
        now = clock()
        moment = now.timestamp()
        for text, at in list(due.items()):
            if at is None or at > moment:
                continue
            previous = sent.get(text)
            if previous and previous[0] == at and moment - previous[1] < _RESEND_AFTER_SECONDS:
                continue
            tick = Tick(case_key=text, at=datetime.fromtimestamp(moment, UTC))
            await send_confirmed(app, ticks_topic, key=text.encode(), value=encode_record(tick))
            sent[text] = (at, moment)
        for text in [
            k for k, (_, when) in sent.items() if moment - when > 10 * _RESEND_AFTER_SECONDS
        ]:
            del sent[text]
