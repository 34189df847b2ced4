"""CPU per voice of the grouping stage, this tree against another (main's), in alternating
processes (issue #17: the machine is shared and noisy, so pairs, medians and ratios).

Each measuring process runs a voice stream through `complaints.emerging_incidents.on_voice`
twice: once warm-up, once measured. It reports CPU time (time.process_time) per voice for
`on_voice` alone, and for the stage step as the shell does it (plus the book's `changes_since`
when the book changed), and `Grouper.add` alone on a fresh state (whole texts).

Streams: `emerging` is bench/bench_emerging.py's (bench/grouping_traffic.py, one seed: mostly
one-text groups among a few clusters and a repost storm); `ladder` is the negative texts of the
pipeline bench's corpus (bench/ladder/corpus.py: the sample feed copied with varied sentences
and repeats, as `bench_pipeline.py --parts ladder` publishes it), scored by kesu's scorer once
by the driver and read by both sides.

    .venv/bin/python bench/ab_grouping.py --against /tmp/main-src [--pairs 5] [--seed 7]
    .venv/bin/python bench/ab_grouping.py --against /tmp/main-src --stream ladder --events 16000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ladder_voices(events: int, seed: int, path: Path) -> None:
    """Write the voices of the ladder corpus's negative texts to `path` (JSON lines)."""
    sys.path.insert(0, str(REPO))
    from bench.ladder.corpus import TEXT_SOURCES, build_corpus
    from complaints.emerging_incidents import VOICE_CHARS
    from complaints.scoring import score_text
    from streams.records import IssueVoice, Source

    corpus = build_corpus(events, seed=seed, now=datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    voices = []
    for event in corpus.events:
        if event.source not in TEXT_SOURCES or event.kind not in ("text", "duplicate"):
            continue
        body = json.loads(event.value)
        score = score_text(body["text"], Source(event.source), body.get("speech_rate"))
        if not score.negative or not score.masked_text.strip():
            continue
        who = body.get("customer_id") or body.get("author_id") or body["event_id"]
        voices.append(
            IssueVoice(
                voice_id=f"{event.source}:{body['event_id']}",
                case_key=f"{event.source}:{who}",
                customer=who,
                event_id=body["event_id"],
                occurred_at=datetime.fromisoformat(body["occurred_at"]),
                source=Source(event.source),
                category=score.category,
                intensity=score.intensity,
                masked_text=score.masked_text[:VOICE_CHARS],
            )
        )
    voices.sort(key=lambda v: v.occurred_at)
    path.write_text("".join(v.model_dump_json() + "\n" for v in voices), encoding="utf-8")


def measure(tree: Path, seed: int, background: int, voices_path: Path | None) -> dict[str, float]:
    """µs per voice of the code in `tree` (imported from there)."""
    sys.path.insert(0, str(tree))
    from bench.bench_emerging import _voice
    from bench.grouping_traffic import stream
    from complaints.emerging_incidents import on_voice
    from complaints.grouping import GroupBook
    from complaints.lexicon import default_lexicon
    from complaints.rules import load_rules
    from complaints.similar import Grouper, GroupingState, Voice
    from streams.records import IssueVoice

    rules = load_rules()
    if voices_path is not None:
        lines = voices_path.read_text(encoding="utf-8").splitlines()
        voices = [IssueVoice.model_validate_json(line) for line in lines]
    else:
        voices = [_voice(i) for i in stream(seed, background)]  # as bench_emerging builds them
    texts = [(v.masked_text, v.customer, v.event_id, v.occurred_at) for v in voices]
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
        for text, customer, event_id, at in texts:
            grouper.add(state, Voice(text, customer, event_id), at)
        out["grouper_add_us"] = (time.process_time() - started) / len(texts) * 1e6
    out["voices"] = len(voices)
    out["groups"] = len(book.issues.groups.groups)
    out["opened"] = sum(1 for i in book.incidents if i.kind == "issue")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="the other tree (an export of main)")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--background", type=int, default=3000)
    parser.add_argument("--stream", choices=("emerging", "ladder"), default="emerging")
    parser.add_argument("--events", type=int, default=16000, help="ladder: raw events")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child: this tree
    parser.add_argument("--voices", type=Path, help=argparse.SUPPRESS)  # child: ladder voices
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.seed, args.background, args.voices)))
        return 0
    if args.against is None:
        parser.error("--against is required")
    extra = ["--seed", str(args.seed), "--background", str(args.background)]
    if args.stream == "ladder":
        path = Path(tempfile.gettempdir()) / f"kesu-ladder-voices-{args.events}-{args.seed}.jsonl"
        if not path.exists():
            ladder_voices(args.events, args.seed, path)
        extra += ["--voices", str(path)]
    sys.path.insert(0, str(REPO))  # the driver only: a measuring process imports its own tree
    from bench.ab_pairs import print_medians, run_pairs

    runs = run_pairs(
        __file__,
        args.against,
        args.pairs,
        extra,
        lambda pair, other, this: print(f"pair {pair}: other {other} · this {this}"),
    )
    first = runs["this"][0]
    print(
        f"stream {args.stream}: {first['voices']:.0f} voices, {first['groups']:.0f} groups at the "
        f"end, {first['opened']:.0f} issues open (this; other: {runs['other'][0]['groups']:.0f} "
        f"groups, {runs['other'][0]['opened']:.0f} open)"
    )
    print(f"medians of {args.pairs} interleaved pairs (µs of CPU per voice; ratio other/this):")
    print_medians(runs, ("on_voice_us", "stage_step_us", "grouper_add_us"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
