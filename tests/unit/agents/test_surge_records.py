"""What the surge agent reads from `kesu.surge.contacts`: the compact folded record ingest writes
now, and the whole contact an earlier version wrote (still on the topic after an upgrade)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.ingest import _surge_record
from agents.surge import contacts_of
from complaints.rules import load_rules
from complaints.surge import SurgeKey
from complaints.surge_track import SurgeEntry, counted_contact, on_contacts
from streams.codec import encode_record
from streams.records import AssessedEvent
from tests.factories import T0, make_assessed

POLICY = load_rules().surge


def _contact(number: int) -> AssessedEvent:
    return make_assessed(
        customer=f"c{number}",
        at=T0 + timedelta(minutes=number),
        event_id=f"e{number}",
        batch="B2511-07",
        keywords=("发热", "黑屏", "发热"),
        masked_text="手机发热黑屏，电话138****5678，" + "很长" * 200,
    )


def test_a_folded_record_reads_back_as_its_contacts_in_order() -> None:
    counted = [c for n in range(3) if (c := counted_contact(_contact(n), POLICY)) is not None]
    assert len(counted) == 3
    record = _surge_record(counted)
    assert contacts_of(record, POLICY) == tuple(counted)
    whole = sum(len(encode_record(_contact(n))) for n in range(3))
    assert len(record) < whole / 2, "compact: not the whole contact per key"


def test_what_surge_keeps_of_a_contact() -> None:
    counted = counted_contact(_contact(1), POLICY)
    assert counted is not None
    assert counted.keys == ("batch:B2511-07", "category:logistics", "channel:call")
    assert counted.keywords == ("发热", "黑屏"), "each keyword once"
    assert len(counted.example) == POLICY.example_chars
    assert counted.example.startswith("手机发热黑屏，电话138****5678，")
    assert (counted.case_key, counted.event_id) == ("customer:c1", "e1")


def test_a_whole_contact_written_by_an_earlier_version_still_counts() -> None:
    legacy = encode_record(_contact(2))
    assert contacts_of(legacy, POLICY) == (counted_contact(_contact(2), POLICY),)


def test_a_contact_that_counts_toward_no_key_is_refused() -> None:
    calm = encode_record(make_assessed(negative=False, batch="B1"))
    with pytest.raises(ValueError, match="no surge key"):
        contacts_of(calm, POLICY)


def test_a_burst_sent_folded_reports_what_it_reported_one_contact_a_record() -> None:
    """Through Kafka's bytes and back, folded or one a record: the same reports, same ids."""
    key = SurgeKey("batch", "B2511-07")
    burst = [_contact(n) for n in range(12)]
    entry, singles = SurgeEntry(), []
    for event in burst:
        (step,) = on_contacts(entry, key, contacts_of(encode_record(event), POLICY), POLICY, 20)
        singles.append(step)
        entry = step.entry
    counted = [c for e in burst if (c := counted_contact(e, POLICY)) is not None]
    folded = on_contacts(SurgeEntry(), key, contacts_of(_surge_record(counted), POLICY), POLICY, 20)
    reports = [s.report for s in folded if s.report is not None]
    assert reports, "the burst opens the key"
    assert reports == [s.report for s in singles if s.report is not None]
    assert folded[-1].entry == singles[-1].entry
