"""Hostile inputs of the test plan (H1/H2), one definition for the codec, Kafka and HTTP tests.

Each case is the exact bytes an upstream might send, the reason code the dead letter must
carry, and the status the HTTP ingestion must answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from streams.records import RejectReason, Source
from tests.factories import iso, make_event, now_utc, to_bytes

PAYLOAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    payload: bytes | None
    reason: RejectReason
    http_status: int
    #: Where HTTP answers with another reason than the Kafka path (the body is parsed first).
    http_reason: RejectReason | None = None


def _call(**overrides: object) -> dict[str, object]:
    return make_event(Source.CALL, **overrides)


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def cases() -> list[Hostile]:
    """Every class, built fresh (timestamps relative to now)."""
    good = to_bytes(_call())
    now = now_utc()
    out = [
        Hostile("truncated-json", good[: len(good) // 2], RejectReason.NOT_JSON, 400),
        Hostile("json-string-not-object", b'"just a string"', RejectReason.NOT_AN_OBJECT, 400),
        Hostile("json-number-not-object", b"42", RejectReason.NOT_AN_OBJECT, 400),
        Hostile(
            "invalid-utf8",
            good.replace("快递".encode(), b"\xc3\x28\xff"),
            RejectReason.NOT_UTF8,
            400,
        ),
        Hostile(
            "gbk-bytes",
            json.dumps(_call(), ensure_ascii=False).encode("gbk"),
            RejectReason.NOT_UTF8,
            400,
        ),
        Hostile(
            "gb18030-bytes",
            json.dumps(_call(text="投诉！快递丢了"), ensure_ascii=False).encode("gb18030"),
            RejectReason.NOT_UTF8,
            400,
        ),
        Hostile(
            "utf16-with-bom",
            json.dumps(_call(), ensure_ascii=False).encode("utf-16"),
            RejectReason.NOT_UTF8,
            400,
        ),
        Hostile("utf8-bom", b"\xef\xbb\xbf" + good, RejectReason.NOT_UTF8, 400),
        Hostile(
            "oversize",
            to_bytes(_call(text="投" * (PAYLOAD_LIMIT // 3 + 10))),
            RejectReason.TOO_LARGE,
            413,
        ),
        Hostile("depth-over-32", _nested(40), RejectReason.TOO_DEEP, 400),
        Hostile(
            "depth-in-field",
            to_bytes(_call(agent_id=json.loads(_nested(40)))),
            RejectReason.TOO_DEEP,
            400,
        ),
        Hostile("array-of-a-million", b"[" + b"0," * 999_999 + b"0]", RejectReason.TOO_LARGE, 413),
        Hostile(
            "nul-in-text", to_bytes(_call(text="退款\u0000退款")), RejectReason.BAD_CHARACTERS, 422
        ),
        Hostile(
            "control-char-in-text",
            to_bytes(_call(text="退款\u0007")),
            RejectReason.BAD_CHARACTERS,
            422,
        ),
        Hostile(
            "lone-surrogate",
            good.replace("快递".encode(), b"\\ud800"),
            RejectReason.BAD_CHARACTERS,
            422,
        ),
        Hostile("nan", good[:-1] + b', "speech_rate": NaN}', RejectReason.UNSAFE_NUMBER, 400),
        Hostile(
            "infinity", good[:-1] + b', "speech_rate": -Infinity}', RejectReason.UNSAFE_NUMBER, 400
        ),
        Hostile("1e400", good[:-1] + b', "speech_rate": 1e400}', RejectReason.UNSAFE_NUMBER, 400),
        Hostile(
            "5000-digit-integer",
            good[:-1] + b', "speech_rate": ' + b"7" * 5000 + b"}",
            RejectReason.UNSAFE_NUMBER,
            400,
        ),
        Hostile("unknown-source", to_bytes(_call(source="fax")), RejectReason.UNKNOWN_SOURCE, 422),
        Hostile(
            "source-mismatch", to_bytes(_call(source="social")), RejectReason.INVALID_FIELD, 422
        ),
        Hostile(
            "duplicate-keys", good[:-1] + b', "text": "again"}', RejectReason.DUPLICATE_KEY, 400
        ),
        Hostile(
            "unparsable-timestamp",
            to_bytes(_call(occurred_at="yesterday at noon")),
            RejectReason.INVALID_FIELD,
            422,
        ),
        Hostile(
            "naive-timestamp",
            to_bytes(_call(occurred_at="2026-11-23T10:00:00")),
            RejectReason.INVALID_FIELD,
            422,
        ),
        Hostile(
            "far-future-timestamp",
            to_bytes(_call(occurred_at=iso(now + timedelta(days=3)))),
            RejectReason.FUTURE_TIMESTAMP,
            422,
        ),
        Hostile(
            "far-past-timestamp",
            to_bytes(_call(occurred_at=iso(now - timedelta(days=400)))),
            RejectReason.STALE_TIMESTAMP,
            422,
        ),
        Hostile(
            "calendar-end-timestamp",
            to_bytes(_call(occurred_at="9999-12-31T23:59:59-23:59")),
            RejectReason.INVALID_FIELD,
            422,
        ),
        Hostile(
            "calendar-start-timestamp",
            to_bytes(_call(occurred_at="0001-01-01T00:00:00+01:00")),
            RejectReason.INVALID_FIELD,
            422,
        ),
        Hostile(
            # ~800 KB of control characters: as JSON text each byte became six (\u0001) and
            # the dead letter outgrew its topic, which blocked the partition for good.
            "control-chars-800kb",
            b'{"event_id":"cc-800kb","text":"' + b"\x01" * 800_000 + b'"}',
            RejectReason.TOO_LARGE,  # on Kafka: over the event limit before it is parsed
            400,
            RejectReason.NOT_JSON,  # over HTTP the body (a batch may be this large) is parsed
        ),
        Hostile("empty-value", b"", RejectReason.EMPTY, 400),
        Hostile("empty-text", to_bytes(_call(text="   \n ")), RejectReason.EMPTY_TEXT, 422),
        Hostile(
            "text-over-cap", to_bytes(_call(text="a" * 20_001)), RejectReason.TEXT_TOO_LONG, 422
        ),
        Hostile(
            "unknown-field", to_bytes(_call(ocurred_at=iso(now))), RejectReason.INVALID_FIELD, 422
        ),
        Hostile(
            "unknown-enum-value", to_bytes(_call(speaker="robot")), RejectReason.INVALID_FIELD, 422
        ),
    ]
    out += [
        Hostile(f"missing-{name}", to_bytes(_without(name)), RejectReason.MISSING_FIELD, 422)
        for name in REQUIRED_CALL_FIELDS
    ]
    out += [
        Hostile(
            f"wrong-type-{name}", to_bytes(_call(**{name: wrong})), RejectReason.INVALID_FIELD, 422
        )
        for name, wrong in WRONG_TYPES.items()
    ]
    return out


REQUIRED_CALL_FIELDS = ("event_id", "occurred_at", "call_id", "customer_id", "text")

#: For every field of a call event, a JSON value of the wrong type.
WRONG_TYPES: dict[str, object] = {
    "event_id": 12345,
    "occurred_at": [2026, 11, 23],
    "call_id": {"id": "c"},
    "customer_id": 9,
    "agent_id": True,
    "speaker": 1,
    "segment": ["utterance"],
    "text": 3.5,
    "speech_rate": "fast",
    "order_id": 77,
}


def _without(name: str) -> dict[str, object]:
    event = _call()
    event.pop(name)
    return event


def by_name() -> dict[str, Hostile]:
    return {case.name: case for case in cases()}
