"""Scoring micro-benchmark: complaints.polarity (C kernel and pure Python) vs plain snownlp.

Same process, same texts: a seeded sample of /work/shared/eval plus long texts of 50, 200, 1000
and 3000 characters. Identity (==) with ``SnowNLP(t).sentiments`` is asserted on every text
before anything is timed. Then, per pair, every group of texts is timed as baseline, C, Python
in turn (interleaved, so drift hits all three alike), and each line prints the texts/s, the CPU
ms per text (time.process_time) and the median of the per-pair ratios with their min-max.
Model load times are measured apart and never enter the timings.

    .venv/bin/python bench/bench_polarity.py           # 3 pairs, larger sample
    .venv/bin/python bench/bench_polarity.py --quick   # 1 pair, smaller sample (< 1 min)
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = REPO / ".." / "shared" / "eval"
EVAL_FILES = (
    "waimai_10k.csv",
    "online_shopping_10_cats.csv",
    "smp2020_ewect_usual_eval_labeled.json",
    "smp2020_ewect_usual_test_labeled.json",
)
LENGTHS = (50, 200, 1000, 3000)
SEED = 20240601
#: A candidate group is repeated until it has run this long, so fast paths are measurable.
MIN_CANDIDATE_SECONDS = 0.2

Scorer = Callable[[str], float]


@dataclass
class Group:
    """Texts timed together and reported on one line."""

    name: str
    texts: list[str]
    # per path: one (wall seconds per text, cpu seconds per text) per pair
    runs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def chars(self) -> float:
        return statistics.mean(len(t) for t in self.texts)


def read_eval(name: str) -> list[str]:
    path = EVAL_DIR / name
    if name.endswith(".csv"):
        with path.open(encoding="utf-8", newline="") as f:
            return [row["review"] for row in csv.DictReader(f)]
    return [item["content"] for item in json.loads(path.read_text(encoding="utf-8"))]


def build_groups(quick: bool) -> list[Group]:
    rng = random.Random(SEED)
    per_file = 50 if quick else 100
    pool: list[str] = []
    sample: list[str] = []
    for name in EVAL_FILES:
        texts = [t for t in read_eval(name) if t.strip()]  # SnowNLP("") raises
        sample += rng.sample(texts, per_file)
        pool += rng.sample(texts, 400)
    counts = {50: 10, 200: 5, 1000: 2, 3000: 1} if quick else {50: 20, 200: 10, 1000: 4, 3000: 2}
    groups = [Group(f"eval sample ({len(EVAL_FILES)}x{per_file})", sample)]
    for length in LENGTHS:
        texts = []
        for _ in range(counts[length]):
            text = ""
            while len(text) < length:  # whole reviews joined, cut to the exact length
                text += rng.choice(pool)
            texts.append(text[:length])
        groups.append(Group(f"{length} chars", texts))
    return groups


def time_once(score: Scorer, texts: list[str], min_seconds: float) -> tuple[float, float]:
    """Seconds per text (wall, cpu), repeating the whole list until min_seconds have passed."""
    loops = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for t in texts:
            score(t)
        loops += 1
        wall = time.perf_counter() - wall0
        if wall >= min_seconds:
            break
    cpu = time.process_time() - cpu0
    n = loops * len(texts)
    return wall / n, cpu / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 pair and fewer texts")
    args = parser.parse_args()
    pairs = 1 if args.quick else 3

    if not EVAL_DIR.is_dir():
        print(f"evaluation data not found at {EVAL_DIR.resolve()}", file=sys.stderr)
        return 2
    groups = build_groups(args.quick)

    t0 = time.perf_counter()
    from snownlp import SnowNLP  # loads all of snownlp's models

    load_snow = time.perf_counter() - t0

    from complaints.polarity import KERNEL, _backends

    paths: dict[str, Scorer] = {"baseline": lambda t: SnowNLP(t).sentiments}
    loads: dict[str, float] = {}
    for kind in _backends.AVAILABLE:
        t0 = time.perf_counter()
        paths[kind] = _backends.scorer(kind)
        loads[kind] = time.perf_counter() - t0

    # Identity first (not timed).
    all_texts = [t for g in groups for t in g.texts]
    want = [SnowNLP(t).sentiments for t in all_texts]
    for kind in _backends.AVAILABLE:
        got = [paths[kind](t) for t in all_texts]
        bad = sum(1 for a, b in zip(got, want, strict=True) if a != b)
        assert bad == 0, f"{kind}: {bad} of {len(all_texts)} texts differ from snownlp"

    for _ in range(pairs):
        for g in groups:
            for name, score in paths.items():
                min_s = 0.0 if name == "baseline" else MIN_CANDIDATE_SECONDS
                g.runs.setdefault(name, []).append(time_once(score, g.texts, min_s))

    print(
        f"polarity benchmark: mode={'quick' if args.quick else 'full'}, pairs={pairs}, "
        f"python {platform.python_version()}, active kernel={KERNEL}"
    )
    load_txt = ", ".join(f"ours[{k}] {v:.2f} s" for k, v in loads.items())
    print(f"model load (not timed below): snownlp import {load_snow:.2f} s, {load_txt}")
    print(
        f"identity: {len(all_texts)} texts, every path == SnowNLP(t).sentiments "
        f"({', '.join(_backends.AVAILABLE)})"
    )
    print()
    print_table(groups, [k for k in paths if k != "baseline"], pairs)
    return 0


def print_table(groups: list[Group], kinds: list[str], pairs: int) -> None:
    head = f"{'group':<24}{'texts':>6}{'chars':>7} | {'baseline t/s':>12}{'cpu ms/t':>9}"
    for kind in kinds:
        head += f" | {kind + ' t/s':>10}{'cpu ms/t':>9}{'speed-up median [min-max]':>28}"
    print(head)
    print("-" * len(head))
    rows: list[tuple[str, int, float, dict[str, list[tuple[float, float]]]]] = [
        (g.name, len(g.texts), g.chars, g.runs) for g in groups
    ]
    # Overall: one pass over every text, i.e. per-text times weighted by group size.
    overall: dict[str, list[tuple[float, float]]] = {}
    n_all = sum(len(g.texts) for g in groups)
    for name in ["baseline", *kinds]:
        overall[name] = [
            (
                sum(g.runs[name][r][0] * len(g.texts) for g in groups) / n_all,
                sum(g.runs[name][r][1] * len(g.texts) for g in groups) / n_all,
            )
            for r in range(pairs)
        ]
    rows.append(
        ("overall", n_all, statistics.mean(len(t) for g in groups for t in g.texts), overall)
    )
    for name, n, chars, runs in rows:
        base_wall = [w for w, _ in runs["baseline"]]
        line = (
            f"{name:<24}{n:>6}{chars:>7.0f} | {1 / statistics.median(base_wall):>12.1f}"
            f"{1000 * statistics.median(c for _, c in runs['baseline']):>9.3f}"
        )
        for kind in kinds:
            wall = [w for w, _ in runs[kind]]
            ratios = [b / c for b, c in zip(base_wall, wall, strict=True)]
            spread = f"{statistics.median(ratios):.1f}x [{min(ratios):.1f}-{max(ratios):.1f}]"
            line += (
                f" | {1 / statistics.median(wall):>10.1f}"
                f"{1000 * statistics.median(c for _, c in runs[kind]):>9.3f}{spread:>28}"
            )
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
