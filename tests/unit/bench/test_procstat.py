"""Reading CPU time and resident memory from /proc."""

from __future__ import annotations

import os

from bench.ladder.procstat import (
    CLOCK_TICKS,
    cpu_seconds,
    parse_cpu_ticks,
    parse_rss_bytes,
    rss_bytes,
)


class TestParse:
    def test_cpu_is_utime_plus_stime_counted_after_the_command_name(self) -> None:
        """A command name with spaces and parentheses does not shift the fields."""
        fields = ["S", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "120", "30", "99", "98"]
        stat = "4242 (kesu worker (x) y) " + " ".join(fields)
        assert parse_cpu_ticks(stat) == 150

    def test_rss_is_vmrss_in_bytes(self) -> None:
        status = "Name:\tpython\nVmPeak:\t  900 kB\nVmRSS:\t  1234 kB\nThreads:\t3\n"
        assert parse_rss_bytes(status) == 1234 * 1024

    def test_a_zombie_without_vmrss_reads_as_zero(self) -> None:
        assert parse_rss_bytes("Name:\tpython\nState:\tZ (zombie)\n") == 0


class TestThisProcess:
    def test_cpu_grows_when_the_process_works(self) -> None:
        """Busy work shows up as at least one more clock tick."""
        before = cpu_seconds(os.getpid())
        total = 0
        while cpu_seconds(os.getpid()) < before + 2 / CLOCK_TICKS:
            total += sum(range(10_000))
        assert cpu_seconds(os.getpid()) > before

    def test_rss_of_a_running_process_is_positive(self) -> None:
        assert rss_bytes(os.getpid()) > 1024 * 1024
