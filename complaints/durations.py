"""Durations as people write them in settings and rules: 600, 10m, 2h, 30d, 250ms, or ISO 8601.

Pure. One parser for every configuration file, so `2h` means the same everywhere.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS: dict[str | None, float] = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    None: 1,
}


def parse_duration(value: Any) -> Any:
    """'600' (seconds), '10m', '2h', '30d', '250ms' -> timedelta; anything else is left to pydantic
    (ISO 8601 'PT10M', numbers of seconds, timedelta objects)."""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling that `Duration` reads back: 30d, 10m, 15s, 1.5s."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds!r}s"


#: A duration field: seconds, or a number with ms/s/m/h/d, or ISO 8601.
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
