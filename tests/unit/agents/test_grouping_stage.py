"""The grouping stage's shell over a plain dict table: what it stores after each batch is what
folding the same inputs one by one stores (tests/unit/complaints/test_emerging_incidents.py
`Stage`), whether a batch holds one record or many, a record fails half-way, or the book is
read back from the table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import agents.grouping as grouping
from agents.batches import Batch, apply_writes
from agents.grouping import GENERATION_ENTRY, GroupingStage
from agents.ingest import _voices_record
from complaints.group_stage import GroupInput
from complaints.group_stage import advance as real_advance
from complaints.rules import load_rules
from streams.codec import encode_record
from streams.records import IssueVoice, SurgeReport
from tests.unit.complaints.test_emerging_incidents import Stage, earbud_voices
from tests.unit.complaints.test_surge_incidents import report

RULES = load_rules()
SIGNALS = "signals"


@dataclass
class Message:
    value: bytes


@dataclass
class Event:
    message: Message


def record_of(items: Sequence[GroupInput]) -> Event:
    """One `kesu.grouping.reports` record: folded voices, or one other input."""
    if all(isinstance(i, IssueVoice) for i in items):
        return Event(Message(_voices_record(list(items))))  # type: ignore[arg-type]
    (item,) = items
    return Event(Message(encode_record(item)))


def run_batch(stage: GroupingStage, events: Iterable[Event]) -> tuple[Batch, list[Event]]:
    """One batch as agents/batches runs it (without Kafka): handle, write, finish; the events
    whose handling raised (dead letters there)."""
    batch = Batch(app=None, dlq_topic="dlq", clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    failed = []
    for event in events:
        batch.current = event  # type: ignore[assignment]
        try:
            stage.handle(event, batch)  # type: ignore[arg-type]
        except Exception:
            failed.append(event)
    batch.seal()
    apply_writes(batch)
    stage.finished(batch)
    return batch, failed


def reference(items: Iterable[GroupInput]) -> dict[str, str]:
    stage = Stage(RULES)
    stage(items)
    return stage.table


def stored(table: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in table.items() if k != GENERATION_ENTRY}


def inputs() -> list[list[GroupInput]]:
    """Records of a day: a surge report (an incident), folded voices, another report."""
    voices = earbud_voices(12)
    burst = report("product:耳机")
    again = report("region:华南-广州")
    return [[burst], voices[:5], voices[5:9], [again], voices[9:]]


def test_one_batch_stores_what_folding_one_by_one_stores() -> None:
    table: dict[str, Any] = {}
    stage = GroupingStage(table, RULES, SIGNALS)
    records = inputs()
    batch, failed = run_batch(stage, (record_of(r) for r in records))
    assert not failed
    assert stored(table) == reference(i for r in records for i in r)
    assert all(isinstance(v, str) for v in table.values())  # text, never a staged part
    assert any(name.startswith("incident|") for name in table)
    assert [o.topic for o in batch.outputs] and {o.topic for o in batch.outputs} == {SIGNALS}


def test_batch_by_batch_and_after_the_table_moved_on_the_same_is_stored() -> None:
    records = inputs()
    table: dict[str, Any] = {}
    stage = GroupingStage(table, RULES, SIGNALS)
    for r in records[:3]:
        run_batch(stage, [record_of(r)])
    # Another worker took the partition for a while: a stage that never saw these batches
    # reads the book from the table (and its cache is not the table's any more).
    other = GroupingStage(table, RULES, SIGNALS)
    run_batch(other, [record_of(records[3])])
    run_batch(stage, [record_of(records[4])])
    assert stored(table) == reference(i for r in records for i in r)


def test_a_voice_that_fails_leaves_the_records_others_and_the_batchs_later_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The failing record is a dead letter whole, but its other voices and every later record
    of the batch are placed; the stage reads its book back from the batch's staged writes."""
    records = inputs()
    poisoned = records[2][1]

    def advance(book: Any, item: GroupInput, rules: Any) -> Any:
        if item == poisoned:
            raise ValueError("a voice the grouper cannot take")
        return real_advance(book, item, rules)

    monkeypatch.setattr(grouping, "advance", advance)
    table: dict[str, Any] = {}
    stage = GroupingStage(table, RULES, SIGNALS)
    events = [record_of(r) for r in records]
    _, failed = run_batch(stage, events)
    assert failed == [events[2]]
    kept = [i for r in records for i in r if i != poisoned]
    assert stored(table) == reference(kept)
    assert all(isinstance(v, str) for v in table.values())


def test_a_surge_report_is_stored_as_reports_alone_would_be() -> None:
    table: dict[str, Any] = {}
    stage = GroupingStage(table, RULES, SIGNALS)
    burst: SurgeReport = report("product:耳机")
    run_batch(stage, [record_of([burst])])
    assert stored(table) == reference([burst]) != {}
