"""Measures semantic grouping (complaints/similar.py, issue #18) on a synthetic stream
(bench/grouping_traffic.py): injected same-issue clusters among background complaints, near-miss
distractors, and a repost storm of 100 near-identical posts.

Per seed it reports:
- cluster recall: injected clusters of which at least 80 % of the voices landed in one group
  that was announced as an emerging issue (and the share of voices in that group);
- false merges: background or distractor texts placed in a cluster's group, clusters merged
  with another cluster, and emerging issues announced for groups of background texts only;
- the repost storm: how many groups its 100 posts form and how many signals it raised;
- throughput: texts grouped per second (CPU time, this process).

    .venv/bin/python bench/eval_grouping.py [--seed 7] [--background 3000]

Thresholds (grouping.yaml) were chosen on seed 7; seeds 0, 1 and 2 are held out.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.grouping_traffic import ISSUES, stream  # noqa: E402
from complaints.lexicon import default_lexicon  # noqa: E402
from complaints.similar import Grouper, GroupingState, Voice  # noqa: E402

CAUGHT_SHARE = 0.8


def run(seed: int, background: int) -> dict[str, float]:
    items = stream(seed, background)
    grouper = Grouper(default_lexicon())
    state = GroupingState()
    placed: dict[str, str] = {}  # event id -> group id
    signals: list[tuple[str, str]] = []  # (group id, change)
    t0 = time.process_time()
    for item in items:
        step = grouper.add(state, Voice(item.text, item.customer, item.event_id), item.at)
        if step.joined is not None:
            placed[item.event_id] = step.joined.group_id
        if step.signal is not None:
            signals.append((step.signal.group_id, step.signal.change))
    cpu = time.process_time() - t0

    members: dict[str, Counter[str]] = defaultdict(Counter)  # group -> truth -> count
    for item in items:
        if item.event_id in placed:
            members[placed[item.event_id]][item.truth] += 1
    announced = {g for g, change in signals if change == "opened"}
    caught = 0
    shares = []
    merged_with_other = 0
    noise_in_clusters = 0
    cluster_groups: set[str] = set()
    for issue in ISSUES:
        voices = [i for i in items if i.truth == issue]
        where = Counter(placed.get(i.event_id, "-") for i in voices)
        group, count = where.most_common(1)[0]
        share = count / len(voices)
        shares.append(share)
        cluster_groups.add(group)
        if share >= CAUGHT_SHARE and group in announced:
            caught += 1
        truths = members[group]
        merged_with_other += any(t in ISSUES and t != issue for t in truths)
        noise_in_clusters += truths["background"] + truths["distractor"]
    false_issues = sum(
        1 for g in announced if not any(t in ISSUES or t == "storm" for t in members[g])
    )
    storm = [i for i in items if i.truth == "storm"]
    storm_groups = Counter(placed.get(i.event_id, "-") for i in storm)
    storm_signals = sum(1 for g, _ in signals if g in storm_groups)
    noise = sum(1 for i in items if i.truth in ("background", "distractor"))
    return {
        "items": len(items),
        "clusters": len(ISSUES),
        "caught": caught,
        "mean_share": sum(shares) / len(shares),
        "min_share": min(shares),
        "merged": merged_with_other,
        "noise_in_clusters": noise_in_clusters,
        "noise": noise,
        "false_issues": false_issues,
        "storm_groups": len(storm_groups),
        "storm_signals": storm_signals,
        "groups": len(state.groups),
        "per_second": len(items) / cpu if cpu else float("inf"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", help="repeatable; default 7, 0, 1, 2")
    parser.add_argument("--background", type=int, default=3000)
    args = parser.parse_args()
    seeds = args.seed or [7, 0, 1, 2]
    print("semantic grouping (complaints/similar.py) on bench/grouping_traffic.py streams")
    print(
        f"  {'seed':>4} {'texts':>6} {'clusters caught':>16} {'voices in main group':>21} "
        f"{'clusters merged':>16} {'noise in clusters':>18} {'false issues':>13} "
        f"{'storm groups':>13} {'storm signals':>14} {'texts/s':>8}"
    )
    for seed in seeds:
        m = run(seed, args.background)
        tag = " (tuning)" if seed == 7 else ""
        print(
            f"  {seed:>4} {m['items']:>6} {m['caught']:>9}/{m['clusters']:<6} "
            f"{m['mean_share']:>12.1%} (min {m['min_share']:.0%}) {m['merged']:>10}/{m['clusters']:<5} "
            f"{m['noise_in_clusters']:>10}/{m['noise']:<7} {m['false_issues']:>13} "
            f"{m['storm_groups']:>13} {m['storm_signals']:>14} {m['per_second']:>8.0f}{tag}"
        )
    print(
        "  caught: >= 80 % of a cluster's voices in one group announced as an emerging issue; "
        "false issues: announced groups with no injected voice; storm: 100 near-identical posts"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
