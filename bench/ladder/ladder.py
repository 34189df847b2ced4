"""The cost ladder: every rung drains the same corpus, repetition after repetition.

Per repetition, all rungs start together (each in its own fresh namespace and consumer group)
and drain the warm-up set; then each is measured in turn (drain.py) while the others idle
(an idle worker uses about 0.6 % of a core, an idle passthrough 0.25 %: measured here). They
are not paused while they wait: a Faust worker paused longer than its session timeout rejoins
its group on resume, and in trials here that rejoin lost a few events. The order
alternates between repetitions (L1 → L5, then L5 → L1, …) to cancel drift; each ratio is
taken between two rungs of the same repetition, so every repetition gives one pair.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.ladder import candidates
from bench.ladder.candidates import PASSTHROUGH, Candidate
from bench.ladder.cluster import Cluster, fresh_namespace
from bench.ladder.corpus import Corpus, RawEvent
from bench.ladder.drain import Drain, WarmUpFailed, drain, warm_up

Progress = Callable[[str], None]


@dataclass
class Rung:
    rung: str
    namespace: str
    candidate: Candidate


def _build(cluster: Cluster, rung: str, logs: Path, work: Path, scores: Path | None) -> Rung:
    namespace = fresh_namespace(f"l{rung[1:].lower()}")
    cluster.create_namespace(namespace)
    if rung in PASSTHROUGH:
        candidate = candidates.passthrough(cluster, rung, namespace, logs)
    else:
        candidate = candidates.workers(
            cluster,
            rung,
            namespace,
            logs,
            work / namespace,
            bench_scores=scores if rung == "L4" else None,
        )
    return Rung(rung, namespace, candidate)


def prepare(
    cluster: Cluster,
    rungs: Sequence[str],
    warmup: Sequence[RawEvent],
    *,
    logs: Path,
    work: Path,
    scores: Path | None,
    progress: Progress,
) -> list[Rung]:
    """Start every rung at once and warm each up; they idle until measured. A rung whose
    warm-up fails (drain.warm_up) is started again in a fresh namespace, twice at most."""
    built = [_build(cluster, rung, logs, work, scores) for rung in rungs]
    started = time.monotonic()
    try:
        for item in built:
            for child in item.candidate.children:
                child.start()
        for item in built:
            for child in item.candidate.children:
                child.wait_for(item.candidate.ready_text, 300)
        for index, item in enumerate(built):
            for attempt in range(3):
                try:
                    warm_up(
                        cluster,
                        item.candidate.children,
                        group=item.candidate.group,
                        namespace=item.namespace,
                        warmup=warmup,
                        members=len(item.candidate.children),
                    )
                    break
                except WarmUpFailed as exc:
                    progress(
                        f"  {candidates.label(item.rung)}: warm-up failed ({exc}); starting it again"
                    )
                    RESTARTS.append(f"{item.rung}: {exc}")
                    discard(cluster, item, work)
                    if attempt == 2:
                        raise
                    item = built[index] = _build(cluster, item.rung, logs, work, scores)
                    item.candidate.start()
    except BaseException:
        for item in built:
            discard(cluster, item, work)
        raise
    progress(f"  started and warmed {', '.join(rungs)} in {time.monotonic() - started:.1f} s")
    return built


#: Warm-up failures met in this process (the report lists them).
RESTARTS: list[str] = []


def discard(cluster: Cluster, item: Rung, work: Path) -> None:
    item.candidate.stop()
    cluster.delete_namespace(item.namespace)
    shutil.rmtree(work / item.namespace, ignore_errors=True)


def measure(
    cluster: Cluster, item: Rung, corpus: Corpus, *, work: Path, keep: bool = False
) -> Drain:
    """Drain the corpus with a prepared rung; stop it afterwards unless `keep`."""
    invalid = corpus.stats["by_kind"].get("invalid", 0)
    try:
        return drain(
            cluster,
            item.rung,
            item.candidate.children,
            group=item.candidate.group,
            namespace=item.namespace,
            corpus=corpus.events,
            warmup=(),
            members=len(item.candidate.children),
            expect_dead_letters=None if item.rung == "L1" else invalid,
        )
    finally:
        if not keep:
            discard(cluster, item, work)


def run_ladder(
    cluster: Cluster,
    corpus: Corpus,
    warmup: Corpus,
    *,
    rungs: Sequence[str],
    repetitions: int,
    logs: Path,
    work: Path,
    scores: Path | None,
    progress: Progress,
) -> list[dict[str, Drain]]:
    """Every rung drains the corpus once per repetition; returns {rung: Drain} per repetition."""
    results: list[dict[str, Drain]] = []
    for repetition in range(repetitions):
        order = list(rungs) if repetition % 2 == 0 else list(reversed(rungs))
        progress(f"repetition {repetition + 1}/{repetitions}: {' → '.join(order)}")
        parked = prepare(
            cluster, order, warmup.events, logs=logs, work=work, scores=scores, progress=progress
        )
        done: dict[str, Drain] = {}
        try:
            for item in parked:
                result = measure(cluster, item, corpus, work=work)
                done[item.rung] = result
                progress(
                    f"  {candidates.label(item.rung):4} {result.rate:10.1f} events/s  "
                    f"{result.cpu_ms_per_event():7.3f} ms CPU/event "
                    f"(broker {result.cpu_ms_per_event('broker'):.3f})  "
                    f"{result.records / result.events:.2f} records/event"
                )
        finally:
            for item in parked:
                if item.rung not in done:
                    discard(cluster, item, work)
        results.append(done)
    return results
