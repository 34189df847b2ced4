"""What the grouping stage reads from `kesu.grouping.reports`: the voices of one ingest batch
folded into one record, the surge reports or delays of one batch folded into one record, and
every single record (a tick, or a surge report, delay or voice an earlier version wrote one a
record) as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from agents.grouping import _reports_record, inputs_of
from agents.ingest import VOICES_PER_RECORD, _voices_record
from complaints.group_stage import advance
from complaints.rules import load_rules
from streams.codec import encode_record
from streams.records import Category, IssueVoice, Source, Tick
from tests.factories import T0
from tests.unit.complaints.test_emerging_incidents import earbud_voices
from tests.unit.complaints.test_surge_incidents import report
from tests.unit.complaints.test_waves import delay

RULES = load_rules()


def test_a_folded_record_reads_back_as_its_voices_in_order() -> None:
    voices = earbud_voices(5)
    assert inputs_of(_voices_record(voices)) == tuple(voices)


def test_single_records_still_read_as_one_input() -> None:
    (voice,) = earbud_voices(1)
    assert inputs_of(encode_record(voice)) == (voice,)
    tick = Tick(case_key="groups", at=T0)
    assert inputs_of(encode_record(tick)) == (tick,)


def test_folded_reports_read_back_as_surge_reports_and_delays_in_order() -> None:
    reports = [delay(1), report("sku:SX1-256G"), delay(2), report("batch:B2511-07")]
    assert inputs_of(_reports_record(reports)) == tuple(reports)
    assert inputs_of(encode_record(reports[0])) == (reports[0],), "a single one as before"
    assert inputs_of(encode_record(reports[1])) == (reports[1],)


def test_delays_folded_open_a_wave_as_they_did_one_a_record() -> None:
    """Through Kafka's bytes and back, folded by batch or one a record: the same steps."""
    delays = [delay(n, T0 + timedelta(minutes=n)) for n in range(7)]
    runs = []
    for records in (
        [encode_record(d) for d in delays],
        [_reports_record(delays[:3]), _reports_record(delays[3:])],
    ):
        steps, book = [], None
        for record in records:
            for item in inputs_of(record):
                step = advance(book, item, RULES)
                steps.append((step.signals, step.reason, step.writes))
                book = step.book
        runs.append(steps)
    assert any(signals for signals, _, _ in runs[0]), "seven delays on one route open a wave"
    assert runs[1] == runs[0]


@pytest.mark.parametrize("empty", [b'{"voices":[]}', b'{"reports":[]}'])
def test_an_empty_fold_is_refused(empty: bytes) -> None:
    with pytest.raises(ValidationError):
        inputs_of(empty)


def test_voices_folded_group_as_they_did_one_a_record() -> None:
    """Through Kafka's bytes and back, folded in batches or one a record: the same steps."""
    voices = earbud_voices(12, start=T0 - timedelta(hours=1))
    singles, book = [], None
    for voice in voices:
        for item in inputs_of(encode_record(voice)):
            step = advance(book, item, RULES)
            singles.append((step.signals, step.reason, step.writes))
            book = step.book
    folded, book = [], None
    for start in range(0, len(voices), 5):
        for item in inputs_of(_voices_record(voices[start : start + 5])):
            step = advance(book, item, RULES)
            folded.append((step.signals, step.reason, step.writes))
            book = step.book
    assert any(signals for signals, _, _ in singles), "the earbud voices open an issue"
    assert folded == singles


def test_a_record_of_the_largest_voices_fits_a_kafka_record() -> None:
    """Kafka's default max.message.bytes is 1 MB; a refused record would dead-letter only
    the event that sealed it, so a full fold of the largest voices must fit."""
    largest = IssueVoice(
        voice_id="social:" + "e" * 120,
        case_key="customer:" + "c" * 190,
        customer="customer:" + "c" * 190,
        event_id="e" * 120,
        occurred_at=T0,
        source=Source.SOCIAL,
        category=Category.PRODUCT_QUALITY,
        intensity=100,
        masked_text="耳机右边没声音" * 285 + "啊" * 5,
        keys=tuple(f"batch:{'B' * 180}{n}" for n in range(8)),
    )
    assert len(largest.masked_text) == 2000
    record = _voices_record([largest] * VOICES_PER_RECORD)
    assert len(record) < 1_000_000
