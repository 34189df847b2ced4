"""The work per record of the passthrough rungs L1, L2 and L3′ (bench/ladder/passthrough.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bench.ladder.passthrough import make_step
from streams.codec import Limits, Rejection, decode_event, decode_valid
from streams.records import DeadLetter, Source
from tests.factories import make_event, to_bytes


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp: int = 1_700_000_000_000


def raw(source: Source, value: bytes, key: bytes = b"k") -> Message:
    return Message(f"ns.raw.{source.value}", 1, 7, key, value)


@pytest.fixture
def call() -> bytes:
    return to_bytes(make_event(Source.CALL, at=datetime.now(UTC)))


def test_l1_passes_the_bytes_through(call: bytes) -> None:
    assert make_step("L1", "ns")(raw(Source.CALL, call, b"key-1")) == [
        ("ns.valid.events", b"key-1", call, None)
    ]


def test_l2_writes_the_validated_record_keyed_for_dedupe(call: bytes) -> None:
    [(topic, key, value, headers)] = make_step("L2", "ns")(raw(Source.CALL, call))
    record = decode_valid(value)
    assert (topic, key) == ("ns.valid.events", record.dedupe_key.encode())
    assert headers == [("kesu-origin", b"ns.raw.call/1/7")]


def test_l2_dead_letters_what_validation_refuses_with_the_original_bytes() -> None:
    bad = b'{"event_id": "x", "occurred_at": '
    [(topic, _key, value, _headers)] = make_step("L2", "ns")(raw(Source.SOCIAL, bad))
    letter = DeadLetter.model_validate_json(value)
    assert topic == "ns.dlq"
    assert letter.reason.value == "NOT_JSON"
    assert letter.original.to_bytes() == bad


def test_l3p_writes_the_scored_contact_keyed_by_case(call: bytes) -> None:
    [(topic, key, value, _headers)] = make_step("L3p", "ns")(raw(Source.CALL, call))
    contact = json.loads(value)
    assert (topic, key) == ("ns.assessments", b"customer:cust-1")
    assert contact["assessment"]["negative"] is True


def test_l3p_validates_what_is_not_a_contact() -> None:
    activity = to_bytes(make_event(Source.ACTIVITY, at=datetime.now(UTC)))
    [(topic, _key, value, _headers)] = make_step("L3p", "ns")(raw(Source.ACTIVITY, activity))
    assert topic == "ns.valid.events"
    assert not isinstance(
        decode_event(Source.ACTIVITY, activity, datetime.now(UTC), Limits()), Rejection
    )
    assert decode_valid(value).SOURCE is Source.ACTIVITY
