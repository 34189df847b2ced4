"""Open-loop latency of the real worker at a fixed share of its in-run maximum.

A warmed-up `kesu worker` (shipped timer intervals) takes events from the open-loop generator
(openloop.py) at R = share × the L5 drain rate measured in the same run. Latency of an event
is measured from its *scheduled* publish time to:

- its assessment: the record on `<ns>.assessments` whose event_id is the event's;
- its lifecycle record: the first record on `<ns>.alerts.lifecycle` that the event caused
  (transition opened, contact_added or tier_raised with the event as the alert's newest
  contact) — only negative contacts have one.

Times are the records' timestamps, set by the worker's producer when it sent them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from bench.ladder.candidates import Candidate
from bench.ladder.cluster import TP, Cluster
from bench.ladder.drain import Sampler, settle
from bench.ladder.processes import Child, child_env
from bench.ladder.stats import percentile
from streams.topics import ASSESSMENTS, LIFECYCLE

CAUSED_BY_CONTACT = {"opened", "contact_added", "tier_raised"}


def read_since(bootstrap: str, starts: dict[TP, int], ends: dict[TP, int]) -> list[Any]:
    """The records between `starts` and `ends` of some partitions (no consumer group)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(t, p) for (t, p) in starts if ends.get((t, p), 0) > starts[(t, p)]
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[(tp.topic, tp.partition)])
        records: list[Any] = []
        remaining = {tp: ends[(tp.topic, tp.partition)] for tp in partitions}
        deadline = time.monotonic() + 120
        while remaining and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=500).items():
                records.extend(r for r in batch if r.offset < remaining.get(tp, -1))
                if consumer.position(tp) >= remaining.get(tp, 0):
                    remaining.pop(tp, None)
        return records
    finally:
        consumer.close()


def summarise(latencies_ms: list[float]) -> dict[str, Any]:
    if not latencies_ms:
        return {"count": 0}
    return {
        "count": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 50), 1),
        "p95_ms": round(percentile(latencies_ms, 95), 1),
        "p99_ms": round(percentile(latencies_ms, 99), 1),
        "max_ms": round(max(latencies_ms), 1),
    }


def timeline(
    samples: Mapping[str, list[tuple[float, float]]],
    cpu_seconds_at: Callable[[float], Mapping[str, float]],
    *,
    seconds: int,
) -> list[dict[str, Any]]:
    """The run second by second: each second's latency (p50 and max of the events *due* in it)
    and each process group's CPU share in it.

    Why: the percentiles of a whole run cannot tell a steady queue from an episode, nor an
    episode where the worker was busy (work) from one where it was idle (a stall) — this can.
    `samples` maps a measure to (seconds after the start the event was due, latency ms);
    `cpu_seconds_at(t)` is each group's CPU seconds at `t` seconds after the start.
    """
    rows: list[dict[str, Any]] = []
    by_second: dict[str, dict[int, list[float]]] = {name: {} for name in samples}
    for name, pairs in samples.items():
        for due, ms in pairs:
            by_second[name].setdefault(int(due), []).append(ms)
    for second in range(seconds):
        row: dict[str, Any] = {"second": second}
        for name, buckets in by_second.items():
            values = buckets.get(second)
            row[f"{name}_events"] = len(values) if values else 0
            row[f"{name}_p50_ms"] = round(percentile(values, 50), 1) if values else None
            row[f"{name}_max_ms"] = round(max(values), 1) if values else None
        before, after = cpu_seconds_at(second), cpu_seconds_at(second + 1)
        for group, spent in after.items():
            row[f"{group}_cpu_share"] = round(spent - before.get(group, 0.0), 3)
        rows.append(row)
    return rows


def episodes(
    rows: list[dict[str, Any]], *, measure: str = "assessment", above_ms: float = 500.0
) -> list[dict[str, Any]]:
    """The runs of consecutive seconds of `timeline` whose p50 of `measure` exceeds `above_ms`,
    with their peak and the worker's mean CPU share in them (near 1: busy; near 0: stalled)."""
    found: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for row in [*rows, None]:
        p50 = row.get(f"{measure}_p50_ms") if row else None
        if p50 is not None and p50 > above_ms:
            current.append(row)  # type: ignore[arg-type]
            continue
        if current:
            shares = [r["worker_cpu_share"] for r in current if "worker_cpu_share" in r]
            found.append(
                {
                    "first_second": current[0]["second"],
                    "last_second": current[-1]["second"],
                    "peak_p50_ms": max(r[f"{measure}_p50_ms"] for r in current),
                    "worker_cpu_share": round(sum(shares) / len(shares), 3) if shares else None,
                }
            )
            current = []
    return found


def measure_latency(
    cluster: Cluster,
    candidate: Candidate,
    namespace: str,
    *,
    rate: float,
    seconds: float,
    seed: int,
    now_iso: str,
    work: Path,
    logs: Path,
) -> dict[str, Any]:
    """Run the open-loop generator against a prepared worker; latency percentiles and CPU."""
    outputs = [ASSESSMENTS.name(namespace), LIFECYCLE.name(namespace)]
    schedule_file = work / f"{namespace}-schedule.json"
    generator = Child(
        "open-loop generator",
        [
            "-m",
            "bench.ladder.openloop",
            "--bootstrap",
            cluster.bootstrap,
            "--namespace",
            namespace,
            "--rate",
            f"{rate:.3f}",
            "--seconds",
            str(seconds),
            "--seed",
            str(seed),
            "--now",
            now_iso,
            "--out",
            str(schedule_file),
        ],
        child_env(),
        logs / f"{namespace}-openloop.log",
    )
    generator.start()
    try:
        generator.wait_for("ready", 300)
        starts = cluster.end_offsets(outputs)
        all_starts = cluster.end_offsets(cluster.topics(namespace))
        sampler = Sampler(
            {
                "worker": [child.pid for child in candidate.children],
                "broker": [cluster.broker_pid],
                "generator": [generator.pid],
            },
            interval=0.1,
        )
        sampler.sample()
        sampler.start()
        generator.wait_for("done", seconds + 300)
        settle(cluster, candidate.group, namespace, watch=candidate.children, timeout=600)
        sampler.stop()
    finally:
        generator.stop()
    plan = json.loads(schedule_file.read_text())
    schedule: dict[str, float] = plan["schedule"]
    records = read_since(cluster.bootstrap, starts, cluster.end_offsets(outputs))
    to_assessment: list[tuple[float, float]] = []  # (due after the start, latency ms)
    to_lifecycle: list[tuple[float, float]] = []
    started = plan["started"]
    attributed: set[str] = set()
    for record in sorted(records, key=lambda r: r.timestamp):
        body = json.loads(record.value)
        if record.topic == outputs[0]:
            due = schedule.get(body.get("event_id", ""))
            if due is not None:
                to_assessment.append((due - started, record.timestamp - due * 1000.0))
            continue
        event_ids = body.get("alert", {}).get("event_ids") or []
        if body.get("transition") in CAUSED_BY_CONTACT and event_ids:
            newest = event_ids[-1]
            due = schedule.get(newest)
            if due is not None and newest not in attributed:
                attributed.add(newest)
                to_lifecycle.append((due - started, record.timestamp - due * 1000.0))
    ended = max((r.timestamp for r in records), default=None)
    window = ((ended / 1000.0) if ended else time.time()) - started
    cpu0, cpu1 = sampler.values[0], sampler.at(started + window)
    events = len(plan["send_lateness_s"])
    written = sum(cluster.end_offsets(cluster.topics(namespace)).values()) - sum(
        all_starts.values()
    )
    return {
        "rate_events_per_s": round(rate, 2),
        "window_seconds": seconds,
        "events": events,
        "publish_to_assessment": summarise([ms for _, ms in to_assessment]),
        "publish_to_lifecycle": summarise([ms for _, ms in to_lifecycle]),
        "generator_send_lateness_p99_ms": round(1000 * percentile(plan["send_lateness_s"], 99), 2),
        "cpu_ms_per_event": {
            name: round(1000 * (cpu1[name] - cpu0.get(name, 0.0)) / events, 4) for name in cpu1
        },
        "records_written_per_event": round(written / events, 3),
        "timeline": timeline(
            {"assessment": to_assessment, "lifecycle": to_lifecycle},
            lambda second: sampler.at(started + second),
            seconds=int(window) + 1,
        ),
        "samples_ms": {
            "publish_to_assessment": [round(ms, 1) for _, ms in to_assessment],
            "publish_to_lifecycle": [round(ms, 1) for _, ms in to_lifecycle],
        },
    }
