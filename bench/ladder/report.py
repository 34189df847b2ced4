"""What the ladder prints and saves: per-rung figures, per-pair ratios, JSON and PNG plots."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.ladder.candidates import RUNGS, label
from bench.ladder.drain import Drain
from bench.ladder.stats import pair_ratios

#: (candidate, baseline, what the ratio says, goal) — rate ratios candidate / baseline.
RATIOS: tuple[tuple[str, str, str, str], ...] = (
    ("L2", "L1", "decode + validation + dead letters", ""),
    ("L3", "L2", "plain snownlp on the texts", ""),
    ("L3p", "L2", "kesu's scorer on the texts", ""),
    ("L3p", "L3", "kesu's scorer vs plain snownlp, in a pipeline", ""),
    ("L4", "L2", "framework overhead (worker, no scoring)", "≥ 0.5"),
    ("L5", "L3p", "full pipeline", "≥ 0.5 (issue 17), 0.8 stretch"),
    ("L5", "L4", "scoring inside the worker", ""),
    ("L5", "L1", "full pipeline vs raw passthrough", ""),
)


def rung_rows(reps: Sequence[dict[str, Drain]]) -> list[dict[str, Any]]:
    rows = []
    for rung in RUNGS:
        runs = [rep[rung] for rep in reps if rung in rep]
        if not runs:
            continue
        rows.append(
            {
                "rung": label(rung),
                "what": RUNGS[rung],
                "events_per_s": round(statistics.median(r.rate for r in runs), 1),
                "events_per_s_runs": [round(r.rate, 1) for r in runs],
                "cpu_ms_per_event": round(statistics.median(r.cpu_ms_per_event() for r in runs), 4),
                "broker_cpu_ms_per_event": round(
                    statistics.median(r.cpu_ms_per_event("broker") for r in runs), 4
                ),
                "records_per_event": round(
                    statistics.median(r.records / r.events for r in runs), 3
                ),
                "records_per_batch": round(
                    statistics.median(r.records / r.batches for r in runs if r.batches), 3
                ),
                "runs": [r.as_dict() for r in runs],
            }
        )
    return rows


def ratio_rows(reps: Sequence[dict[str, Drain]]) -> list[dict[str, Any]]:
    rows = []
    for candidate, baseline, what, goal in RATIOS:
        pairs = [
            (rep[candidate], rep[baseline]) for rep in reps if candidate in rep and baseline in rep
        ]
        if not pairs:
            continue
        rate = pair_ratios([c.rate for c, _ in pairs], [b.rate for _, b in pairs])
        cpu = pair_ratios(
            [c.cpu_ms_per_event() for c, _ in pairs], [b.cpu_ms_per_event() for _, b in pairs]
        )
        rows.append(
            {
                "ratio": f"{label(candidate)}/{label(baseline)}",
                "what": what,
                "goal": goal,
                "baseline_events_per_s": round(statistics.median(b.rate for _, b in pairs), 1),
                "candidate_events_per_s": round(statistics.median(c.rate for c, _ in pairs), 1),
                "rate_ratio": rate.as_dict(),
                "baseline_cpu_ms_per_event": round(
                    statistics.median(b.cpu_ms_per_event() for _, b in pairs), 4
                ),
                "candidate_cpu_ms_per_event": round(
                    statistics.median(c.cpu_ms_per_event() for c, _ in pairs), 4
                ),
                "cpu_per_event_ratio": cpu.as_dict(),
            }
        )
    return rows


def print_ladder(rungs: list[dict[str, Any]], ratios: list[dict[str, Any]], pairs: int) -> None:
    print()
    print(f"Cost ladder — medians of {pairs} run(s) per rung; CPU from /proc (utime+stime)")
    print(
        f"{'rung':5} {'events/s':>10} {'CPU ms/event':>13} {'broker ms/ev':>13} "
        f"{'records/ev':>11} {'rec/batch':>10}  what runs"
    )
    for row in rungs:
        print(
            f"{row['rung']:5} {row['events_per_s']:>10,.1f} {row['cpu_ms_per_event']:>13.3f} "
            f"{row['broker_cpu_ms_per_event']:>13.3f} {row['records_per_event']:>11.2f} "
            f"{row['records_per_batch']:>10.2f}  {row['what']}"
        )
    print()
    print(
        "ratio = candidate / baseline events/s, median of per-pair ratios [min–max]; CPU per event baseline → candidate"
    )
    for row in ratios:
        r, c = row["rate_ratio"], row["cpu_per_event_ratio"]
        goal = f"  goal {row['goal']}" if row["goal"] else ""
        print(
            f"{row['ratio']:7} baseline {row['baseline_events_per_s']:>9,.1f}  candidate "
            f"{row['candidate_events_per_s']:>9,.1f}  ratio {r['median']:.3f} [{r['min']:.3f}–{r['max']:.3f}]"
            f"  CPU/event {row['baseline_cpu_ms_per_event']:.3f} → {row['candidate_cpu_ms_per_event']:.3f} ms"
            f" (×{c['median']:.2f})  {row['what']}{goal}"
        )


def plot(result: dict[str, Any], latencies: dict[str, list[float]], path: Path) -> list[Path]:
    """PNG plots next to the JSON; returns the files written (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    rungs = result.get("ladder", {}).get("rungs", [])
    if rungs:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
        names = [row["rung"] for row in rungs]
        top.bar(names, [row["events_per_s"] for row in rungs], color="#4c72b0")
        top.set_yscale("log")
        top.set_ylabel("events/s (median, log)")
        top.set_title("kesu pipeline cost ladder")
        places = range(len(names))
        bottom.bar(
            [x - 0.2 for x in places],
            [row["cpu_ms_per_event"] for row in rungs],
            width=0.4,
            color="#dd8452",
            label="rung's process(es)",
        )
        bottom.bar(
            [x + 0.2 for x in places],
            [row["broker_cpu_ms_per_event"] for row in rungs],
            width=0.4,
            color="#8c8c8c",
            label="broker",
        )
        bottom.set_xticks(list(places), names)
        bottom.set_yscale("log")
        bottom.set_ylabel("CPU ms per event")
        bottom.legend()
        fig.tight_layout()
        written.append(path.with_name(path.stem + "-ladder.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    if any(latencies.values()):
        rows = result["latency"].get("timeline") or []
        if rows:
            fig, (axis, over_time) = plt.subplots(2, 1, figsize=(8, 8))
            _plot_timeline(over_time, rows)
        else:
            fig, axis = plt.subplots(figsize=(8, 4.5))
        for name, values in latencies.items():
            if values:
                ordered = sorted(values)
                axis.plot(
                    ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], label=name
                )
        axis.set_xscale("log")
        axis.set_xlabel("latency from scheduled publish, ms (log)")
        axis.set_ylabel("share of events")
        share = result["latency"]["share_of_max"]
        basis = "a fixed rate" if share is None else f"{share:.0%} of the in-run L5 maximum"
        axis.set_title(
            f"open-loop latency at {result['latency']['rate_events_per_s']} events/s ({basis})"
        )
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
        fig.tight_layout()
        written.append(path.with_name(path.stem + "-latency.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    scaling = result.get("scaling")
    if scaling and scaling.get("runs"):
        fig, axis = plt.subplots(figsize=(6, 4.5))
        counts = [run["workers"] for run in scaling["runs"]]
        rates = [run["events_per_s"] for run in scaling["runs"]]
        axis.plot(counts, rates, "o-", label="measured")
        axis.plot(
            counts,
            [rates[0] * min(c, scaling["ceiling"]) for c in counts],
            "--",
            label="in-run ceiling",
        )
        axis.set_xlabel("worker processes")
        axis.set_ylabel("events/s")
        axis.set_title(f"scale-out on {scaling['partitions']} partitions")
        axis.legend()
        fig.tight_layout()
        written.append(path.with_name(path.stem + "-scaling.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    memory = result.get("memory")
    if memory and memory.get("dimensions"):
        fig, axis = plt.subplots(figsize=(6, 4.5))
        for dimension, rows in memory["dimensions"].items():
            xs = [0] + [row["count"] for row in rows]
            ys = [memory["empty_rss_mb"]] + [row["rss_mb"] for row in rows]
            axis.plot(xs, ys, "o-", label=dimension)
        axis.set_xlabel("entries held by the worker")
        axis.set_ylabel("worker RSS, MB")
        axis.set_title("worker memory")
        axis.legend()
        fig.tight_layout()
        written.append(path.with_name(path.stem + "-memory.png"))
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def _plot_timeline(axis: Any, rows: list[dict[str, Any]]) -> None:
    """Latency p50 per second of the run (log) and the worker's CPU share on a second axis."""
    seconds = [row["second"] for row in rows]
    for measure in ("assessment", "lifecycle"):
        axis.plot(
            seconds,
            [row.get(f"{measure}_p50_ms") for row in rows],
            label=f"publish to {measure}, p50 of the second",
        )
    axis.set_yscale("log")
    axis.set_xlabel("second of the run (when the event was due)")
    axis.set_ylabel("latency, ms (log)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(loc="upper left")
    cpu = axis.twinx()
    cpu.plot(
        seconds,
        [row.get("worker_cpu_share") for row in rows],
        color="#8c8c8c",
        linewidth=0.8,
        label="worker CPU share",
    )
    cpu.set_ylabel("worker CPU (1 = one core)")
    cpu.set_ylim(0, 2)
    cpu.legend(loc="upper right")
