"""The codec: every way an input can be refused, and nothing about the input lost."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.codec import (
    Limits,
    Rejection,
    check_batch,
    dead_letter,
    decode_event,
    decode_valid,
    encode_record,
    parse_json,
)
from streams.records import RECORD_FOR_SOURCE, KafkaOrigin, RejectReason, Source, UpstreamEvent
from tests import hostile
from tests.factories import make_event, now_utc, to_bytes
from tests.properties import PROPERTY_EXAMPLES

LIMITS = Limits()


class TestDecodeEvent:
    @pytest.mark.parametrize("source", list(Source))
    def test_valid_event_of_each_source_is_accepted(self, source: Source) -> None:
        """A well-formed event becomes its record, with `source` filled in and time in UTC."""
        event = make_event(source)
        record = decode_event(source, to_bytes(event), now_utc(), LIMITS)
        assert isinstance(record, RECORD_FOR_SOURCE[source])
        assert record.event_id == event["event_id"]
        assert record.source is source
        assert record.occurred_at.utcoffset() == timedelta(0)

    @pytest.mark.parametrize("case", hostile.cases(), ids=lambda case: case.name)
    def test_hostile_input_is_rejected_with_its_reason(self, case: hostile.Hostile) -> None:
        """Each hostile class yields the reason code operators count it by."""
        result = decode_event(Source.CALL, case.payload, now_utc(), LIMITS)
        assert isinstance(result, Rejection), f"{case.name} was accepted"
        assert result.reason is case.reason, result.message

    def test_tombstone_is_rejected_as_empty(self) -> None:
        """A Kafka tombstone (no value at all) is an empty event, not a crash."""
        result = decode_event(Source.CALL, None, now_utc(), LIMITS)
        assert isinstance(result, Rejection) and result.reason is RejectReason.EMPTY

    def test_timestamp_with_offset_is_normalised_to_utc(self) -> None:
        """10:00 in Beijing is 02:00 UTC: deadlines are computed on the same clock."""
        event = make_event(Source.CALL, occurred_at="2026-11-23T10:00:00+08:00")
        record = decode_event(
            Source.CALL, to_bytes(event), datetime(2026, 11, 23, 3, tzinfo=UTC), LIMITS
        )
        assert isinstance(record, UpstreamEvent)
        assert record.occurred_at == datetime(2026, 11, 23, 2, tzinfo=UTC)

    def test_string_where_a_number_belongs_is_refused_not_coerced(self) -> None:
        """Strict types: "5" is not a count (a silent guess would hide an upstream bug)."""
        event = make_event(Source.ACTIVITY, count="5")
        result = decode_event(Source.ACTIVITY, to_bytes(event), now_utc(), LIMITS)
        assert isinstance(result, Rejection) and result.reason is RejectReason.INVALID_FIELD
        assert [e.field for e in result.field_errors] == ["count"]

    def test_feature_use_needs_a_feature(self) -> None:
        """A cross-field rule of the activity record is enforced."""
        event = make_event(Source.ACTIVITY, kind="feature_use")
        result = decode_event(Source.ACTIVITY, to_bytes(event), now_utc(), LIMITS)
        assert isinstance(result, Rejection) and "feature" in result.message

    def test_messages_never_repeat_the_payload(self) -> None:
        """Rejections may be logged and shown: personal data in the input must not leak into them."""
        secret = "13812345678"
        for payload in (
            to_bytes(make_event(Source.CALL, text=secret, call_id=12)),
            to_bytes(make_event(Source.CALL, customer_id=secret, occurred_at=secret)),
            b'{"event_id": "x", "' + secret.encode() + b'": 1}',
        ):
            result = decode_event(Source.CALL, payload, now_utc(), LIMITS)
            assert isinstance(result, Rejection)
            rendered = result.message + "".join(e.message + e.field for e in result.field_errors)
            assert secret not in rendered, rendered

    def test_limits_are_configurable(self) -> None:
        """A smaller payload limit applies to the same event."""
        payload = to_bytes(make_event(Source.CALL))
        result = decode_event(
            Source.CALL, payload, now_utc(), Limits(max_payload_bytes=len(payload) - 1)
        )
        assert isinstance(result, Rejection) and result.reason is RejectReason.TOO_LARGE


class TestDeadLetter:
    @pytest.mark.parametrize("case", hostile.cases(), ids=lambda case: case.name)
    def test_original_bytes_are_kept_exactly(self, case: hostile.Hostile) -> None:
        """Whatever the encoding, the dead letter gives back the very bytes that were refused."""
        raw = case.payload or b""
        rejection = decode_event(Source.CALL, case.payload, now_utc(), LIMITS)
        assert isinstance(rejection, Rejection)
        letter = dead_letter(rejection, raw=raw, now=now_utc(), source=Source.CALL)
        assert letter.original.to_bytes() == raw
        assert letter.original.sha256 == hashlib.sha256(raw).hexdigest()
        assert letter.original.size == len(raw)

    def test_non_utf8_bytes_are_kept_as_base64(self) -> None:
        raw = "投诉".encode("gbk")
        rejection = decode_event(Source.CALL, raw, now_utc(), LIMITS)
        assert isinstance(rejection, Rejection)
        letter = dead_letter(rejection, raw=raw, now=now_utc())
        assert letter.original.encoding == "base64"

    def test_id_is_stable_for_the_same_place(self) -> None:
        """A redelivered record produces the same dead-letter id (consumers can de-duplicate)."""
        origin = KafkaOrigin(topic="kesu.raw.call", partition=2, offset=41)
        rejection = Rejection(RejectReason.NOT_JSON, "bad")
        first = dead_letter(rejection, raw=b"{", now=now_utc(), origin=origin)
        again = dead_letter(
            rejection, raw=b"{", now=now_utc() + timedelta(seconds=5), origin=origin
        )
        elsewhere = dead_letter(
            rejection, raw=b"{", now=now_utc(), origin=origin.model_copy(update={"offset": 42})
        )
        assert first.dead_letter_id == again.dead_letter_id != elsewhere.dead_letter_id


class TestCheckBatch:
    def test_each_invalid_item_is_named_by_index(self) -> None:
        items = [
            make_event(Source.CALL),
            make_event(Source.CALL, text=""),
            make_event(Source.CALL, call_id=5),
        ]
        checked = check_batch(Source.CALL, items, now_utc(), LIMITS, max_items=10)
        assert [index for index, _ in checked.rejected] == [1, 2]
        assert len(checked.records) == 1

    def test_over_the_batch_limit_is_a_request_problem(self) -> None:
        items = [make_event(Source.CALL) for _ in range(3)]
        checked = check_batch(Source.CALL, items, now_utc(), LIMITS, max_items=2)
        assert checked.problem is not None and checked.problem.reason is RejectReason.TOO_LARGE

    def test_empty_array_is_refused(self) -> None:
        checked = check_batch(Source.CALL, [], now_utc(), LIMITS, max_items=2)
        assert checked.problem is not None and checked.problem.reason is RejectReason.EMPTY


# -- properties (H3) ------------------------------------------------------------------------

_ident = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=200
).filter(lambda s: s.strip())
_moment = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds plus `timezones`
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    event_id=_ident,
    call_id=_ident,
    customer_id=_ident,
    text=_text,
    at=_moment,
    rate=st.none() | st.floats(min_value=0.1, max_value=30, allow_nan=False),
)
def test_parse_of_serialize_is_identity(
    event_id: str, call_id: str, customer_id: str, text: str, at: datetime, rate: float | None
) -> None:
    """H3: a record written by kesu reads back as the same record."""
    record = RECORD_FOR_SOURCE[Source.CALL].model_validate(
        {
            "event_id": event_id,
            "occurred_at": at.isoformat(),
            "call_id": call_id,
            "customer_id": customer_id,
            "text": text,
            "speech_rate": rate,
            "source": "call",
        }
    )
    assert decode_valid(encode_record(record)) == record
    again = decode_event(Source.CALL, encode_record(record), at, LIMITS)
    assert again == record
    # the bytes are pydantic's canonical JSON, as records written before were
    assert encode_record(record) == record.model_dump_json(exclude_none=True).encode("utf-8")


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    """Any byte string is either an event or a rejection; the codec itself never fails."""
    result = decode_event(Source.SOCIAL, raw, now_utc(), LIMITS)
    assert isinstance(result, Rejection | UpstreamEvent)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_parse_json_accepts_what_python_json_writes(value: object) -> None:
    """Well-formed JSON within the limits parses (no false positives on odd but valid input)."""
    import json

    raw = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    result = parse_json(raw, Limits(max_payload_bytes=10**7, max_depth=1000))
    if isinstance(result, Rejection):
        assert result.reason in (
            RejectReason.BAD_CHARACTERS,
            RejectReason.NOT_UTF8,
            RejectReason.UNSAFE_NUMBER,
        )
    else:
        assert result == value
