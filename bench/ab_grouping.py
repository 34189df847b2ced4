"""CPU per voice of the grouping stage, this tree against another (main's), in alternating
processes (issue #17: the machine is shared and noisy, so pairs, medians and ratios).

Each measuring process runs bench/bench_emerging.py's stream (one seed) through
`complaints.emerging_incidents.on_voice` twice: once warm-up, once measured. It reports CPU time
(time.process_time) per voice for `on_voice` alone, and for the stage step as the shell does it
(plus the book's `changes_since` when the book changed), and `Grouper.add` alone on a fresh
state (what bench/eval_grouping.py times, whole texts).

    .venv/bin/python bench/ab_grouping.py --against /tmp/main-src [--pairs 5] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measure(tree: Path, seed: int, background: int) -> dict[str, float]:
    """µs per voice of the code in `tree` (imported from there)."""
    sys.path.insert(0, str(tree))
    from bench.grouping_traffic import stream
    from complaints.emerging_incidents import on_voice
    from complaints.grouping import GroupBook
    from complaints.lexicon import default_lexicon
    from complaints.rules import load_rules
    from complaints.similar import Grouper, GroupingState, Voice
    from streams.records import Category, IssueVoice, Source

    rules = load_rules()
    items = stream(seed, background)
    voices = [
        IssueVoice(
            voice_id=f"social:{i.event_id}",
            case_key=f"social:weibo:{i.customer}",
            customer=i.customer,
            event_id=i.event_id,
            occurred_at=i.at,
            source=Source.SOCIAL,
            category=Category.OTHER,
            intensity=40,
            masked_text=i.text[:300],
        )
        for i in items
    ]
    out: dict[str, float] = {}
    for _ in range(2):  # the second run counts (the first loads lexicons and warms caches)
        book = GroupBook()
        stage = 0.0
        shell = 0.0
        for voice in voices:
            started = time.process_time()
            step = on_voice(book, voice, rules)
            done = time.process_time()
            if step.book is not book:
                step.book.changes_since(book)
            shell += time.process_time() - done
            stage += done - started
            book = step.book
        out["on_voice_us"] = stage / len(voices) * 1e6
        out["stage_step_us"] = (stage + shell) / len(voices) * 1e6
        grouper = Grouper(default_lexicon())
        state = GroupingState()
        started = time.process_time()
        for item in items:
            grouper.add(state, Voice(item.text, item.customer, item.event_id), item.at)
        out["grouper_add_us"] = (time.process_time() - started) / len(items) * 1e6
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other tree (an export of main)")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--background", type=int, default=3000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child: this tree
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.seed, args.background)))
        return 0
    if args.against is None:
        parser.error("--against is required")
    runs: dict[str, list[dict[str, float]]] = {"other": [], "this": []}
    for pair in range(args.pairs):
        order = (("other", args.against), ("this", REPO))
        for name, tree in order if pair % 2 == 0 else order[::-1]:
            child = [sys.executable, __file__, "--measure", str(tree), "--seed", str(args.seed)]
            child += ["--background", str(args.background)]
            result = subprocess.run(child, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(result.stdout))
        print(f"pair {pair + 1}: other {runs['other'][-1]} · this {runs['this'][-1]}")
    print(f"medians of {args.pairs} interleaved pairs (µs of CPU per voice; ratio other/this):")
    for metric in ("on_voice_us", "stage_step_us", "grouper_add_us"):
        other = statistics.median(r[metric] for r in runs["other"])
        this = statistics.median(r[metric] for r in runs["this"])
        ratios = [o[metric] / t[metric] for o, t in zip(runs["other"], runs["this"], strict=True)]
        print(
            f"  {metric:15} other {other:8.1f} · this {this:8.1f} · ratio of medians "
            f"{other / this:5.2f}× · per-pair ratios {', '.join(f'{r:.2f}' for r in ratios)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
