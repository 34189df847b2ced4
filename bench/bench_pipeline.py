"""Pipeline cost ladder: what one event costs at each rung from raw Kafka to the full worker.

One broker, started here on a free loopback port (kesu.broker.LocalKafka, as the tests do);
one deterministic corpus from the sample-feed generator (bench/ladder/corpus.py: ~40 % text,
retries, hostile records), published to the raw topics before any timing. Every rung drains
the same corpus in a fresh namespace and consumer group (bench/ladder/drain.py says exactly
what "drained" means and how CPU is read from /proc):

  L0   Kafka's own ProducerPerformance / ConsumerPerformance (context only; full mode)
  L1   raw aiokafka passthrough            L2  L1 + kesu's validation and dead letters
  L3   L2 + plain SnowNLP(text).sentiments  L3′ L2 + kesu's scorer (assess_contact)
  L4   the real `kesu worker`, scoring replaced by a lookup (KESU_BENCH_SCORES, bench only)
  L5   the real `kesu worker`, full pipeline

Repetitions run every rung once each, in alternating order; ratios are taken within a
repetition (one pair each) and printed as the median of the pairs with their range. Also
measured in the same run: the machine's 1 → 2 process ceiling, open-loop latency at 50 % of
the L5 maximum, scale-out to 1/2/4 workers on 8 partitions, and worker memory per 100k open
clocks, tracked orders and customers.

    .venv/bin/python bench/bench_pipeline.py            # full: 50,000 events, 3 repetitions, all parts
    .venv/bin/python bench/bench_pipeline.py --quick    # 2,000 events, 1 repetition, ladder + latency
    .venv/bin/python bench/bench_pipeline.py --quick --parts scaling,memory   # any part alone

Writes bench/results/pipeline[-quick].json and PNG plots beside it; worker logs go to
bench/results/logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ladder import candidates  # noqa: E402
from bench.ladder.ceiling import Ceiling  # noqa: E402
from bench.ladder.cluster import Cluster, fresh_namespace  # noqa: E402
from bench.ladder.corpus import Corpus, build_corpus  # noqa: E402
from bench.ladder.drain import WarmUpFailed, warm_up  # noqa: E402
from bench.ladder.l0 import measure_l0  # noqa: E402
from bench.ladder.ladder import RESTARTS, run_ladder  # noqa: E402
from bench.ladder.latency import episodes, measure_latency  # noqa: E402
from bench.ladder.memory import measure_memory  # noqa: E402
from bench.ladder.report import plot, print_ladder, ratio_rows, rung_rows  # noqa: E402
from bench.ladder.scaling import measure_scaling  # noqa: E402
from bench.ladder.scores import write_scores  # noqa: E402
from kesu.broker import LocalKafka  # noqa: E402

PARTS = ("l0", "ladder", "latency", "scaling", "memory")
RUNG_ORDER = ("L1", "L2", "L3", "L3p", "L4", "L5")


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small run (about 2 minutes)")
    parser.add_argument("--parts", help=f"comma-separated subset of {', '.join(PARTS)}")
    parser.add_argument("--events", type=int, help="corpus size (full 50,000; quick 2,000)")
    parser.add_argument("--repetitions", type=int, help="pairs per ratio (full 3; quick 1)")
    parser.add_argument("--rungs", default=",".join(RUNG_ORDER), help="ladder rungs to run")
    parser.add_argument(
        "--latency-seconds", type=float, help="open-loop window (full 60; quick 10)"
    )
    parser.add_argument("--latency-share", type=float, default=0.5, help="share of the L5 maximum")
    parser.add_argument(
        "--latency-rate",
        type=float,
        help="a fixed open-loop rate in events/s instead of a share of the L5 maximum (to compare "
        "two versions or settings at the same load; the ladder is then not needed)",
    )
    parser.add_argument("--scaling-events", type=int, help="backlog (full 10,000; quick 2,000)")
    parser.add_argument("--workers", default=None, help="worker counts (full 1,2,4; quick 1,2)")
    parser.add_argument("--partitions", type=int, default=8, help="pipeline partitions for scaling")
    parser.add_argument("--memory-sizes", default=None, help="entries (full 100000,200000)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    quick = args.quick
    args.parts = set((args.parts or ("ladder,latency" if quick else ",".join(PARTS))).split(","))
    unknown = args.parts - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    args.events = args.events or (2_000 if quick else 50_000)
    args.repetitions = args.repetitions or (1 if quick else 3)
    args.latency_seconds = args.latency_seconds or (10.0 if quick else 60.0)
    args.scaling_events = args.scaling_events or (2_000 if quick else 10_000)
    args.workers = tuple(int(n) for n in (args.workers or ("1,2" if quick else "1,2,4")).split(","))
    sizes = args.memory_sizes or ("100000" if quick else "100000,200000")
    args.memory_sizes = tuple(int(n) for n in sizes.split(","))
    args.memory_dimensions = ("clocks",) if quick else ("clocks", "orders", "customers")
    args.rungs = tuple(r for r in RUNG_ORDER if r in args.rungs.replace("′", "p").split(","))
    return args


def _say(text: str) -> None:
    print(text, flush=True)


def _latency(
    cluster: Cluster,
    warmup: Corpus,
    rate: float,
    args: argparse.Namespace,
    now: datetime,
    logs: Path,
    work: Path,
    scratch: Path,
) -> dict[str, Any]:
    """A fresh, warmed-up worker with the shipped timer intervals, under open-loop load."""
    for attempt in range(3):
        namespace = fresh_namespace("lat")
        cluster.create_namespace(namespace)
        worker = candidates.workers(
            cluster, "L5", namespace, logs, work / namespace, quiet_timers=False
        )
        try:
            worker.start()
            warm_up(
                cluster,
                worker.children,
                group=worker.group,
                namespace=namespace,
                warmup=warmup.events,
            )
            return measure_latency(
                cluster,
                worker,
                namespace,
                rate=rate,
                seconds=args.latency_seconds,
                seed=args.seed,
                now_iso=now.isoformat(),
                work=scratch,
                logs=logs,
            )
        except WarmUpFailed as exc:
            _say(f"  warm-up failed ({exc}); starting the worker again")
            if attempt == 2:
                raise
        finally:
            worker.stop()
            cluster.delete_namespace(namespace)
    raise AssertionError("unreachable")


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)  # clean up (workers, broker) as for Ctrl-C
    args = _options()
    began = time.monotonic()
    now = datetime.now(UTC)
    args.out.mkdir(parents=True, exist_ok=True)
    logs = args.out / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    scratch = Path(tempfile.mkdtemp(prefix="kesu-ladder-"))
    work = scratch / "work"
    name = "pipeline-quick" if args.quick else "pipeline"
    result: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "mode": "quick" if args.quick else "full",
        "started_at": now.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        },
        "seed": args.seed,
    }
    latencies: dict[str, list[float]] = {}

    # The corpus is built (and L4's assessments precomputed) while the broker starts and the
    # ceiling's processes load snownlp. The broker is started from this thread: its JVM gets
    # a parent-death signal, which Linux ties to the thread that started it.
    prepared: dict[str, Any] = {}

    def build() -> None:
        try:
            prepared["corpus"] = build_corpus(args.events, seed=args.seed, now=now)
            prepared["warmup"] = build_corpus(100, seed=args.seed, now=now, tag="w")
            if "ladder" in args.parts and "L4" in args.rungs:
                prepared["scores"] = scratch / "bench-scores.jsonl"
                prepared["scored"] = write_scores(
                    [prepared["corpus"], prepared["warmup"]], prepared["scores"]
                )
        except BaseException as exc:  # re-raised below
            prepared["error"] = exc

    building = threading.Thread(target=build, daemon=True)
    building.start()
    ceiling = Ceiling()
    broker = LocalKafka(scratch / "kafka", progress=lambda line: None)
    cluster: Cluster | None = None
    try:
        address = broker.start()
        building.join()
        if "error" in prepared:
            raise prepared["error"]
        corpus, warmup = prepared["corpus"], prepared["warmup"]
        scores = prepared.get("scores")
        result["corpus"] = corpus.stats
        _say(
            f"corpus: {corpus.stats['events']:,} events {corpus.stats['by_source']}, "
            f"text share {corpus.stats['text_share']:.0%}, mean text {corpus.stats['text_chars_mean']:.0f} "
            f"chars, {corpus.stats['distinct_text_share']:.0%} of texts distinct, "
            f"{corpus.stats['by_kind'].get('duplicate', 0)} retries, {corpus.stats['by_kind'].get('invalid', 0)} invalid"
        )
        if scores is not None:
            _say(f"precomputed {prepared['scored']:,} assessments for L4 (KESU_BENCH_SCORES)")
        cluster = Cluster(address.bootstrap, scratch / "kafka" / "log", address.pid)
        cluster.prime()
        _say(f"broker: Kafka {address.kafka_version} on {address.bootstrap} (pid {address.pid})")

        result["ceiling"] = [{"when": "start", **ceiling.measure()}]
        _say(
            "machine ceiling, 1 → 2 processes of plain snownlp: "
            f"{result['ceiling'][0]['one_process_texts_per_s']} → "
            f"{result['ceiling'][0]['two_processes_texts_per_s']} texts/s = ×{result['ceiling'][0]['ceiling']}"
        )

        if "l0" in args.parts:
            _say("L0: Kafka's ProducerPerformance / ConsumerPerformance on the same broker")
            result["l0"] = measure_l0(cluster, args.events, int(corpus.stats["bytes_mean"]))
            _say(f"  {result['l0']}")

        l5_rate = None
        if "ladder" in args.parts:
            reps = run_ladder(
                cluster,
                corpus,
                warmup,
                rungs=args.rungs,
                repetitions=args.repetitions,
                logs=logs,
                work=work,
                scores=scores,
                progress=_say,
            )
            rungs, ratios = rung_rows(reps), ratio_rows(reps)
            result["ladder"] = {"repetitions": args.repetitions, "rungs": rungs, "ratios": ratios}
            print_ladder(rungs, ratios, args.repetitions)
            l5 = [rep["L5"].rate for rep in reps if "L5" in rep]
            l5_rate = statistics.median(l5) if l5 else None

        if "latency" in args.parts:
            if args.latency_rate is not None:
                rate, share = args.latency_rate, None
                basis = "a fixed rate"
            elif l5_rate is None:
                raise SystemExit(
                    "latency needs the L5 maximum of the same run: include the ladder, "
                    "or give --latency-rate"
                )
            else:
                rate, share = args.latency_share * l5_rate, args.latency_share
                basis = f"{share:.0%} of L5's {l5_rate:.1f}"
            _say(
                f"\nlatency: open loop at {rate:.1f} events/s ({basis}) for {args.latency_seconds:.0f} s"
            )
            latency = _latency(cluster, warmup, rate, args, now, logs, work, scratch)
            latency["share_of_max"] = share
            latencies = latency.pop("samples_ms")
            result["latency"] = latency
            for what in ("publish_to_lifecycle", "publish_to_assessment"):
                s = latency[what]
                if s.get("count"):
                    _say(
                        f"  {what.replace('_', ' ')}: p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, "
                        f"p99 {s['p99_ms']:.0f} ms, max {s['max_ms']:.0f} ms ({s['count']} events)"
                    )
            _say(
                f"  CPU per event: {latency['cpu_ms_per_event']}; generator lateness p99 "
                f"{latency['generator_send_lateness_p99_ms']} ms"
            )
            latency["episodes"] = episodes(latency["timeline"])
            for episode in latency["episodes"]:
                _say(
                    f"  episode: seconds {episode['first_second']}–{episode['last_second']}, "
                    f"assessment p50 up to {episode['peak_p50_ms']:,.0f} ms, worker CPU share "
                    f"{episode['worker_cpu_share']} (1 = one core busy)"
                )

        if "scaling" in args.parts:
            if "ladder" in args.parts or "latency" in args.parts:  # the load may have changed
                result["ceiling"].append({"when": "before scaling", **ceiling.measure()})
                _say(
                    f"\nmachine ceiling again, before scaling: ×{result['ceiling'][-1]['ceiling']}"
                )
            _say(f"\nscaling: {args.scaling_events:,}-event backlog, {args.partitions} partitions")
            backlog = (
                corpus
                if args.scaling_events == args.events
                else build_corpus(args.scaling_events, seed=args.seed, now=now, tag="s")
            )
            runs = measure_scaling(
                cluster,
                backlog,
                warmup,
                counts=args.workers,
                partitions=args.partitions,
                logs=logs,
                work=work,
                progress=_say,
            )
            ceiling_now = result["ceiling"][-1]["ceiling"]
            base = runs[0].rate
            result["scaling"] = {
                "partitions": args.partitions,
                "events": args.scaling_events,
                "ceiling": ceiling_now,
                "runs": [
                    {
                        "workers": n,
                        "events_per_s": round(run.rate, 1),
                        "speedup": round(run.rate / base, 3),
                        "share_of_ceiling": round(run.rate / base / ceiling_now, 3),
                        **run.as_dict(),
                    }
                    for n, run in zip(args.workers, runs, strict=True)
                ],
            }
            for row in result["scaling"]["runs"][1:]:
                _say(
                    f"  {row['workers']} vs 1 worker: ×{row['speedup']:.2f} = {row['share_of_ceiling']:.2f} "
                    f"of the in-run ceiling ×{ceiling_now} (goal for 2: ≥ 0.85)"
                )

        if "memory" in args.parts:
            _say(
                f"\nmemory: worker RSS holding {', '.join(f'{n:,}' for n in args.memory_sizes)} of {', '.join(args.memory_dimensions)}"
            )
            result["memory"] = measure_memory(
                cluster,
                warmup.events,
                sizes=args.memory_sizes,
                dimensions=args.memory_dimensions,
                logs=logs,
                work=work,
                idle=3.0,
                progress=_say,
            )

        if not args.quick:
            result["ceiling"].append({"when": "end", **ceiling.measure()})
            _say(f"\nmachine ceiling again at the end: ×{result['ceiling'][-1]['ceiling']}")
    finally:
        ceiling.close()
        if cluster is not None:
            cluster.close()
        building.join()
        broker.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    result["warm_up_restarts"] = RESTARTS
    result["seconds"] = round(time.monotonic() - began, 1)
    result["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    path = args.out / f"{name}.json"
    plots = plot(result, latencies, path)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _say(
        f"\nwrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}"
        + "".join(f", {p.name}" for p in plots)
        + f" — {result['seconds']:.0f} s in all"
    )


if __name__ == "__main__":
    main()
