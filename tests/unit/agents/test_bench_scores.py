"""KESU_BENCH_SCORES (ladder rung L4 only): texts looked up instead of scored."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.bench_scores import UnknownBenchText, bench_score_line, text_scorer
from complaints.contacts import assess_contact
from complaints.scoring import score_text
from streams.codec import Limits, Rejection, decode_event
from streams.records import Source
from tests.factories import make_event, now_utc, to_bytes

TEXTS = [
    ("快递三天了还没到，你们到底管不管？", Source.CALL, 6.5),
    ("快递三天了还没到，你们到底管不管？", Source.CALL, None),
    ("新手机发热严重，客服敷衍", Source.SOCIAL, None),
]


@pytest.fixture
def scores_file(tmp_path: Path) -> Path:
    path = tmp_path / "scores.jsonl"
    path.write_text("".join(bench_score_line(*row) + "\n" for row in TEXTS), encoding="utf-8")
    return path


def test_without_a_file_the_worker_scores() -> None:
    assert text_scorer(None) is score_text


def test_the_lookup_returns_what_the_scorer_said(scores_file: Path) -> None:
    lookup = text_scorer(scores_file)
    for text, channel, rate in TEXTS:
        assert lookup(text, channel, rate) == score_text(text, channel, rate)


def test_a_text_not_in_the_file_raises(scores_file: Path) -> None:
    """The lookup never falls back to scoring (the agent dead-letters it, the bench sees it)."""
    lookup = text_scorer(scores_file)
    with pytest.raises(UnknownBenchText):
        lookup("没见过的话", Source.CALL, None)
    with pytest.raises(UnknownBenchText):
        lookup(TEXTS[0][0], Source.CALL, 7.0)  # same text, another speech rate


def test_assess_contact_with_the_lookup_equals_scoring(scores_file: Path) -> None:
    now = now_utc()
    raw = make_event(Source.CALL, at=now, text=TEXTS[0][0], speech_rate=6.5)
    record = decode_event(Source.CALL, to_bytes(raw), now, Limits())
    assert not isinstance(record, Rejection)
    assert assess_contact(record, text_scorer(scores_file)) == assess_contact(record)
