"""Churn benchmark: memory per 100k tracked customers and time per 100k of the churn scan.

Same process, same synthetic customers (seeded): each has a last login in the past 10 days
and feature use over the past weeks. The baseline is what a naive tracker would keep and do:
a dict of customer -> last-login datetime, scanned in full on every tick. Measured against it:

  memory (tracemalloc, bytes per customer, keys excluded as both sides hold them):
    state tuples   dict of ChurnState (six ints) — what the worker works with
    packed text    dict of ChurnState.pack() strings — what the table stores (memory store)
    due index      agents.due_index.DueIndex with every customer scheduled
  time per 100k customers (median of repeats, time.perf_counter):
    full judge     due_at() over every customer — the rebuild after a rebalance
    timer tick     DueIndex.pop_due() with 1 % (a burst) and 0.01 % (steady state: 7-day
                   silences spread over a week, a check a minute) of customers due, then
                   check() for those — what the timer and the agent do every interval

    .venv/bin/python bench/bench_churn.py           # 300k customers, 5 repeats
    .venv/bin/python bench/bench_churn.py --quick   # 100k customers, 3 repeats
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agents.due_index import DueIndex  # noqa: E402
from complaints.churn import ChurnState, check, due_at, week_of  # noqa: E402
from complaints.rules import load_rules  # noqa: E402

SEED = 20261124
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
PER = 100_000


def customers(n: int) -> tuple[list[str], list[ChurnState]]:
    policy = load_rules().churn
    rng = random.Random(SEED)
    now = int(NOW.timestamp())
    week = week_of(now, policy)
    keys = [f"cust-{i:08d}" for i in range(n)]
    states = [
        ChurnState(
            last_login=now - rng.randrange(10 * 86400),
            week=week - rng.randrange(2),
            uses=rng.randrange(60),
            uses_1=rng.randrange(60),
            uses_2=rng.randrange(60),
        )
        for _ in range(n)
    ]
    return keys, states


def measure_memory(build: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return after - before


def timed(run: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k customers, 3 repeats")
    args = parser.parse_args()
    n, repeats = (PER, 3) if args.quick else (3 * PER, 5)
    policy = load_rules().churn
    keys, states = customers(n)
    now = int(NOW.timestamp())
    silence = timedelta(seconds=policy.silence.total_seconds())
    logins = [datetime.fromtimestamp(s.last_login, UTC) for s in states]

    print(
        f"churn benchmark: customers={n:,}, repeats={repeats}, python={platform.python_version()}, "
        f"machine={platform.machine()}"
    )
    scale = PER / n

    # -- memory ---------------------------------------------------------------------------
    baseline_mem = measure_memory(
        lambda: {
            k: datetime.fromtimestamp(s.last_login, UTC) for k, s in zip(keys, states, strict=True)
        }
    )
    rows = [("baseline: dict of last-login datetimes", baseline_mem)]
    rows.append(
        (
            "state tuples (ChurnState)",
            measure_memory(lambda: {k: ChurnState(*s) for k, s in zip(keys, states, strict=True)}),
        )
    )
    rows.append(
        (
            "packed text (table value)",
            measure_memory(lambda: {k: s.pack() for k, s in zip(keys, states, strict=True)}),
        )
    )

    def index_all() -> DueIndex:
        index = DueIndex()
        for k, s in zip(keys, states, strict=True):
            index.schedule(k, due_at(s, now, policy))
        return index

    rows.append(("due index (every customer scheduled)", measure_memory(index_all)))
    print()
    print(f"{'memory':<42} {'MB per 100k':>12} {'B/customer':>11} {'vs baseline':>12}")
    for name, size in rows:
        print(
            f"{name:<42} {size * scale / 1e6:>12.1f} {size / n:>11.0f} {size / baseline_mem:>11.2f}x"
        )

    # -- time -----------------------------------------------------------------------------
    def naive_scan() -> int:
        moment = NOW
        return sum(1 for last in logins if moment - last >= silence)

    def full_judge() -> int:
        return sum(1 for s in states if due_at(s, now, policy) == now)

    index = index_all()

    def tick_with(fraction: float) -> Callable[[], int]:
        due_keys = random.Random(SEED + 1).sample(range(n), max(1, int(n * fraction)))

        def tick() -> int:
            for i in due_keys:  # make them due (what the passing of time does)
                index.schedule(keys[i], float(now - 1))
            popped = index.pop_due(float(now))
            for key in popped:
                check(key, states[int(key[5:])], NOW, policy)
            return len(popped)

        return tick

    baseline_time = timed(naive_scan, repeats)
    times = [
        ("baseline: scan every last-login datetime", baseline_time),
        ("full judge (rebuild after a rebalance)", timed(full_judge, repeats)),
        ("timer tick, 1 % due (pop + check)", timed(tick_with(0.01), repeats)),
        # steady state: 7-day silences spread over a week, checked every minute: ~0.01 % due
        ("timer tick, 0.01 % due (pop + check)", timed(tick_with(0.0001), repeats)),
    ]
    print()
    print(f"{'scan':<42} {'ms per 100k':>12} {'vs baseline':>12}")
    for name, seconds in times:
        print(f"{name:<42} {seconds * scale * 1000:>12.1f} {seconds / baseline_time:>11.2f}x")


if __name__ == "__main__":
    main()
