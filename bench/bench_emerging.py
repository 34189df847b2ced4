"""What emerging issues cost the one-partition grouping stage, and what they open.

Every negative text now crosses the grouping stage (agents/grouping.py) as an IssueVoice. On
the synthetic stream of bench/grouping_traffic.py (injected same-issue clusters, near-miss
distractors, a repost storm of 100 posts, background complaints), this prints per voice:

- `Grouper.add` alone (complaints/similar.py), microseconds: mean, median, p99;
- the whole stage step: `complaints.group_stage.advance` plus what the shell does with its
  result (the book's entries diffed when an incident changed, the changed issue entries, the
  parent signals encoded);

and what the rules' thresholds (rules.yaml `emerging`) open: parents, and how many of them
list members of background or distractor texts only (false alarms) or of more than one
injected cluster (false merges).

    .venv/bin/python bench/bench_emerging.py [--seed 7] [--background 3000]

CPU time of this process (time.process_time), one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.grouping_traffic import Item, stream  # noqa: E402
from complaints.emerging_incidents import grouper_for  # noqa: E402
from complaints.group_stage import advance  # noqa: E402
from complaints.grouping import GroupBook  # noqa: E402
from complaints.rules import load_rules  # noqa: E402
from complaints.similar import GroupingState, Voice  # noqa: E402
from streams.codec import encode_record  # noqa: E402
from streams.records import Category, IssueVoice, Source  # noqa: E402


def _voice(item: Item) -> IssueVoice:
    return IssueVoice(
        voice_id=f"social:{item.event_id}",
        case_key=f"social:weibo:{item.customer}",
        customer=item.customer,
        event_id=item.event_id,
        occurred_at=item.at,
        source=Source.SOCIAL,
        category=Category.OTHER,
        intensity=40,
        masked_text=item.text[:300],
    )


def _micros(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"mean {statistics.fmean(samples) * 1e6:7.1f} µs · median "
        f"{statistics.median(samples) * 1e6:7.1f} µs · p99 {p99 * 1e6:7.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--background", type=int, default=3000)
    parser.add_argument(
        "--window", type=float, default=None, help="hours: try another emerging.window"
    )
    args = parser.parse_args()
    rules = load_rules()
    if args.window is not None:
        window = timedelta(hours=args.window)
        rules = rules.model_copy(
            update={"emerging": rules.emerging.model_copy(update={"window": window})}
        )
    items = stream(args.seed, args.background)
    truth = {f"social:weibo:{i.customer}": i.truth for i in items}

    grouper = grouper_for(rules.emerging)
    state = GroupingState()
    add: list[float] = []
    for item in items:
        started = time.process_time()
        grouper.add(state, Voice(item.text[:300], item.customer, item.event_id), item.at)
        add.append(time.process_time() - started)

    book = GroupBook()
    whole: list[float] = []
    parents: dict[str, set[str]] = {}
    for item in items:
        voice = _voice(item)
        started = time.process_time()
        step = advance(book, voice, rules)
        if step.book is not book:  # as agents/grouping.py: re-write what changed
            step.book.changes_since(book)
        for signal in step.signals:
            encode_record(signal)
        whole.append(time.process_time() - started)
        for signal in step.signals:
            if signal.group is not None and signal.change == "raised":
                parents.setdefault(signal.subject, set()).update(signal.group.member_case_keys)
        book = step.book

    kinds = {subject: Counter(truth[c] for c in cases) for subject, cases in parents.items()}
    clusters = {
        s: {t for t in k if t not in ("background", "distractor")} for s, k in kinds.items()
    }
    alarms = sum(1 for c in clusters.values() if not c)
    merged = sum(1 for c in clusters.values() if len(c) > 1)
    injected = {i.truth for i in items if i.truth not in ("background", "distractor")}
    found = set().union(*clusters.values()) if clusters else set()
    policy = rules.emerging
    print(f"emerging: {policy.open_customers} customers within {policy.window}")
    print(
        f"seed {args.seed}: {len(items)} voices, {len(injected)} injected clusters (storm included)"
    )
    print(f"Grouper.add per voice:      {_micros(add)}")
    print(f"grouping stage per voice:   {_micros(whole)}")
    print(
        f"parents opened: {len(parents)} · injected clusters with a parent: "
        f"{len(found & injected)}/{len(injected)} · parents of background/distractors only: "
        f"{alarms} · parents mixing clusters: {merged}"
    )
    print(f"injected clusters without a parent: {sorted(injected - found) or 'none'}")
    split = Counter(t for c in clusters.values() for t in c)
    print(
        f"clusters with more than one parent: {sorted(t for t, n in split.items() if n > 1) or 'none'}"
    )
    print(f"groups held at the end: {len(book.issues.groups.groups)}")


if __name__ == "__main__":
    main()
