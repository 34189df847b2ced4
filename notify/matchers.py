"""Whether labels satisfy matchers (Alertmanager semantics: all must hold, regexes anchored).

Pure. No I/O. A missing label reads as "", so `region!=华东-上海` holds for an alert without
region and `region=~.*` holds for every alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from streams.records import Matcher, MatchOp

__all__ = ["matches", "parse_matchers"]


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _holds(matcher: Matcher, labels: Mapping[str, str]) -> bool:
    value = labels.get(matcher.name, "")
    if matcher.op is MatchOp.EQUAL:
        return value == matcher.value
    if matcher.op is MatchOp.NOT_EQUAL:
        return value != matcher.value
    found = _compiled(matcher.value).fullmatch(value) is not None
    return found if matcher.op is MatchOp.REGEX else not found


def matches(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds for `labels` (no matchers: always)."""
    return all(_holds(m, labels) for m in matchers)


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """Matchers from their written form (`region=华东-上海`); raises ValueError naming the bad one."""
    return tuple(Matcher.model_validate(text) for text in texts)
