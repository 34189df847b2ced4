"""CPU at a moment between two samples, and the ratios the report prints."""

from __future__ import annotations

import pytest

from bench.ladder.drain import Drain, Sampler
from bench.ladder.report import ratio_rows, rung_rows


def test_cpu_between_samples_is_interpolated() -> None:
    sampler = Sampler({"worker": []})
    sampler.times = [10.0, 10.5, 11.0]
    sampler.values = [{"worker": 1.0}, {"worker": 1.5}, {"worker": 2.5}]
    assert sampler.at(10.75)["worker"] == pytest.approx(2.0)
    assert sampler.at(9.0)["worker"] == 1.0  # before the first sample: the first
    assert sampler.at(12.0)["worker"] == 2.5  # after the last: the last


def run(rung: str, rate: float, cpu_ms: float, events: int = 1000) -> Drain:
    seconds = events / rate
    return Drain(
        rung=rung,
        events=events,
        seconds=seconds,
        cpu={"candidate": cpu_ms * events / 1000, "broker": 0.1},
        records=events * 2,
        batches=events,
        dead_letters=0,
        load_seconds=0.1,
        by_topic={},
    )


def test_ratios_pair_rungs_of_the_same_repetition() -> None:
    """L5/L3′ is the median of per-repetition ratios: (50/500, 40/200, 45/300) -> 0.15."""
    reps = [
        {"L3p": run("L3p", 500, 0.5), "L5": run("L5", 50, 5.0)},
        {"L3p": run("L3p", 200, 0.5), "L5": run("L5", 40, 6.0)},
        {"L3p": run("L3p", 300, 0.5), "L5": run("L5", 45, 4.0)},
    ]
    [row] = [r for r in ratio_rows(reps) if r["ratio"] == "L5/L3′"]
    assert row["rate_ratio"]["median"] == pytest.approx(0.15)
    assert (row["rate_ratio"]["min"], row["rate_ratio"]["max"]) == (
        pytest.approx(0.1),
        pytest.approx(0.2),
    )
    assert row["cpu_per_event_ratio"]["median"] == pytest.approx(10.0)
    rungs = {r["rung"]: r for r in rung_rows(reps)}
    assert rungs["L5"]["events_per_s"] == 45.0
    assert rungs["L5"]["records_per_event"] == 2.0
