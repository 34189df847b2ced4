"""Working-time arithmetic: 24/7, and business hours with holidays and make-up workdays (调休)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.calendar import Always, Business, calendar_named
from complaints.rules import load_rules
from tests.properties import PROPERTY_EXAMPLES

BJ = ZoneInfo("Asia/Shanghai")
BUSINESS = calendar_named(load_rules(), "business")


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)  # type: ignore[misc]


class TestAlways:
    def test_every_moment_counts(self) -> None:
        start = datetime(2026, 10, 1, 23, 30, tzinfo=UTC)
        assert Always().add(start, timedelta(hours=2)) == start + timedelta(hours=2)
        assert Always().between(start, start - timedelta(hours=1)) == timedelta(0)


class TestBusinessHours:
    def test_time_inside_one_day(self) -> None:
        assert BUSINESS.add(bj(2026, 11, 23, 10, 0), timedelta(hours=2)) == bj(2026, 11, 23, 12, 0)

    def test_evening_carries_over_to_the_next_morning(self) -> None:
        """17:00 Monday + 2 h of service time = 10:00 Tuesday (18:00-09:00 does not count)."""
        assert BUSINESS.add(bj(2026, 11, 23, 17, 0), timedelta(hours=2)) == bj(2026, 11, 24, 10, 0)

    def test_before_opening_starts_at_opening(self) -> None:
        assert BUSINESS.add(bj(2026, 11, 23, 6, 0), timedelta(minutes=30)) == bj(
            2026, 11, 23, 9, 30
        )

    def test_weekend_is_skipped(self) -> None:
        """Friday 17:00 + 2 h = Monday 10:00."""
        assert BUSINESS.add(bj(2026, 11, 27, 17, 0), timedelta(hours=2)) == bj(2026, 11, 30, 10, 0)

    def test_national_day_holiday_is_skipped_and_makeup_saturday_counts(self) -> None:
        """国庆 2026: Oct 1-7 off; Sat Oct 10 is a make-up workday (调休上班)."""
        assert BUSINESS.add(bj(2026, 9, 30, 17, 0), timedelta(hours=2)) == bj(2026, 10, 8, 10, 0)
        assert BUSINESS.add(bj(2026, 10, 9, 17, 0), timedelta(hours=2)) == bj(2026, 10, 10, 10, 0)

    def test_spring_festival(self) -> None:
        """春节 2026: Feb 15-23 off, Sat Feb 14 worked."""
        cal = BUSINESS
        assert isinstance(cal, Business)
        assert cal.is_working_day(bj(2026, 2, 14, 12).date())
        assert not cal.is_working_day(bj(2026, 2, 16, 12).date())
        assert cal.between(bj(2026, 2, 13, 9, 0), bj(2026, 2, 24, 9, 0)) == timedelta(hours=18)

    def test_results_are_utc(self) -> None:
        assert BUSINESS.add(bj(2026, 11, 23, 10, 0), timedelta(hours=1)).utcoffset() == timedelta(0)


_moments = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds plus `timezones`
    max_value=datetime(2026, 12, 20),  # noqa: DTZ001
    timezones=st.just(BJ),
)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(start=_moments, minutes=st.integers(min_value=1, max_value=60 * 60))
def test_between_measures_what_add_added(start: datetime, minutes: int) -> None:
    """Adding N minutes of service time and measuring back gives N minutes, from any moment."""
    work = timedelta(minutes=minutes)
    end = BUSINESS.add(start, work)
    assert BUSINESS.between(start, end) == work
    local = end.astimezone(BJ).time()
    assert time(9, 0) < local <= time(18, 0)
