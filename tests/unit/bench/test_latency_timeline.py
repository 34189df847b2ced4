"""The open-loop run second by second: latency per due second and the CPU spent in it."""

from __future__ import annotations

import pytest

from bench.ladder.latency import episodes, timeline


def _cpu_at(second: float) -> dict[str, float]:
    """A worker busy 0.5 s a second for two seconds, then 0.1 s a second."""
    return {"worker": 0.5 * min(second, 2) + 0.1 * max(second - 2, 0)}


class TestTimeline:
    def test_events_go_to_the_second_they_were_due_in(self) -> None:
        rows = timeline(
            {"assessment": [(0.1, 10.0), (0.9, 30.0), (0.5, 20.0), (2.2, 900.0)]},
            _cpu_at,
            seconds=3,
        )
        assert [row["second"] for row in rows] == [0, 1, 2]
        assert rows[0]["assessment_events"] == 3
        assert rows[0]["assessment_p50_ms"] == 20.0
        assert rows[0]["assessment_max_ms"] == 30.0
        assert rows[1]["assessment_events"] == 0
        assert rows[1]["assessment_p50_ms"] is None
        assert rows[2]["assessment_max_ms"] == 900.0

    def test_each_second_has_the_cpu_spent_in_it(self) -> None:
        rows = timeline({"assessment": []}, _cpu_at, seconds=4)
        assert [row["worker_cpu_share"] for row in rows] == pytest.approx([0.5, 0.5, 0.1, 0.1])


class TestEpisodes:
    def _rows(self, p50s: list[float | None], shares: list[float]) -> list[dict[str, object]]:
        return [
            {"second": i, "assessment_p50_ms": p50, "worker_cpu_share": share}
            for i, (p50, share) in enumerate(zip(p50s, shares, strict=True))
        ]

    def test_consecutive_slow_seconds_are_one_episode(self) -> None:
        rows = self._rows(
            [80, 900, 2500, 700, 90, None, 600, 650],
            [0.8, 0.2, 0.1, 0.3, 0.8, 0.0, 1.0, 0.9],
        )
        assert episodes(rows) == [
            {"first_second": 1, "last_second": 3, "peak_p50_ms": 2500, "worker_cpu_share": 0.2},
            {"first_second": 6, "last_second": 7, "peak_p50_ms": 650, "worker_cpu_share": 0.95},
        ]

    def test_a_steady_run_has_none(self) -> None:
        assert episodes(self._rows([80, 120, 499, None], [0.8] * 4)) == []

    def test_the_threshold_is_a_parameter(self) -> None:
        assert len(episodes(self._rows([80, 120, 90], [0.8] * 3), above_ms=100)) == 1
