"""Scale-out: 1, 2, 4 … `kesu worker` processes in one group draining one backlog.

Each count gets a fresh namespace whose pipeline topics have `partitions` partitions (more
than workers, so the load divides; the workers run with KESU_PIPELINE_PARTITIONS at that
count), its workers start together, drain the warm-up set until the group is stable with
every member, and then drain the corpus as in drain.py (all workers paused while it loads).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.ladder import candidates
from bench.ladder.cluster import Cluster, fresh_namespace
from bench.ladder.corpus import Corpus
from bench.ladder.drain import Drain, WarmUpFailed, drain


def measure_scaling(
    cluster: Cluster,
    corpus: Corpus,
    warmup: Corpus,
    *,
    counts: Sequence[int],
    partitions: int,
    logs: Path,
    work: Path,
    progress: Callable[[str], None],
) -> list[Drain]:
    results = []
    invalid = corpus.stats["by_kind"].get("invalid", 0)
    for count in counts:
        for attempt in range(3):
            namespace = fresh_namespace(f"s{count}")
            cluster.create_namespace(namespace, partitions)
            candidate = candidates.workers(
                cluster,
                f"L5×{count}",
                namespace,
                logs,
                work / namespace,
                count=count,
                partitions=partitions,
            )
            try:
                candidate.start()
                result = drain(
                    cluster,
                    f"L5×{count}",
                    candidate.children,
                    group=candidate.group,
                    namespace=namespace,
                    corpus=corpus.events,
                    warmup=warmup.events,
                    members=count,
                    expect_dead_letters=invalid,
                )
                break
            except WarmUpFailed as exc:
                progress(f"  {count} worker(s): warm-up failed ({exc}); starting again")
                if attempt == 2:
                    raise
            finally:
                candidate.stop()
                cluster.delete_namespace(namespace)
                shutil.rmtree(work / namespace, ignore_errors=True)
        results.append(result)
        progress(
            f"  {count} worker(s) on {partitions} partitions: {result.rate:8.1f} events/s, "
            f"{result.cpu_ms_per_event():.3f} ms CPU/event (all workers)"
        )
    return results
