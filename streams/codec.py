"""Raw bytes -> upstream record, or a Rejection saying exactly why not.

The only module that parses input. Pure: time comes in as an argument, nothing is logged,
and no message ever repeats the payload (it may hold personal data).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from streams.records import (
    RECORD_FOR_SOURCE,
    DeadLetter,
    FieldError,
    KafkaOrigin,
    OriginalBytes,
    RejectReason,
    Source,
    UpstreamEvent,
)
from streams.topics import DEAD_LETTER_MAX_BYTES

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Longest integer literal accepted (a 64-bit integer has at most 20 characters).
_MAX_INT_DIGITS = 20
#: Control characters allowed inside text: tab, line feed, carriage return.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
#: Digit runs this long in a field name may be a phone, ID or card number.
_LONG_DIGITS = re.compile(r"\d{6,}")
_EMAILISH = re.compile(r"\S+@\S+")


@dataclass(frozen=True)
class Limits:
    """Bounds an input must respect; the same on Kafka and HTTP."""

    max_payload_bytes: int = 64 * 1024
    max_text_chars: int = 20_000
    max_depth: int = 32
    max_future_skew: timedelta = timedelta(minutes=10)
    max_age: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Rejection:
    """Why an input was refused: a reason code, a message for people, the fields involved."""

    reason: RejectReason
    message: str
    field_errors: tuple[FieldError, ...] = field(default=())
    event_id: str | None = None


class _Reject(Exception):
    """Raised from inside json.loads hooks to stop parsing with a precise reason."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


# ---------------------------------------------------------------------------------------
# Bytes -> JSON value
# ---------------------------------------------------------------------------------------


def parse_json(
    raw: bytes | None, limits: Limits, *, max_bytes: int | None = None
) -> Any | Rejection:
    """Parse strict JSON from UTF-8 bytes within the limits (size, depth, numbers, characters)."""
    max_bytes = limits.max_payload_bytes if max_bytes is None else max_bytes
    if not raw:
        return Rejection(
            RejectReason.EMPTY, "empty value (or a tombstone): an event must be a JSON object"
        )
    if len(raw) > max_bytes:
        return Rejection(
            RejectReason.TOO_LARGE, f"payload is {len(raw)} bytes; the limit is {max_bytes} bytes"
        )
    text_or_rejection = _decode_utf8(raw)
    if isinstance(text_or_rejection, Rejection):
        return text_or_rejection
    try:
        value = json.loads(
            text_or_rejection,
            object_pairs_hook=_object_without_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except _Reject as stop:
        return stop.rejection
    except json.JSONDecodeError as exc:
        return Rejection(
            RejectReason.NOT_JSON,
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        )
    except RecursionError:
        return Rejection(
            RejectReason.TOO_DEEP, f"JSON nesting is deeper than {limits.max_depth} levels"
        )
    problem = _inspect(value, limits.max_depth)
    return problem if problem is not None else value


def _decode_utf8(raw: bytes) -> str | Rejection:
    if raw.startswith(_UTF16_BOMS):
        return Rejection(
            RejectReason.NOT_UTF8,
            "payload is UTF-16 (it starts with a UTF-16 byte order mark); send UTF-8",
        )
    if raw.startswith(_UTF8_BOM):
        return Rejection(
            RejectReason.NOT_UTF8,
            "payload starts with a byte order mark (BOM); send UTF-8 without BOM",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            RejectReason.NOT_UTF8,
            f"payload is not UTF-8 (invalid byte at offset {exc.start}){_guess(raw)}",
        )


def _guess(raw: bytes) -> str:
    """A hint about the encoding actually used, since GBK is the usual culprit in China."""
    if b"\x00" in raw[:64]:
        return "; it looks like UTF-16 — send UTF-8"
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        return ""
    return "; it looks like GBK/GB18030 — re-encode as UTF-8"


def _object_without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Reject(
                Rejection(
                    RejectReason.DUPLICATE_KEY,
                    f"key '{_safe_name(key)}' appears twice in one object",
                )
            )
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise _Reject(Rejection(RejectReason.UNSAFE_NUMBER, f"{name} is not a JSON number"))


def _finite_float(literal: str) -> float:
    number = float(literal)
    if number in (float("inf"), float("-inf")):
        raise _Reject(Rejection(RejectReason.UNSAFE_NUMBER, "a number overflows a 64-bit float"))
    return number


def _bounded_int(literal: str) -> int:
    if len(literal) > _MAX_INT_DIGITS:
        raise _Reject(
            Rejection(
                RejectReason.UNSAFE_NUMBER,
                f"an integer has {len(literal)} digits; at most {_MAX_INT_DIGITS} are accepted",
            )
        )
    return int(literal)


def _inspect(value: Any, max_depth: int) -> Rejection | None:
    """Walk the parsed value once: nesting depth and forbidden characters in any string."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            return Rejection(
                RejectReason.TOO_DEEP, f"JSON nesting is deeper than {max_depth} levels"
            )
        if isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                if _bad_characters(key):
                    return _bad_characters_rejection(path or "(key)")
                stack.append((child, child_path, depth + 1))
        elif isinstance(node, list):
            stack.extend(
                (child, f"{path}.{index}" if path else str(index), depth + 1)
                for index, child in enumerate(node)
            )
        elif isinstance(node, str) and _bad_characters(node):
            return _bad_characters_rejection(path or "(value)")
    return None


def _bad_characters(text: str) -> bool:
    """Control characters (other than tab/newlines), NUL, or lone UTF-16 surrogates."""
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs":
            return True
    return False


def _bad_characters_rejection(path: str) -> Rejection:
    return Rejection(
        RejectReason.BAD_CHARACTERS,
        f"field '{_safe_name(path)}' contains control characters, NUL or unpaired surrogates",
        (
            FieldError(
                field=_safe_name(path), problem="bad_characters", message="forbidden characters"
            ),
        ),
    )


def _safe_name(name: str) -> str:
    """A field name fit for a message: bounded, printable, and with anything that could be
    personal data (long digit runs, e-mail addresses) masked — names are chosen by the sender."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in name)[:64]
    printable = _EMAILISH.sub("<email>", printable)
    return _LONG_DIGITS.sub(lambda m: "#" * len(m.group()), printable)


# ---------------------------------------------------------------------------------------
# JSON value -> record
# ---------------------------------------------------------------------------------------


def check_event(
    source: Source, value: Any, now: datetime, limits: Limits
) -> UpstreamEvent | Rejection:
    """Validate one parsed JSON value as an event of `source`, as of `now`."""
    if not isinstance(value, dict):
        return Rejection(
            RejectReason.NOT_AN_OBJECT, f"an event must be a JSON object, not {_json_kind(value)}"
        )
    event_id = _readable_event_id(value)
    declared = value.get("source")
    if declared is not None and declared not in Source._value2member_map_:
        return Rejection(
            RejectReason.UNKNOWN_SOURCE,
            f"source must be one of {', '.join(s.value for s in Source)}",
            (FieldError(field="source", problem="unknown_source", message="unknown source"),),
            event_id,
        )
    if declared is not None and declared != source.value:
        return Rejection(
            RejectReason.INVALID_FIELD,
            f"source '{declared}' does not match the {source.value} topic or endpoint it arrived on",
            (
                FieldError(
                    field="source", problem="source_mismatch", message=f"expected '{source.value}'"
                ),
            ),
            event_id,
        )
    model = RECORD_FOR_SOURCE[source]
    try:
        record = model.model_validate(value)
    except ValidationError as exc:
        return _schema_rejection(model, exc, event_id)
    return _check_content(record.model_copy(update={"source": source}), now, limits)


def _check_content(
    record: UpstreamEvent, now: datetime, limits: Limits
) -> UpstreamEvent | Rejection:
    text = record.free_text()
    text_field = record.TEXT_FIELD or "text"
    if text is not None and not text.strip():
        return Rejection(
            RejectReason.EMPTY_TEXT,
            f"{text_field} is empty",
            (
                FieldError(
                    field=text_field,
                    problem="empty_text",
                    message="text is empty or only whitespace",
                ),
            ),
            record.event_id,
        )
    if text is not None and len(text) > limits.max_text_chars:
        return Rejection(
            RejectReason.TEXT_TOO_LONG,
            f"{text_field} has {len(text)} characters; the limit is {limits.max_text_chars}",
            (FieldError(field=text_field, problem="text_too_long", message="text too long"),),
            record.event_id,
        )
    if record.occurred_at > now + limits.max_future_skew:
        ahead = record.occurred_at - now
        return Rejection(
            RejectReason.FUTURE_TIMESTAMP,
            f"occurred_at is {_duration(ahead)} in the future (allowed: {_duration(limits.max_future_skew)}); "
            "check the sender's clock and time zone",
            (
                FieldError(
                    field="occurred_at", problem="future_timestamp", message="too far in the future"
                ),
            ),
            record.event_id,
        )
    if record.occurred_at < now - limits.max_age:
        return Rejection(
            RejectReason.STALE_TIMESTAMP,
            f"occurred_at is {_duration(now - record.occurred_at)} old (allowed: {_duration(limits.max_age)})",
            (FieldError(field="occurred_at", problem="stale_timestamp", message="too old"),),
            record.event_id,
        )
    return record


def _schema_rejection(
    model: type[BaseModel], exc: ValidationError, event_id: str | None
) -> Rejection:
    errors = tuple(
        FieldError(
            field=_safe_name(".".join(str(part) for part in error["loc"]) or "(event)"),
            problem=error["type"],
            message=error["msg"],
        )
        for error in exc.errors(include_input=False, include_url=False)
    )
    missing = [e.field for e in errors if e.problem == "missing"]
    unexpected = [e.field for e in errors if e.problem == "extra_forbidden"]
    invalid = [e for e in errors if e.problem not in ("missing", "extra_forbidden")]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected {', '.join(unexpected)}")
    if invalid:
        parts.append("invalid " + "; ".join(f"{e.field} ({e.message})" for e in invalid[:5]))
    reason = (
        RejectReason.MISSING_FIELD if len(missing) == len(errors) else RejectReason.INVALID_FIELD
    )
    return Rejection(reason, f"{model.__name__}: {' — '.join(parts)}", errors, event_id)


def _readable_event_id(value: dict[str, Any]) -> str | None:
    event_id = value.get("event_id")
    if isinstance(event_id, str) and 0 < len(event_id) <= 128 and event_id.isprintable():
        return event_id
    return None


def _json_kind(value: Any) -> str:
    kinds = {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


# ---------------------------------------------------------------------------------------
# Whole decode, encode, dead letters
# ---------------------------------------------------------------------------------------


def decode_event(
    source: Source, raw: bytes | None, now: datetime, limits: Limits
) -> UpstreamEvent | Rejection:
    """Raw Kafka value -> validated record of `source`, or the reason it was refused."""
    value = parse_json(raw, limits)
    if isinstance(value, Rejection):
        return value
    return check_event(source, value, now, limits)


def encode_record(record: BaseModel) -> bytes:
    """Canonical UTF-8 JSON of a record (unset optional fields left out).

    The serializer's bytes directly: `model_dump_json` decodes them to a str that would be
    encoded straight back (~2 of ~8 µs for a 1 KB record, several records per event)."""
    return type(record).__pydantic_serializer__.to_json(record, exclude_none=True)


def decode_valid(raw: bytes) -> UpstreamEvent:
    """Read back a record this service wrote (already validated): trusted, but still checked."""
    source = Source(json.loads(raw)["source"])
    return RECORD_FOR_SOURCE[source].model_validate_json(raw, strict=False)


def original_bytes(raw: bytes, *, budget: int | None = None) -> OriginalBytes:
    """Keep bytes exactly, in whichever form is smaller once the record is JSON: the text when
    it is UTF-8 that JSON keeps compact, else base64 (control characters cost six bytes each as
    JSON escapes, base64 four per three). Past `budget` bytes in that form, only the size and
    hash are kept (`omitted`): a dead letter must always fit its topic, or it blocks the partition.
    """
    digest = hashlib.sha256(raw).hexdigest()
    base64_size = 4 * ((len(raw) + 2) // 3)
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and len(json.dumps(text, ensure_ascii=False).encode()) <= base64_size + 2:
        original = OriginalBytes(encoding="utf-8", data=text, size=len(raw), sha256=digest)
        encoded_size = len(raw)
    else:
        original = OriginalBytes(
            encoding="base64",
            data=base64.b64encode(raw).decode("ascii"),
            size=len(raw),
            sha256=digest,
        )
        encoded_size = base64_size
    if budget is not None and encoded_size > budget:
        return OriginalBytes(encoding="omitted", data="", size=len(raw), sha256=digest)
    return original


#: A dead letter must fit its topic (DEAD_LETTER_MAX_BYTES): the value's copy gets most of it,
#: the key's a slice, and 64 KiB are left for the reason, field errors and origin.
_KEY_BUDGET = 256 * 1024
_VALUE_BUDGET = DEAD_LETTER_MAX_BYTES - _KEY_BUDGET - 64 * 1024
_MAX_FIELD_ERRORS = 50
_MAX_MESSAGE_CHARS = 2000
_PEEK_MAX_BYTES = 2 * 1024 * 1024


def dead_letter(
    rejection: Rejection,
    *,
    raw: bytes | None,
    now: datetime,
    source: Source | None = None,
    key: bytes | None = None,
    origin: KafkaOrigin | None = None,
) -> DeadLetter:
    """The dead-letter record for a rejected input; its id is stable for the same input and place."""
    raw = raw or b""
    where = (
        f"{origin.topic}/{origin.partition}/{origin.offset}"
        if origin is not None
        else f"{source or '-'}/{hashlib.sha256(raw).hexdigest()}"
    )
    if rejection.event_id is None or source is None:
        peeked_id, peeked_source = _peek(raw)
        if rejection.event_id is None and peeked_id is not None:
            rejection = replace(rejection, event_id=peeked_id)
        source = source or peeked_source
    original_key = original_bytes(key, budget=_KEY_BUDGET) if key is not None else None
    original = original_bytes(raw, budget=_VALUE_BUDGET)
    message = rejection.message[:_MAX_MESSAGE_CHARS]
    if original.encoding == "omitted":
        message += (
            f" (the original, {len(raw)} bytes, is too large to copy here: read it at its origin)"
        )
    return DeadLetter(
        dead_letter_id=hashlib.sha256(where.encode()).hexdigest()[:32],
        reason=rejection.reason,
        message=message,
        field_errors=rejection.field_errors[:_MAX_FIELD_ERRORS],
        source=source,
        event_id=rejection.event_id,
        origin=origin,
        original_key=original_key,
        original=original,
        rejected_at=now,
    )


def _peek(raw: bytes) -> tuple[str | None, Source | None]:
    """The event id and source of a refused record, when its bytes still say them (a text
    with control characters is refused, but its id is readable): every dead letter carries
    them when they are known."""
    if len(raw) > _PEEK_MAX_BYTES:
        return None, None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep, huge integers
        return None, None
    if not isinstance(value, dict):
        return None, None
    declared = value.get("source")
    source = (
        Source(declared)
        if isinstance(declared, str) and declared in Source._value2member_map_
        else None
    )
    return _readable_event_id(value), source


def without_copies(letter: DeadLetter) -> DeadLetter:
    """The same dead letter with the original's bytes left out (size and hash kept)."""

    def omit(original: OriginalBytes | None) -> OriginalBytes | None:
        if original is None:
            return None
        return original.model_copy(update={"encoding": "omitted", "data": ""})

    return letter.model_copy(
        update={
            "original": omit(letter.original),
            "original_key": omit(letter.original_key),
            "field_errors": letter.field_errors[:5],
            "message": letter.message[:500]
            + " (the original was not copied: read it at its origin)",
        }
    )


@dataclass(frozen=True)
class BatchCheck:
    """Outcome of checking a request that carries one event or an array of events."""

    records: tuple[UpstreamEvent, ...] = ()
    #: (index in the request, why) for each refused event
    rejected: tuple[tuple[int, Rejection], ...] = ()
    #: a problem with the request as a whole (then no event is considered)
    problem: Rejection | None = None


def check_batch(
    source: Source, value: Any, now: datetime, limits: Limits, max_items: int
) -> BatchCheck:
    """Validate one event (a JSON object) or a bounded array of events, each within the limits."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not items:
        return BatchCheck(problem=Rejection(RejectReason.EMPTY, "the array holds no events"))
    if len(items) > max_items:
        return BatchCheck(
            problem=Rejection(
                RejectReason.TOO_LARGE,
                f"{len(items)} events in one request; the limit is {max_items}",
            )
        )
    records: list[UpstreamEvent] = []
    rejected: list[tuple[int, Rejection]] = []
    for index, item in enumerate(items):
        result = check_event(source, item, now, limits)
        if (
            isinstance(result, UpstreamEvent)
            and len(encode_record(result)) > limits.max_payload_bytes
        ):
            result = Rejection(
                RejectReason.TOO_LARGE,
                f"the event is larger than {limits.max_payload_bytes} bytes",
                event_id=result.event_id,
            )
        if isinstance(result, Rejection):
            rejected.append((index, result))
        else:
            records.append(result)
    return BatchCheck(records=tuple(records), rejected=tuple(rejected))
