"""The KESU_BENCH_SCORES file for rung L4: every text of the corpora with its real assessment."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from agents.bench_scores import bench_score_line
from bench.ladder.corpus import Corpus
from streams.records import Source


def write_scores(corpora: Iterable[Corpus], path: Path) -> int:
    """Score every distinct (text, channel, speech rate) once; returns how many."""
    seen: set[tuple[str, str, float | None]] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for corpus in corpora:
            for key in corpus.texts():
                if key in seen:
                    continue
                seen.add(key)
                text, channel, rate = key
                out.write(bench_score_line(text, Source(channel), rate) + "\n")
    return len(seen)
