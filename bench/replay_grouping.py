"""Replays voice streams through the grouping stage and writes one digest per step, so two
versions of the code can be compared byte for byte (issue #17: a faster grouper must decide
exactly what the old one did and store exactly the same entries).

Per stream (bench/grouping_traffic.py, one seed each, some spread over more than the grouper's
`forget_after` so groups are forgotten) it feeds:

- `complaints.group_stage.advance` with the stream's voices as `IssueVoice`s, clock ticks every
  ten minutes of event time, replayed voices (a duplicate is dropped), customers who complain
  twice (a case moves up a tail, is taken by another issue) and a batch key shared by one
  cluster (a keyed issue waits for a surge). Each step's digest covers its reason, its signals
  (their encoded records), its issue writes (entry name and JSON text, in order) and the
  book's `changes_since` (sorted). Halfway, the stage restarts from its table
  (`GroupBook.from_entries` of every entry written so far), as a deployed worker does;
- `Grouper.add` with the stream's whole texts (not clipped to 300 characters: long texts take
  another path of the fingerprint), each step's join, signal, dropped groups and the joined
  group as JSON.

    .venv/bin/python bench/replay_grouping.py --record /tmp/main.digests   # on main's code
    .venv/bin/python bench/replay_grouping.py --check /tmp/main.digests    # on yours

To record main's digests, run this file from an export of main (``git archive main | tar -x``)
with this venv: it imports the code next to it.

String hashing is salted per process and main's stored group JSON depends on it (the order of a
group's `counts` follows the iteration of a frozenset of features), so both runs must use one
`--hash-seed` (PYTHONHASHSEED; the script re-runs itself with it, default 0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.grouping_traffic import Item, stream  # noqa: E402
from complaints.group_stage import GroupInput, advance  # noqa: E402
from complaints.grouping import GroupBook  # noqa: E402
from complaints.lexicon import default_lexicon  # noqa: E402
from complaints.rules import RuleBook, load_rules  # noqa: E402
from complaints.similar import Grouper, GroupingState, Voice, group_to_json  # noqa: E402
from streams.codec import encode_record  # noqa: E402
from streams.records import Category, IssueVoice, Source, Tick  # noqa: E402

#: (seed, background texts, hours the stream spans): the last two outlive forget_after (72 h).
STREAMS = ((7, 3000, 72), (0, 3000, 72), (1, 2000, 200), (2, 1500, 400))
TICK = timedelta(minutes=10)
#: What the stage steps did, over all streams (printed: the replay exercised every path).
REASONS: dict[str, int] = {}
KEYED_ISSUE = "milk-powder-clumps"  # its voices share a batch: a surge may claim it


def _inputs(items: list[Item], seed: int) -> Iterator[GroupInput]:
    """The stream as the stage sees it: voices, ticks, replays and returning customers."""
    r = random.Random(seed * 7919 + 1)
    seen_cases: list[str] = []
    next_tick = items[0].at + TICK if items else None
    replay: list[tuple[int, IssueVoice]] = []
    for n, item in enumerate(items):
        while next_tick is not None and next_tick <= item.at:
            yield Tick(case_key="grouping", at=next_tick)
            next_tick += TICK
        case = f"social:weibo:{item.customer}"
        if seen_cases and r.random() < 0.08:  # a customer complaining again, maybe elsewhere
            case = seen_cases[r.randrange(len(seen_cases))]
        seen_cases.append(case)
        keys = ("batch:B2512-30",) if item.truth == KEYED_ISSUE else ()
        voice = IssueVoice(
            voice_id=f"social:{item.event_id}",
            case_key=case,
            customer=case.removeprefix("social:weibo:"),
            event_id=item.event_id,
            occurred_at=item.at,
            source=Source.SOCIAL,
            category=Category.OTHER,
            intensity=r.randrange(101),
            masked_text=item.text[:300],
            keys=keys,
        )
        yield voice
        if r.random() < 0.03:
            replay.append((n + r.randrange(1, 40), voice))
        due = [v for at, v in replay if at <= n]
        replay = [(at, v) for at, v in replay if at > n]
        yield from due


def _digest(*parts: object) -> str:
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _restarted(stored: dict[str, str]) -> GroupBook:
    """The book a worker restarting on `stored` (the table) reads."""

    def scan(prefix: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in stored.items() if k.startswith(prefix)]

    return GroupBook.from_entries(stored.get, scan)


def stage_digests(seed: int, background: int, hours: int, rules: RuleBook) -> Iterator[str]:
    """One digest per stage step, the stage restarted from its table halfway."""
    inputs = list(_inputs(stream(seed, background, hours), seed))
    table: dict[str, str] = {}
    book = GroupBook()
    for n, item in enumerate(inputs):
        if n == len(inputs) // 2:
            book = _restarted(dict(table))
            yield _digest("restart", sorted(book.entries().items()))
        step = advance(book, item, rules)
        changes = step.book.changes_since(book) if step.book is not book else {}
        for name, text in (*changes.items(), *step.writes):
            if text is None:
                table.pop(name, None)
            else:
                table[name] = text
        REASONS[step.reason.value] = REASONS.get(step.reason.value, 0) + 1
        yield _digest(
            step.reason.value,
            [encode_record(s).decode() for s in step.signals],
            list(step.writes),
            sorted(changes.items()),
        )
        book = step.book
    yield _digest("end", sorted(table.items()))


def grouper_digests(seed: int, background: int, hours: int) -> Iterator[str]:
    """One digest per `Grouper.add` of the stream's whole texts."""
    grouper = Grouper(default_lexicon())
    state = GroupingState()
    for item in stream(seed, background, hours):
        step = grouper.add(state, Voice(item.text, item.customer, item.event_id), item.at)
        group = state.groups.get(step.joined.group_id) if step.joined else None
        yield _digest(
            step.joined,
            step.signal,
            step.dropped,
            group_to_json(group) if group is not None else None,
        )


def digests() -> Iterator[tuple[str, str]]:
    rules = load_rules()
    for seed, background, hours in STREAMS:
        for digest in stage_digests(seed, background, hours, rules):
            yield f"stage {seed}", digest
        for digest in grouper_digests(seed, background, hours):
            yield f"grouper {seed}", digest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path, help="write the digests to this file")
    mode.add_argument("--check", type=Path, help="compare with the digests in this file")
    parser.add_argument("--hash-seed", default="0", help="PYTHONHASHSEED of the run (default 0)")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != args.hash_seed:
        env = {**os.environ, "PYTHONHASHSEED": args.hash_seed}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606
    lines = [f"{label} {digest}" for label, digest in digests()]
    print("stage steps by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(REASONS.items())))
    if args.record:
        args.record.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"recorded {len(lines)} step digests to {args.record}")
        return 0
    expected = args.check.read_text(encoding="utf-8").splitlines()
    counts: dict[str, int] = {}
    for label in (line.rsplit(" ", 1)[0] for line in lines):
        counts[label] = counts.get(label, 0) + 1
    print("steps compared: " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if len(expected) != len(lines):
        print(f"DIFFERENT: {len(lines)} steps, {len(expected)} recorded")
        return 1
    for n, (got, want) in enumerate(zip(lines, expected, strict=True)):
        if got != want:
            print(f"DIFFERENT at step {n}: {got} (recorded {want})")
            return 1
    print(f"identical: all {len(lines)} step digests match")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
