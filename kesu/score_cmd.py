"""`kesu score`: score texts from a byte stream, one JSON line out per line in.

Each input line is either a JSON object ``{"id": …, "text": …, "channel": "call" | "social" | …,
"speech_rate": 5.2}`` (only ``text`` is required) or a plain text line. Each output line is the
assessment of that input (the same ``score_text`` the worker calls), or, for a line that cannot
be scored, ``{"line": n, "id": …, "error": "…"}`` — one bad line never stops the rest. Blank
lines are skipped. No output carries unmasked personal data: texts come out masked and ids are
masked too; error messages never quote the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from pydantic import ValidationError

from complaints.masking import mask_personal_data
from complaints.normalize import clean
from complaints.scoring import score_text
from streams.records import Assessment, Source

#: What each output line carries, in this order (the issue's list plus negativity, demands,
#: intent, repeat_contact, pii_found and the scorer version).
FIELDS = (
    "polarity",
    "negativity",
    "negative",
    "intensity",
    "emotion",
    "category",
    "threats",
    "demands",
    "intent",
    "repeat_contact",
    "keywords",
    "masked_text",
    "pii_found",
    "scorer_version",
)


class BadLine(ValueError):
    """An input line that cannot be scored; the message never quotes the line."""

    def __init__(self, message: str, ident: object = None) -> None:
        super().__init__(message)
        self.ident = ident


def score_lines(lines: Iterable[bytes], out: TextIO, default_channel: Source) -> None:
    """Score every line of `lines` onto `out`, one JSON line each, flushing as it goes."""
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        result: dict[str, Any]
        try:
            text, ident, channel, speech_rate = _parse(raw, default_channel)
        except BadLine as exc:
            result = {"line": number, "id": _safe_id(exc.ident), "error": str(exc)}
        else:
            result = {"line": number, "id": _safe_id(ident)}
            try:
                result.update(_fields(score_text(text, channel, speech_rate)))
            except (
                ValidationError
            ):  # an Assessment out of its bounds: a scorer bug, not the input's
                result["error"] = "the scorer could not build an assessment"
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()


def _parse(raw: bytes, default_channel: Source) -> tuple[str, object, Source, float | None]:
    """(text, id, channel, speech rate) of one input line."""
    try:
        line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError as exc:
        raise BadLine(f"not UTF-8 (byte {exc.start})") from None
    if not line.lstrip().startswith("{"):
        return line, None, default_channel, None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise BadLine("a JSON line must be an object")
    ident = obj.get("id")
    text = obj.get("text")
    if not isinstance(text, str):
        raise BadLine("text is required and must be a string", ident)
    channel = obj.get("channel", default_channel.value)
    if channel not in {s.value for s in Source}:
        raise BadLine(f"channel must be one of {', '.join(s.value for s in Source)}", ident)
    rate = obj.get("speech_rate")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 30
    ):
        raise BadLine("speech_rate must be a number of characters per second in (0, 30]", ident)
    return text, ident, Source(channel), None if rate is None else float(rate)


def _safe_id(ident: object) -> Any:
    """The id as given (masked if it is text), or None when it is not text or an integer."""
    if isinstance(ident, str):
        return mask_personal_data(clean(ident)).text
    if isinstance(ident, int) and not isinstance(ident, bool):
        return (
            mask_personal_data(str(ident)).text if mask_personal_data(str(ident)).count else ident
        )
    return None


def _fields(assessment: Assessment) -> dict[str, Any]:
    data = assessment.model_dump(mode="json")
    return {name: data[name] for name in FIELDS}
