"""Worker memory per 100k open SLA clocks, tracked orders and tracked customers.

Feeding 100k cases through the pipeline would take longer than the whole bench, so the state
is written where a worker recovers it from: its tables' changelog topics. Templates come from
a real worker that drained the warm-up corpus; each template is cloned under fresh ids (the
id replaced in key and value), so every clone is a real record of the current code's format:

  clocks     `cases` (a case with an open SLA clock; its deadline is in the case)
  orders     `orders` (logistics tracking)
  customers  `churn` (activity tracking)

A worker is then started on the namespace with its timers every few seconds; once it is ready
(recovery complete), every timer has built its in-memory due index from its table (as a real
worker does after each rebalance) and it has idled a few seconds, its VmRSS (/proc/<pid>/status)
is read five times and the median kept. The baseline is the same worker on an empty namespace,
started before and after each dimension; the deltas are taken from those runs' median.
(Until 2026-12-07 the timers stayed off here, as in the drains, so the due indexes — ~20 MB per
100k open clocks — and the rebuild's transient were left out of the figures.)
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from bench.ladder import candidates
from bench.ladder.cluster import Cluster, fresh_namespace
from bench.ladder.corpus import RawEvent
from bench.ladder.drain import warm_up
from bench.ladder.latency import read_since
from bench.ladder.procstat import rss_bytes

#: The due-index timers (agents/due_index.py) and how often they run while memory is measured.
DUE_TIMERS = ("case-clocks", "surge-windows", "logistics-overdue", "churn-due")
TIMERS_EVERY = {
    "tick_interval": timedelta(seconds=3),
    "logistics_check_interval": timedelta(seconds=3),
    "churn_check_interval": timedelta(seconds=3),
}

#: dimension -> (tables cloned together, the table whose keys are counted)
DIMENSIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "clocks": (("cases",), "cases"),
    "orders": (("orders",), "orders"),
    "customers": (("churn",), "churn"),
}
Templates = dict[str, list[dict[str, tuple[bytes, bytes]]]]


def _ident(key: bytes) -> str:
    """The id inside a table key: `customer:<id>` -> <id>; an order or customer id as is."""
    text = json.loads(key)
    return str(text).split(":", 1)[1] if str(text).startswith("customer:") else str(text)


def harvest(cluster: Cluster, warmup: list[RawEvent], *, logs: Path, work: Path) -> Templates:
    """Drain the warm-up corpus with a real worker and keep its tables' latest records."""
    namespace = fresh_namespace("mt")
    cluster.create_namespace(namespace)
    candidate = candidates.workers(cluster, "mem", namespace, logs, work / namespace)
    try:
        candidate.start()
        warm_up(
            cluster, candidate.children, group=candidate.group, namespace=namespace, warmup=warmup
        )
        latest: dict[str, dict[bytes, bytes]] = {}
        for tables, _counted in DIMENSIONS.values():
            for table in tables:
                topic = f"{namespace}-{table}-changelog"
                ends = cluster.end_offsets([topic])
                rows = latest.setdefault(table, {})
                for record in read_since(cluster.bootstrap, dict.fromkeys(ends, 0), ends):
                    if record.value is None:
                        rows.pop(record.key, None)
                    else:
                        rows[record.key] = record.value
    finally:
        candidate.stop()
        cluster.delete_namespace(namespace)
        shutil.rmtree(work / namespace, ignore_errors=True)
    out: Templates = {}
    for dimension, (tables, counted) in DIMENSIONS.items():
        groups = []
        for key in latest.get(counted, {}):
            if not key.startswith(b'"customer:') and counted == "cases":
                continue  # customer cases only: their ids are plain ASCII
            if all(key in latest.get(table, {}) for table in tables):
                groups.append({table: (key, latest[table][key]) for table in tables})
        if not groups:
            raise RuntimeError(f"no {dimension} templates: the warm-up opened none")
        out[dimension] = groups
    return out


def clones(
    groups: list[dict[str, tuple[bytes, bytes]]], count: int
) -> Iterator[tuple[str, bytes, bytes]]:
    """`count` clones (table, key, value), cycling through the templates, each with a new id."""
    for number in range(count):
        group = groups[number % len(groups)]
        for table, (key, value) in group.items():
            old = _ident(key).encode()
            new = f"m{number:07d}-{old.decode()[-12:]}".encode()
            yield table, key.replace(old, new), value.replace(old, new)


def _preload(cluster: Cluster, namespace: str, rows: Iterator[tuple[str, bytes, bytes]]) -> int:
    producer = KafkaProducer(
        bootstrap_servers=cluster.bootstrap, acks=1, linger_ms=20, batch_size=512 * 1024
    )
    count = 0
    try:
        for table, key, value in rows:
            producer.send(f"{namespace}-{table}-changelog", key=key, value=value)
            count += 1
        producer.flush()
    finally:
        producer.close()
    return count


def _rss_of_worker(
    cluster: Cluster,
    namespace: str,
    *,
    logs: Path,
    work: Path,
    fill: Callable[[], int],
    idle: float,
) -> tuple[float, float, int]:
    """(median VmRSS in bytes, seconds from start to ready, records preloaded)."""
    cluster.create_namespace(namespace)  # with the tables' changelog topics, to fill first
    candidate = candidates.workers(
        cluster, "mem", namespace, logs, work / namespace, quiet_timers=False, **TIMERS_EVERY
    )
    preloaded = fill()
    try:
        started = time.monotonic()
        candidate.start(timeout=900)
        ready = time.monotonic() - started
        worker = candidate.children[0]
        for timer in DUE_TIMERS:
            worker.wait_for(f"{timer}: due index rebuilt", timeout=900)
        time.sleep(idle)
        pid = worker.pid
        samples = []
        for _ in range(5):
            samples.append(rss_bytes(pid))
            time.sleep(0.5)
        return statistics.median(samples), ready, preloaded
    finally:
        candidate.stop()
        cluster.delete_namespace(namespace)
        shutil.rmtree(work / namespace, ignore_errors=True)


def measure_memory(
    cluster: Cluster,
    warmup: list[RawEvent],
    *,
    sizes: tuple[int, ...],
    dimensions: tuple[str, ...],
    logs: Path,
    work: Path,
    idle: float,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """RSS of an empty worker and of workers holding `sizes` of each dimension."""
    templates = harvest(cluster, warmup, logs=logs, work=work)
    empties: list[float] = []
    rows_ready: dict[tuple[str, int], tuple[float, int]] = {}

    def measure_empty() -> None:
        rss, ready, _ = _rss_of_worker(
            cluster, fresh_namespace("m0"), logs=logs, work=work, fill=lambda: 0, idle=idle
        )
        empties.append(rss)
        progress(f"  empty worker: {rss / 1e6:.1f} MB RSS (ready in {ready:.1f} s)")

    # An empty worker's own RSS moves by up to ~20 MB from one start to the next (the scorer's
    # load, glibc's arenas): one is measured before and one after each dimension, and every
    # delta is taken from their median, so one unusual start does not become the figure.
    measure_empty()
    measured: dict[str, list[float]] = {}
    for dimension in dimensions:
        measured[dimension] = []
        for size in sizes:
            namespace = fresh_namespace(f"m{dimension[:2]}")

            def fill(
                namespace: str = namespace,
                size: int = size,
                groups: list[dict[str, tuple[bytes, bytes]]] = templates[dimension],
            ) -> int:
                return _preload(cluster, namespace, clones(groups, size))

            rss, ready, records = _rss_of_worker(
                cluster, namespace, logs=logs, work=work, fill=fill, idle=idle
            )
            measured[dimension].append(rss)
            rows_ready[(dimension, size)] = (ready, records)
            progress(
                f"  {size:>7,} {dimension}: {rss / 1e6:.1f} MB RSS (recovered and ready in "
                f"{ready:.1f} s)"
            )
        measure_empty()
    empty = statistics.median(empties)
    progress(
        f"  empty worker, median of {len(empties)}: {empty / 1e6:.1f} MB RSS "
        f"({min(empties) / 1e6:.1f}–{max(empties) / 1e6:.1f})"
    )
    result: dict[str, Any] = {
        "empty_rss_mb": round(empty / 1e6, 1),
        "empty_rss_mb_runs": [round(e / 1e6, 1) for e in empties],
        "dimensions": {},
    }
    for dimension in dimensions:
        rows = []
        for size, rss in zip(sizes, measured[dimension], strict=True):
            ready, records = rows_ready[(dimension, size)]
            per_100k = (rss - empty) / 1e6 * 100_000 / size
            rows.append(
                {
                    "count": size,
                    "records_preloaded": records,
                    "rss_mb": round(rss / 1e6, 1),
                    "delta_mb": round((rss - empty) / 1e6, 1),
                    "mb_per_100k": round(per_100k, 1),
                    "ratio_to_empty": round(rss / empty, 3),
                    "ready_seconds": round(ready, 1),
                }
            )
            progress(
                f"  {size:>7,} {dimension}: +{(rss - empty) / 1e6:.1f} MB "
                f"= {per_100k:.1f} MB per 100k"
            )
        result["dimensions"][dimension] = rows
    result["templates"] = {d: len(t) for d, t in templates.items()}
    return result
