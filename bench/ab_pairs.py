"""Alternating measuring processes — this tree against another (an export of main) — and the
medians of what they report: the machine is shared and noisy, so the ab_* benches compare in
pairs, with the order swapped every other pair, and report medians and per-pair ratios."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

Run = dict[str, float]


def run_pairs(
    script: str,
    against: Path,
    pairs: int,
    extra: list[str],
    on_pair: Callable[[int, Run, Run], None],
) -> dict[str, list[Run]]:
    """Run `script --measure <tree> *extra` for each tree, `pairs` times; each run prints one
    JSON object. `on_pair(number, other, this)` after each pair."""
    runs: dict[str, list[Run]] = {"other": [], "this": []}
    for pair in range(pairs):
        order = (("other", against), ("this", REPO))
        for name, tree in order if pair % 2 == 0 else order[::-1]:
            child = [sys.executable, script, "--measure", str(tree), *extra]
            result = subprocess.run(child, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(result.stdout))
        on_pair(pair + 1, runs["other"][-1], runs["this"][-1])
    return runs


def print_medians(runs: dict[str, list[Run]], metrics: Iterable[str]) -> None:
    """Each metric's median per side, their ratio (other / this) and the per-pair ratios."""
    for metric in metrics:
        other = statistics.median(r[metric] for r in runs["other"])
        this = statistics.median(r[metric] for r in runs["this"])
        ratios = [o[metric] / t[metric] for o, t in zip(runs["other"], runs["this"], strict=True)]
        print(
            f"  {metric:15} other {other:8.1f} · this {this:8.1f} · ratio of medians "
            f"{other / this:5.2f}× · per-pair ratios {', '.join(f'{r:.2f}' for r in ratios)}"
        )
