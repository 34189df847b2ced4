"""SLA clocks with an injected clock: warnings, breach, escalation, pause, stop, downtime."""

from __future__ import annotations

from datetime import timedelta

from complaints.calendar import Always
from complaints.rules import ClockRule
from complaints.sla import ClockSignal, advance, next_instant, pause, resume, start_clock, stop
from streams.records import ClockKind
from tests.factories import T0

H = timedelta(hours=1)
CAL = Always()
RULE = ClockRule(target=2 * H, warn_at=(0.5, 0.75), escalate_every=H)


def _start():  # type: ignore[no-untyped-def]
    return start_clock(ClockKind.FIRST_ACTION, RULE, T0, CAL)


def _signals(events):  # type: ignore[no-untyped-def]
    return [(e.signal, e.fraction, e.escalations) for e in events]


def test_each_warning_fires_once_at_its_fraction() -> None:
    clock = _start()
    clock, events = advance(clock, T0 + timedelta(minutes=59), CAL, 4)
    assert events == []
    clock, events = advance(clock, T0 + timedelta(minutes=60), CAL, 4)
    assert _signals(events) == [(ClockSignal.WARNED, 0.5, 0)]
    clock, events = advance(clock, T0 + timedelta(minutes=95), CAL, 4)
    assert _signals(events) == [(ClockSignal.WARNED, 0.75, 0)]
    clock, events = advance(clock, T0 + timedelta(minutes=100), CAL, 4)
    assert events == []


def test_breach_fires_once_and_escalates_then_again_each_interval() -> None:
    clock = _start()
    clock, _ = advance(clock, T0 + timedelta(minutes=95), CAL, 4)
    clock, events = advance(clock, T0 + 2 * H, CAL, 4)
    assert _signals(events) == [(ClockSignal.BREACHED, None, 0), (ClockSignal.ESCALATED, None, 1)]
    clock, events = advance(clock, T0 + 2 * H + timedelta(minutes=30), CAL, 4)
    assert events == []
    clock, events = advance(clock, T0 + 3 * H, CAL, 4)
    assert _signals(events) == [(ClockSignal.ESCALATED, None, 2)]


def test_escalation_stops_at_the_top_level() -> None:
    clock = _start()
    clock, _ = advance(clock, T0 + 10 * H, CAL, 2)
    assert clock.escalations == 2
    assert next_instant(clock, CAL, 2) is None


def test_after_downtime_the_breach_fires_once_without_stale_warnings() -> None:
    """A deadline that passed while the worker was down is announced once, as one breach and
    one escalation to the level reached — not as a 50 % and a 75 % warning first."""
    clock, events = advance(_start(), T0 + 5 * H, CAL, 4)
    assert _signals(events) == [(ClockSignal.BREACHED, None, 0), (ClockSignal.ESCALATED, None, 4)]
    again, events = advance(clock, T0 + 5 * H, CAL, 4)
    assert events == [] and again == clock


def test_pause_moves_the_deadline_by_the_paused_time() -> None:
    clock = pause(_start(), T0 + H, CAL)
    assert clock.due_at is None and clock.counted == H
    assert advance(clock, T0 + 10 * H, CAL, 4) == (clock, [])
    clock = resume(clock, T0 + 4 * H, CAL)
    assert clock.due_at == T0 + 5 * H
    _, events = advance(clock, T0 + 5 * H, CAL, 4)
    assert ClockSignal.BREACHED in [e.signal for e in events]


def test_stop_records_whether_it_was_met() -> None:
    in_time = stop(_start(), T0 + H, CAL)
    assert in_time.met is True and in_time.due_at is None
    late, _ = advance(_start(), T0 + 3 * H, CAL, 4)
    assert stop(late, T0 + 3 * H, CAL).met is False
    assert advance(in_time, T0 + 9 * H, CAL, 4)[1] == []


def test_next_instant_is_the_earliest_pending_announcement() -> None:
    clock = _start()
    assert next_instant(clock, CAL, 4) == T0 + H
    clock, _ = advance(clock, T0 + H, CAL, 4)
    assert next_instant(clock, CAL, 4) == T0 + timedelta(minutes=90)
    clock, _ = advance(clock, T0 + 2 * H, CAL, 4)
    assert next_instant(clock, CAL, 4) == T0 + 3 * H
