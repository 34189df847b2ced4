"""Scoring benchmark: our full ``score_text`` vs plain ``SnowNLP(t).sentiments`` on the same texts.

Same process, same texts: a seeded sample of each /work/shared/eval file, the texts of our
sample feed (kesu/data/sample_feed.jsonl), and long texts of 1,000 and 5,000 characters (the
scorer bounds its work per text; plain snownlp does not). Per pair, every group is timed as
baseline, then candidate (interleaved, so drift hits both alike); each line prints texts/s, CPU
ms per text (time.process_time) and the median of the per-pair speed-ups with their min-max.
A third column shows the polarity kernel alone (complaints.polarity.sentiment), to show what
the lexicons, cues and masking add on top of it. Model and lexicon load times are measured
apart and never enter the timings.

    .venv/bin/python bench/bench_scorer.py           # 3 pairs, larger sample
    .venv/bin/python bench/bench_scorer.py --quick   # 1 pair, smaller sample (< 1 min)
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
sys.path.insert(0, str(REPO))

EVAL_DIR = REPO.parent / "shared" / "eval"
FEED = REPO / "kesu" / "data" / "sample_feed.jsonl"
EVAL_FILES = (
    "waimai_10k.csv",
    "online_shopping_10_cats.csv",
    "smp2020_ewect_usual_eval_labeled.json",
    "smp2020_ewect_usual_test_labeled.json",
)
SEED = 20240601
#: A fast path is repeated until it has run this long, so that it is measurable.
MIN_SECONDS = 0.2

Score = Callable[[str], object]


@dataclass
class Group:
    name: str
    texts: list[str]
    runs: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (wall, cpu) s/text

    @property
    def chars(self) -> float:
        return statistics.mean(len(t) for t in self.texts)


def read_eval(name: str) -> list[str]:
    path = EVAL_DIR / name
    if name.endswith(".csv"):
        with path.open(encoding="utf-8", newline="") as f:
            return [row["review"] for row in csv.DictReader(f)]
    return [item["content"] for item in json.loads(path.read_text(encoding="utf-8"))]


def feed_texts() -> list[str]:
    texts = []
    for line in FEED.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["event"].get("text")
        if text:
            texts.append(text)
    return texts


def build_groups(quick: bool) -> list[Group]:
    rng = random.Random(SEED)
    per_file = 50 if quick else 150
    sample: list[str] = []
    pool: list[str] = []
    for name in EVAL_FILES:
        texts = [t for t in read_eval(name) if t.strip()]  # SnowNLP("") raises
        sample += rng.sample(texts, per_file)
        pool += rng.sample(texts, 300)
    groups = [
        Group(f"eval sample ({len(EVAL_FILES)}x{per_file})", sample),
        Group("sample feed texts", feed_texts()),
    ]
    for length, count in ((1000, 2 if quick else 4), (5000, 1 if quick else 2)):
        texts = []
        for _ in range(count):
            text = ""
            while len(text) < length:
                text += rng.choice(pool) + "。"
            texts.append(text[:length])
        groups.append(Group(f"{length} chars", texts))
    return groups


def time_once(score: Score, texts: list[str], min_seconds: float) -> tuple[float, float]:
    """Seconds per text (wall, cpu), repeating the whole list until min_seconds have passed."""
    loops = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for t in texts:
            score(t)
        loops += 1
        if time.perf_counter() - wall0 >= min_seconds:
            break
    n = loops * len(texts)
    return (time.perf_counter() - wall0) / n, (time.process_time() - cpu0) / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 pair and fewer texts (< 1 min)")
    args = parser.parse_args()
    pairs = 1 if args.quick else 3
    if not EVAL_DIR.is_dir():
        print(f"evaluation data not found at {EVAL_DIR.resolve()}", file=sys.stderr)
        return 2
    groups = build_groups(args.quick)

    t0 = time.perf_counter()
    from snownlp import SnowNLP  # loads all of snownlp's models

    load_snow = time.perf_counter() - t0
    t0 = time.perf_counter()
    from complaints import polarity
    from complaints.scoring import preload, score_text
    from streams.records import Source

    preload()
    load_ours = time.perf_counter() - t0

    paths: dict[str, Score] = {
        "baseline": lambda t: SnowNLP(t).sentiments,
        "score_text": lambda t: score_text(t, Source.SOCIAL),
        "kernel only": polarity.sentiment,
    }
    for t in (t for g in groups for t in g.texts):  # warm every path (and check none raises)
        score_text(t, Source.SOCIAL)
    for _ in range(pairs):
        for g in groups:
            for name, score in paths.items():
                g.runs.setdefault(name, []).append(
                    time_once(score, g.texts, 0.0 if name == "baseline" else MIN_SECONDS)
                )

    print(
        f"scorer benchmark: mode={'quick' if args.quick else 'full'}, pairs={pairs}, "
        f"python {platform.python_version()}, polarity kernel={polarity.KERNEL}"
    )
    print(
        f"load (not timed below): snownlp import {load_snow:.2f} s; our lexicon + polarity model {load_ours:.2f} s"
    )
    print(
        "baseline: plain SnowNLP(t).sentiments; candidate: complaints.scoring.score_text (full assessment)\n"
    )
    print_table(groups, ["score_text", "kernel only"], pairs)
    return 0


def print_table(groups: list[Group], kinds: list[str], pairs: int) -> None:
    head = f"{'group':<26}{'texts':>6}{'chars':>7} | {'baseline t/s':>12}{'cpu ms/t':>9}"
    for kind in kinds:
        head += f" | {kind + ' t/s':>16}{'cpu ms/t':>9}{'speed-up median [min-max]':>28}"
    print(head)
    print("-" * len(head))
    n_all = sum(len(g.texts) for g in groups)
    overall = {
        name: [
            (
                sum(g.runs[name][r][0] * len(g.texts) for g in groups) / n_all,
                sum(g.runs[name][r][1] * len(g.texts) for g in groups) / n_all,
            )
            for r in range(pairs)
        ]
        for name in ["baseline", *kinds]
    }
    rows = [(g.name, len(g.texts), g.chars, g.runs) for g in groups]
    rows.append(
        (
            "overall (one pass, all)",
            n_all,
            statistics.mean(len(t) for g in groups for t in g.texts),
            overall,
        )
    )
    for name, n, chars, runs in rows:
        base = [w for w, _ in runs["baseline"]]
        line = (
            f"{name:<26}{n:>6}{chars:>7.0f} | {1 / statistics.median(base):>12.1f}"
            f"{1000 * statistics.median(c for _, c in runs['baseline']):>9.3f}"
        )
        for kind in kinds:
            wall = [w for w, _ in runs[kind]]
            ratios = [b / c for b, c in zip(base, wall, strict=True)]
            spread = f"{statistics.median(ratios):.1f}x [{min(ratios):.1f}-{max(ratios):.1f}]"
            line += (
                f" | {1 / statistics.median(wall):>16.1f}"
                f"{1000 * statistics.median(c for _, c in runs[kind]):>9.3f}{spread:>28}"
            )
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
