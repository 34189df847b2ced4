"""SLA clock arithmetic: start, pause, resume, stop, and what is due at a given moment.

Pure; time is an argument. A clock counts working time of its calendar: `counted` holds
what was counted up to `running_since`, so pausing and resuming lose nothing. Warnings fire
at fractions of the target, the breach at the target, escalations after the breach. A clock carries the rule it was
started under (target, fractions, escalation interval), so a later rules change or tier raise
does not rewrite a deadline already promised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from complaints.calendar import WorkCalendar
from complaints.rules import ClockRule
from streams.records import ClockKind, SlaClock


class ClockSignal(StrEnum):
    WARNED = "warned"
    BREACHED = "breached"
    ESCALATED = "escalated"


@dataclass(frozen=True)
class ClockEvent:
    """Something a clock announces: a warning at `fraction`, the breach, or escalation to `level`."""

    signal: ClockSignal
    kind: ClockKind
    due_at: datetime
    fraction: float | None = None
    escalations: int = 0


def start_clock(kind: ClockKind, rule: ClockRule, at: datetime, calendar: WorkCalendar) -> SlaClock:
    return SlaClock(
        kind=kind,
        target=rule.target,
        calendar=rule.calendar,
        warn_at=rule.warn_at,
        escalate_every=rule.escalate_every,
        started_at=at,
        running_since=at,
        due_at=calendar.add(at, rule.target),
    )


def counted_at(clock: SlaClock, now: datetime, calendar: WorkCalendar) -> timedelta:
    """Working time the clock has counted by `now`."""
    if clock.running_since is None:
        return clock.counted
    return clock.counted + calendar.between(clock.running_since, now)


def pause(clock: SlaClock, at: datetime, calendar: WorkCalendar) -> SlaClock:
    """Stop counting (waiting on the customer) without losing what was counted."""
    if clock.running_since is None:
        return clock
    return clock.model_copy(
        update={"counted": counted_at(clock, at, calendar), "running_since": None, "due_at": None}
    )


def resume(clock: SlaClock, at: datetime, calendar: WorkCalendar) -> SlaClock:
    """Count again from `at`; the deadline moves by the paused time."""
    if clock.running_since is not None or clock.stopped_at is not None:
        return clock
    remaining = max(clock.target - clock.counted, timedelta(0))
    return clock.model_copy(update={"running_since": at, "due_at": calendar.add(at, remaining)})


def stop(clock: SlaClock, at: datetime, calendar: WorkCalendar) -> SlaClock:
    """The clock's goal was reached (acknowledged / resolved): record whether in time."""
    if clock.stopped_at is not None:
        return clock
    counted = counted_at(clock, at, calendar)
    return clock.model_copy(
        update={
            "counted": counted,
            "running_since": None,
            "due_at": None,
            "stopped_at": at,
            "met": clock.breached_at is None and counted <= clock.target,
        }
    )


def _instant(clock: SlaClock, work: timedelta, calendar: WorkCalendar) -> datetime | None:
    """When the clock will have counted `work`, if it is running."""
    if clock.running_since is None:
        return None
    needed = work - clock.counted
    return (
        clock.running_since if needed <= timedelta(0) else calendar.add(clock.running_since, needed)
    )


def _escalation_instant(clock: SlaClock, number: int, calendar: WorkCalendar) -> datetime | None:
    """When escalation `number` (1 = at the breach) is due."""
    if number == 1:
        return _instant(clock, clock.target, calendar)
    if clock.escalate_every is None:
        return None
    return _instant(clock, clock.target + clock.escalate_every * (number - 1), calendar)


def advance(
    clock: SlaClock, now: datetime, calendar: WorkCalendar, max_escalations: int
) -> tuple[SlaClock, list[ClockEvent]]:
    """Everything due by `now`, announced once: the state remembers what was said.

    A breach that is already due supersedes warnings not yet announced (after downtime we
    say "breached", not "75 % warning" then "breached"). Escalations due at once (after
    downtime) collapse into one announcement of the level now reached.
    """
    due = _instant(clock, clock.target, calendar)
    if due is None:  # paused or stopped: nothing runs, nothing is due
        return clock, []
    events: list[ClockEvent] = []
    warned = list(clock.warned)
    breached_at = clock.breached_at
    if breached_at is None and due <= now:
        warned = sorted(set(warned) | set(clock.warn_at))
        breached_at = due
        events.append(ClockEvent(ClockSignal.BREACHED, clock.kind, due))
    elif breached_at is None:
        for fraction in clock.warn_at:
            at = _instant(clock, clock.target * fraction, calendar)
            if fraction not in warned and at is not None and at <= now:
                warned.append(fraction)
                events.append(ClockEvent(ClockSignal.WARNED, clock.kind, due, fraction=fraction))
    escalations = clock.escalations
    if breached_at is not None:
        reached = escalations
        while reached < max_escalations:
            at = _escalation_instant(clock, reached + 1, calendar)
            if at is None or at > now:
                break
            reached += 1
        if reached > escalations:
            escalations = reached
            events.append(ClockEvent(ClockSignal.ESCALATED, clock.kind, due, escalations=reached))
    updated = clock.model_copy(
        update={"warned": tuple(warned), "breached_at": breached_at, "escalations": escalations}
    )
    return updated, events


def next_instant(clock: SlaClock, calendar: WorkCalendar, max_escalations: int) -> datetime | None:
    """The next moment this clock will have something to announce, if any."""
    if clock.running_since is None:
        return None
    candidates: list[datetime | None] = []
    if clock.breached_at is None:
        candidates += [
            _instant(clock, clock.target * f, calendar)
            for f in clock.warn_at
            if f not in clock.warned
        ]
        candidates.append(_instant(clock, clock.target, calendar))
    elif clock.escalations < max_escalations:
        candidates.append(_escalation_instant(clock, clock.escalations + 1, calendar))
    present = [c for c in candidates if c is not None]
    return min(present) if present else None
