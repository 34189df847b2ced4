"""Pre-load, then drain: the throughput and CPU per event of one candidate on one corpus.

For every run:
1. a fresh namespace (topics as kesu creates them) and fresh consumer group;
2. the candidate's processes start and drain a small warm-up set (scorer loaded, tables
   open, group joined) until settled;
3. the processes are paused (SIGSTOP), the corpus is published to the raw topics, and the
   processes resumed (SIGCONT) at t0, so neither start-up nor the load generator is timed;
4. done = settled: the group has committed the end offset of every partition assigned to it
   (every stage's input, table changelogs aside) and no topic of the namespace has grown for
   `quiet` seconds. Every event has then passed every stage that consumes it and every output
   it caused is written;
5. the run ends at the last record written to the namespace (the newest batch timestamp in
   the broker's log files), and CPU (utime + stime from /proc) of the candidate's processes,
   the broker and the bench itself is interpolated at t0 and that end.

The records the run appended (outputs and table changelogs) and the batches they came in are
counted from the broker's log files: records written per raw event and records per produce
batch.
"""

from __future__ import annotations

import bisect
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.ladder.cluster import TP, Cluster
from bench.ladder.corpus import RawEvent
from bench.ladder.kafkalog import appended_since
from bench.ladder.processes import Child
from bench.ladder.procstat import cpu_of


class Sampler(threading.Thread):
    """Samples the CPU seconds of named groups of processes every `interval` seconds."""

    def __init__(self, groups: dict[str, Sequence[int]], interval: float = 0.02) -> None:
        super().__init__(daemon=True, name="cpu-sampler")
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self.interval = interval
        self.times: list[float] = []
        self.values: list[dict[str, float]] = []
        self._stop_event = threading.Event()

    def sample(self) -> None:
        pids = {f"{name}:{pid}": pid for name, group in self.groups.items() for pid in group}
        now = time.time()
        cpu = cpu_of(pids)
        totals = {
            name: sum(cpu.get(f"{name}:{pid}", 0.0) for pid in group)
            for name, group in self.groups.items()
        }
        self.times.append(now)
        self.values.append(totals)

    def run(self) -> None:
        # Fine-grained while short runs need it, then 5× coarser: the sampler is the bench's
        # own CPU, taken from the same two cores.
        started = time.monotonic()
        interval = self.interval
        while not self._stop_event.wait(interval):
            self.sample()
            if time.monotonic() - started > 3.0:
                interval = self.interval * 5

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)
        self.sample()

    def at(self, moment: float) -> dict[str, float]:
        """CPU seconds per group at `moment`, interpolated between the samples around it."""
        if not self.times:
            raise ValueError("no samples")
        i = bisect.bisect_left(self.times, moment)
        if i <= 0:
            return dict(self.values[0])
        if i >= len(self.times):
            return dict(self.values[-1])
        t1, t2 = self.times[i - 1], self.times[i]
        w = (moment - t1) / (t2 - t1) if t2 > t1 else 1.0
        a, b = self.values[i - 1], self.values[i]
        return {name: a.get(name, 0.0) + w * (b.get(name, 0.0) - a.get(name, 0.0)) for name in b}


@dataclass
class Drain:
    """One candidate draining one corpus."""

    rung: str
    events: int
    seconds: float
    cpu: dict[str, float]  # CPU seconds in the window: candidate, broker, bench
    records: int  # appended to the namespace's non-raw topics (outputs + changelogs)
    batches: int
    dead_letters: int
    load_seconds: float
    by_topic: dict[str, int]

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def cpu_ms_per_event(self, group: str = "candidate") -> float:
        return 1000.0 * self.cpu.get(group, 0.0) / self.events

    def as_dict(self) -> dict[str, Any]:
        return {
            "rung": self.rung,
            "events": self.events,
            "seconds": round(self.seconds, 4),
            "events_per_s": round(self.rate, 1),
            "cpu_seconds": {k: round(v, 4) for k, v in self.cpu.items()},
            "cpu_ms_per_event": {k: round(self.cpu_ms_per_event(k), 4) for k in self.cpu},
            "records_written": self.records,
            "records_per_event": round(self.records / self.events, 3),
            "batches": self.batches,
            "records_per_batch": round(self.records / self.batches, 3) if self.batches else None,
            "dead_letters": self.dead_letters,
            "load_seconds": round(self.load_seconds, 3),
            "records_by_topic": self.by_topic,
        }


def settle(
    cluster: Cluster,
    group: str,
    namespace: str,
    *,
    members: int = 1,
    quiet: float = 1.0,
    timeout: float = 600.0,
    watch: Sequence[Child] = (),
) -> None:
    """Wait until `group` (with at least `members` members) has committed everything assigned
    to it and no topic of the namespace has grown for `quiet` seconds."""
    began = time.monotonic()
    deadline = began + timeout
    last_total: int | None = None
    last_change = time.monotonic()
    while True:
        for child in watch:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited:\n{child.output()[-3000:]}")
        ends = cluster.end_offsets(cluster.topics(namespace, raw=True))
        total = sum(ends.values())
        now = time.monotonic()
        if total != last_total:
            last_total, last_change = total, now
        try:
            count, assigned = cluster.assigned(group)
        except Exception:  # the group is between generations
            count, assigned = 0, []
        if count >= members and assigned and now - last_change >= quiet:
            committed = cluster.committed(group)
            if all(committed.get(tp, 0) >= ends.get(tp, 0) for tp in assigned):
                return
        if now > deadline:
            raise TimeoutError(
                f"{namespace}: not settled within {timeout:.0f} s; "
                + _lagging(cluster, group, ends, count, assigned)
            )
        time.sleep(0.2 if now - began < 5.0 else 0.5)


def _lagging(
    cluster: Cluster, group: str, ends: dict[TP, int], members: int, assigned: list[TP]
) -> str:
    """What keeps a group from settling (for the error message)."""
    if not members:
        return f"group {group} is not stable"
    committed = cluster.committed(group)
    behind = [
        f"{topic}/{partition} {committed.get((topic, partition), 0)}<{ends.get((topic, partition), 0)}"
        for topic, partition in assigned
        if committed.get((topic, partition), 0) < ends.get((topic, partition), 0)
    ]
    return "behind: " + (", ".join(behind[:12]) if behind else "none (topics still growing)")


class WarmUpFailed(RuntimeError):
    """The candidate dead-lettered valid warm-up events: it is broken, not slow."""


def warm_up(
    cluster: Cluster,
    children: Sequence[Child],
    *,
    group: str,
    namespace: str,
    warmup: Sequence[RawEvent],
    members: int = 1,
    timeout: float = 240.0,
) -> None:
    """Drain the warm-up set and check that nothing valid was dead-lettered.

    On a busy machine a worker that starts while the broker still creates topics can see a
    changelog's partitions wrongly (Faust's PartitionsMismatch) and then dead-letters every
    event whose stage writes a table, or subscribe without a topic and never drain it; such
    a worker is not measured.
    """
    if warmup:
        cluster.produce(namespace, warmup)
    try:
        settle(cluster, group, namespace, members=members, timeout=timeout, watch=children)
    except TimeoutError as exc:
        raise WarmUpFailed(f"warm-up not drained: {exc}") from exc
    expected = sum(1 for event in warmup if event.kind == "invalid")
    dead = sum(cluster.end_offsets([f"{namespace}.dlq"]).values())
    if dead > expected:
        raise WarmUpFailed(
            f"{namespace}: {dead} dead letters from a warm-up with {expected} invalid events"
        )


def drain(
    cluster: Cluster,
    rung: str,
    children: Sequence[Child],
    *,
    group: str,
    namespace: str,
    corpus: Sequence[RawEvent],
    warmup: Sequence[RawEvent],
    members: int = 1,
    timeout: float = 900.0,
    expect_dead_letters: int | None = None,
) -> Drain:
    """Warm up, pause, publish `corpus`, resume, and wait until it is drained (module doc)."""
    warm_up(
        cluster,
        children,
        group=group,
        namespace=namespace,
        warmup=warmup,
        members=members,
        timeout=timeout,
    )
    for child in children:
        child.signal(signal.SIGSTOP)
    try:
        starts: dict[TP, int] = cluster.end_offsets(cluster.topics(namespace))
        load_seconds = cluster.produce(namespace, corpus)
        sampler = Sampler(
            {
                "candidate": [child.pid for child in children],
                "broker": [cluster.broker_pid],
                "bench": [_self_pid()],
            }
        )
        sampler.sample()
        started = time.time()
    finally:
        for child in children:
            child.signal(signal.SIGCONT)
    sampler.start()
    try:
        settle(cluster, group, namespace, members=members, timeout=timeout, watch=children)
    finally:
        sampler.stop()
    for tp in cluster.end_offsets(cluster.topics(namespace)):
        starts.setdefault(tp, 0)  # a topic created during the run counts from its start
    appended = appended_since(cluster.log_dir, starts)
    dlq = {tp: offset for tp, offset in starts.items() if tp[0] == f"{namespace}.dlq"}
    dead_letters = appended_since(cluster.log_dir, dlq).records
    if appended.last_timestamp_ms is None:
        raise RuntimeError(f"{rung}: nothing was written")
    ended = appended.last_timestamp_ms / 1000.0
    # The first sample was taken while the candidate was paused: its CPU at t0 exactly.
    cpu0, cpu1 = sampler.values[0], sampler.at(ended)
    if expect_dead_letters is not None and dead_letters != expect_dead_letters:
        raise RuntimeError(
            f"{rung}: {dead_letters} dead letters, the corpus has {expect_dead_letters} invalid "
            "events: the candidate refused valid events (see its log)"
        )
    return Drain(
        rung=rung,
        events=len(corpus),
        seconds=ended - started,
        cpu={name: cpu1[name] - cpu0.get(name, 0.0) for name in cpu1},
        records=appended.records,
        batches=appended.batches,
        dead_letters=dead_letters,
        load_seconds=load_seconds,
        by_topic={_short(topic, namespace): n for topic, n in appended.by_topic.items()},
    )


def _short(topic: str, namespace: str) -> str:
    """The topic's name without the run's namespace (`valid.events`, `cases-changelog`)."""
    return topic[len(namespace) + 1 :] if topic.startswith(namespace) else topic


def _self_pid() -> int:
    import os

    return os.getpid()
