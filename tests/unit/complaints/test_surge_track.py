"""A surge key's life in the worker: contacts and ticks in, reports for the grouping stage out."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from complaints.rules import load_rules
from complaints.surge import SurgeKey
from complaints.surge_track import (
    REMEMBERED_CONTACTS,
    Step,
    SurgeEntry,
    case_key_of,
    counted_contact,
    next_tick_at,
    on_contact,
    on_tick,
    parse_key,
)
from streams.records import AssessedEvent, Source, SurgeChange, SurgeContact, SurgeReport
from tests.factories import T0, make_assessed

POLICY = load_rules().surge
W = timedelta(minutes=15)
BATCH = SurgeKey("batch", "B2511-07")


def _complaint(minute: float, number: int) -> SurgeContact:
    contact = counted_contact(_assessed(minute, number), POLICY)
    assert contact is not None
    return contact


def _assessed(minute: float, number: int) -> AssessedEvent:
    return make_assessed(
        customer=f"c{number}",
        at=T0 + timedelta(minutes=minute),
        event_id=f"e{number}",
        source=Source.SOCIAL,
        batch=BATCH.value,
        keywords=("发热", "黑屏"),
        masked_text=f"手机发热黑屏 {number}",
    )


def _feed(entry: SurgeEntry, contacts: list[SurgeContact]) -> tuple[SurgeEntry, list[SurgeReport]]:
    reports: list[SurgeReport] = []
    for contact in contacts:
        step = on_contact(entry, BATCH, contact, POLICY)
        entry = step.entry
        if step.report:
            reports.append(step.report)
    return entry, reports


def test_a_burst_on_a_new_key_reports_its_opening_with_the_windows_members() -> None:
    entry, reports = _feed(SurgeEntry(), [_complaint(1 + i * 0.5, i) for i in range(6)])
    assert [r.change for r in reports] == [SurgeChange.OPENED, SurgeChange.JOINED]
    opened = reports[0]
    assert opened.key == "batch:B2511-07" and opened.detail.new_key
    assert [(m.case_key, m.event_id) for m in opened.members] == [
        (f"customer:c{i}", f"e{i}") for i in range(5)
    ]
    assert opened.detail.count == POLICY.min_count  # it opened on the 5th contact
    assert opened.detail.keywords[:2] == ("发热", "黑屏")
    assert len(opened.detail.examples) == POLICY.examples
    assert opened.first_seen == opened.opened_at == T0  # a key first seen in this window
    assert opened.variance >= opened.detail.expected > 0
    assert [m.event_id for m in reports[1].members] == ["e5"]  # each later contact, once
    assert entry.surging and next_tick_at(entry, POLICY) == T0 + W


def test_a_replayed_contact_yields_the_same_report_id() -> None:
    contacts = [_complaint(1 + i * 0.5, i) for i in range(6)]
    before, _ = _feed(SurgeEntry(), contacts[:4])
    first = on_contact(before, BATCH, contacts[4], POLICY)
    again = on_contact(before, BATCH, contacts[4], POLICY)
    assert first.report is not None and again.report is not None
    assert first.report.report_id == again.report.report_id
    later = on_contact(first.entry, BATCH, contacts[5], POLICY)
    assert later.report is not None and later.report.report_id != first.report.report_id


def test_growth_is_reported_and_silence_closes_the_key() -> None:
    entry, reports = _feed(SurgeEntry(), [_complaint(1 + i * 0.3, i) for i in range(10)])
    # opened at 5 contacts, grew at 8 (growth 1.5x); the others joined while it was open
    assert [r.change for r in reports] == [
        SurgeChange.OPENED,
        SurgeChange.JOINED,
        SurgeChange.JOINED,
        SurgeChange.GREW,
        SurgeChange.JOINED,
        SurgeChange.JOINED,
    ]
    assert [r.detail.count for r in reports if r.change is SurgeChange.GREW] == [8]
    assert {r.opened_at for r in reports} == {T0}
    closing: list[Step] = []
    for windows in range(1, POLICY.close_after + 3):
        step = on_tick(entry, BATCH, T0 + windows * W + timedelta(seconds=1), POLICY)
        entry = step.entry
        closing += [step] if step.report else []
    assert len(closing) == 1, "one close, then nothing"
    closed = closing[0].report
    assert closed is not None and closed.change is SurgeChange.CLOSED and closed.members == ()
    assert closed.opened_at == T0
    assert not entry.surging and next_tick_at(entry, POLICY) is None


def test_a_key_with_history_reports_its_first_window_and_is_not_new() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(-3 * 24 * 60, 100)])  # once, three days before
    entry, reports = _feed(entry, [_complaint(1 + i * 0.2, i) for i in range(8)])
    assert reports and reports[0].change is SurgeChange.OPENED
    assert not reports[0].detail.new_key
    assert reports[0].first_seen == T0 - timedelta(days=3)


def test_members_per_window_are_bounded() -> None:
    entry = SurgeEntry()
    for i in range(8):
        entry = on_contact(entry, BATCH, _complaint(1 + i * 0.2, i), POLICY, max_members=3).entry
    assert len(entry.sample.members) == 3 and entry.sample.count == 8


def test_a_contact_for_a_window_already_folded_changes_nothing() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(1, 1), _complaint(16, 2)])
    late = on_contact(entry, BATCH, _complaint(2, 3), POLICY)
    assert late.entry == entry and late.report is None and late.verdict is None


def test_a_quiet_key_folds_its_window_once_when_the_next_one_starts() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(1, 1), _complaint(2, 2)])
    assert entry.sample.count == 2 and entry.state.windows == 0
    first_window = entry.window
    assert first_window is not None
    entry, _ = _feed(entry, [_complaint(40, 3)])  # two windows later
    assert entry.state.last == first_window and entry.state.recent == (2,)
    assert entry.window == first_window + 2 and entry.sample.count == 1  # (the empty window
    # between is folded, as a zero, with the next fold)


def test_the_entry_round_trips_through_json() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(1 + i * 0.5, i) for i in range(6)])
    assert SurgeEntry.from_json(entry.to_json()) == entry


@pytest.mark.parametrize("text", ["batch", "batch:", "colour:red", ":x"])
def test_only_known_dimensions_are_surge_keys(text: str) -> None:
    with pytest.raises(ValueError, match="not a surge key"):
        parse_key(text)


def test_keys_parse_back() -> None:
    assert parse_key("region:华东-上海") == SurgeKey("region", "华东-上海")
    assert case_key_of(SurgeKey("carrier", "顺达快运")) == "surge:carrier:顺达快运"


def test_keys_read_in_chinese() -> None:
    from complaints.surge_sample import key_label

    assert key_label("category", "logistics") == "类别 物流"
    assert key_label("channel", "social") == "渠道 社交媒体"
    assert key_label("batch", "B2511-07") == "批次 B2511-07"


def test_a_contact_replayed_after_a_crash_is_not_counted_again() -> None:
    """Ingest re-sends the contacts whose de-duplication mark was lost in a crash (and the surge
    agent re-reads records whose table write it had made): each counts once, reports nothing new."""
    contacts = [_complaint(1 + i * 0.5, i) for i in range(6)]
    entry, reports = _feed(SurgeEntry(), contacts)
    assert [r.change for r in reports] == [SurgeChange.OPENED, SurgeChange.JOINED]
    again, replayed = _feed(entry, contacts)
    assert replayed == [] and again == entry
    assert entry.sample.count == 6
    later, _ = _feed(entry, [_complaint(30, 99)])  # the next window: the replay still known
    assert _feed(later, contacts[-1:])[0] == later


def test_the_remembered_contacts_are_bounded_and_survive_the_table() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(1 + i * 0.01, i) for i in range(250)])
    assert entry.sample.count == 250 and len(entry.recent) == REMEMBERED_CONTACTS
    assert SurgeEntry.from_json(entry.to_json()) == entry
    written_before = json.loads(entry.to_json())
    del written_before["recent"]  # an entry a worker of an earlier version wrote
    assert SurgeEntry.from_json(json.dumps(written_before)).recent == ()
