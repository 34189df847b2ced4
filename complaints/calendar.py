"""Working-time arithmetic: when does N hours of service time end, and how much has passed.

Pure. Two calendars: always open (24/7, the default) and business hours on working days with
the mainland holidays and make-up workdays (调休), as helpdesk SLA engines pause their clocks.
All datetimes in and out are timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from complaints.rules import AlwaysOpen, BusinessHours, RuleBook

#: A calendar without a working day in ten years is a configuration error, not a long wait.
_MAX_DAYS = 3660


class WorkCalendar(Protocol):
    def add(self, start: datetime, work: timedelta) -> datetime:
        """The instant at which `work` of working time has passed since `start`."""
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if end <= start)."""
        ...


class Always:
    """Every moment counts (24/7)."""

    def add(self, start: datetime, work: timedelta) -> datetime:
        return start + work

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))


class Business:
    """Service hours on working days; holidays off, make-up workdays on."""

    def __init__(self, spec: BusinessHours) -> None:
        self._zone = ZoneInfo(spec.timezone)
        self._opens, self._closes = spec.opens, spec.closes
        self._weekdays = frozenset(spec.weekdays)
        self._holidays = frozenset(spec.holidays)
        self._workdays = frozenset(spec.workdays)

    def is_working_day(self, day: date) -> bool:
        if day in self._workdays:
            return True
        return day.isoweekday() in self._weekdays and day not in self._holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self._opens, self._zone)
        closes = datetime.combine(day, self._closes, self._zone)
        return opens, closes

    def add(self, start: datetime, work: timedelta) -> datetime:
        remaining = work
        local = start.astimezone(self._zone)
        day = local.date()
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin = max(opens, local)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in ten years")

    def between(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        local_start, local_end = start.astimezone(self._zone), end.astimezone(self._zone)
        day = local_start.date()
        while day <= local_end.date():
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin, finish = max(opens, local_start), min(closes, local_end)
                if begin < finish:
                    total += finish - begin
            day += timedelta(days=1)
        return total


def calendar_named(rules: RuleBook, name: str) -> WorkCalendar:
    """The calendar `name` of a rule book (cheap to build: a few small sets)."""
    spec = rules.calendars[name]
    if isinstance(spec, AlwaysOpen):
        return Always()
    return Business(spec)
