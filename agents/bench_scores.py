"""Benchmarks only: score texts by looking them up in a file of precomputed assessments.

The ladder's rung L4 (bench/ladder/) runs the real worker with this in place of the scorer,
to measure what the pipeline costs without the scoring (KESU_BENCH_SCORES). Each line of the
file is {"text", "channel", "speech_rate", "assessment"}; a text that is not in the file raises,
so a lookup never silently falls back to scoring.
"""

from __future__ import annotations

import json
from pathlib import Path

from complaints.contacts import TextScorer
from complaints.scoring import score_text
from streams.records import Assessment, Source


class UnknownBenchText(KeyError):
    """A text the precomputed file does not hold."""


def text_scorer(path: Path | None) -> TextScorer:
    """score_text, or with a path (KESU_BENCH_SCORES) the lookup of the file's assessments."""
    if path is None:
        return score_text
    table: dict[tuple[str, str, float | None], Assessment] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                key = (row["text"], row["channel"], row["speech_rate"])
                table[key] = Assessment.model_validate_json(json.dumps(row["assessment"]))

    def precomputed(text: str, channel: Source, speech_rate: float | None) -> Assessment:
        try:
            return table[(text, channel.value, speech_rate)]
        except KeyError:
            raise UnknownBenchText(
                f"no precomputed assessment for a {channel.value} text"
            ) from None

    return precomputed


def bench_score_line(text: str, channel: Source, speech_rate: float | None) -> str:
    """One line of a KESU_BENCH_SCORES file: the text's real assessment (score_text)."""
    assessment = score_text(text, channel, speech_rate)
    row = {
        "text": text,
        "channel": channel.value,
        "speech_rate": speech_rate,
        "assessment": json.loads(assessment.model_dump_json()),
    }
    return json.dumps(row, ensure_ascii=False)
