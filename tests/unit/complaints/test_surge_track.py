"""A surge key's life in the worker: contacts and ticks in, engine signals out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaints.rules import load_rules
from complaints.surge import SurgeKey
from complaints.surge_track import (
    Step,
    SurgeEntry,
    case_key_of,
    next_tick_at,
    on_contact,
    on_tick,
    parse_key,
)
from streams.records import AlertKind, Signal, SignalChange, Source
from tests.factories import T0, make_assessed

POLICY = load_rules().surge
W = timedelta(minutes=15)
BATCH = SurgeKey("batch", "B2511-07")


def _complaint(minute: float, number: int) -> object:
    return make_assessed(
        customer=f"c{number}",
        at=T0 + timedelta(minutes=minute),
        event_id=f"e{number}",
        source=Source.SOCIAL,
        batch=BATCH.value,
        keywords=("发热", "黑屏"),
        masked_text=f"手机发热黑屏 {number}",
    )


def _feed(entry: SurgeEntry, contacts: list[object]) -> tuple[SurgeEntry, list[Signal]]:
    signals: list[Signal] = []
    for contact in contacts:
        step = on_contact(entry, BATCH, contact, POLICY)  # type: ignore[arg-type]
        entry = step.entry
        if step.signal:
            signals.append(step.signal)
    return entry, signals


def test_a_burst_on_a_new_key_raises_one_surge_signal_for_the_engine() -> None:
    entry, signals = _feed(SurgeEntry(), [_complaint(1 + i * 0.5, i) for i in range(6)])
    assert len(signals) == 1
    signal = signals[0]
    assert (signal.kind, signal.change, signal.case_key) == (
        AlertKind.SURGE,
        SignalChange.RAISED,
        "surge:batch:B2511-07",
    )
    assert signal.tier == POLICY.tier and signal.batch == "B2511-07"
    assert signal.surge is not None and signal.surge.new_key
    assert signal.surge.count == POLICY.min_count  # it opened on the 5th contact
    assert signal.surge.keywords[:2] == ("发热", "黑屏")
    assert len(signal.surge.examples) == POLICY.examples
    assert entry.surging and next_tick_at(entry, POLICY) == T0 + W


def test_a_replayed_contact_yields_the_same_signal_id() -> None:
    contacts = [_complaint(1 + i * 0.5, i) for i in range(5)]
    before, _ = _feed(SurgeEntry(), contacts[:4])
    first = on_contact(before, BATCH, contacts[4], POLICY)  # type: ignore[arg-type]
    again = on_contact(before, BATCH, contacts[4], POLICY)  # type: ignore[arg-type]
    assert first.signal is not None and again.signal is not None
    assert first.signal.signal_id == again.signal.signal_id


def test_growth_raises_again_on_the_same_subject_and_silence_clears_it() -> None:
    entry, signals = _feed(SurgeEntry(), [_complaint(1 + i * 0.3, i) for i in range(10)])
    # opened at 5 contacts, grew at 8 (growth 1.5x); 9 and 10 say nothing new
    assert [s.change for s in signals] == [SignalChange.RAISED, SignalChange.RAISED]
    assert [s.surge.count for s in signals if s.surge] == [5, 8]
    assert signals[0].subject == signals[1].subject
    assert signals[0].signal_id != signals[1].signal_id
    closing: list[Step] = []
    for windows in range(1, POLICY.close_after + 3):
        step = on_tick(entry, BATCH, T0 + windows * W + timedelta(seconds=1), POLICY)
        entry = step.entry
        closing += [step] if step.signal else []
    assert len(closing) == 1, "one clear, then nothing"
    cleared = closing[0].signal
    assert cleared is not None and cleared.change is SignalChange.CLEARED
    assert cleared.subject == signals[0].subject
    assert not entry.surging and next_tick_at(entry, POLICY) is None


def test_a_contact_for_a_window_already_folded_changes_nothing() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(1, 1), _complaint(16, 2)])
    late = on_contact(entry, BATCH, _complaint(2, 3), POLICY)  # type: ignore[arg-type]
    assert late.entry == entry and late.signal is None and late.verdict is None


def test_a_quiet_key_folds_its_window_once_when_the_next_one_starts() -> None:
    entry, _ = _feed(SurgeEntry(), [_complaint(1, 1), _complaint(2, 2)])
    assert entry.sample.count == 2 and entry.state.windows == 0
    first_window = entry.window
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
