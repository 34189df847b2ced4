"""The ladder's corpus: deterministic, the asked mix, and exactly the hostile records it says."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from bench.ladder.corpus import Corpus, build_corpus
from streams.codec import Limits, Rejection, decode_event
from streams.records import Source

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return build_corpus(3_000, seed=5, now=NOW)


def test_same_seed_and_time_give_the_same_bytes(corpus: Corpus) -> None:
    again = build_corpus(3_000, seed=5, now=NOW)
    assert [(e.source, e.key, e.value) for e in again.events] == [
        (e.source, e.key, e.value) for e in corpus.events
    ]
    other = build_corpus(3_000, seed=6, now=NOW)
    assert [e.value for e in other.events] != [e.value for e in corpus.events]


def test_size_shares_and_kinds_are_as_asked(corpus: Corpus) -> None:
    stats = corpus.stats
    assert stats["events"] == len(corpus.events) == 3_000
    assert stats["text_share"] == pytest.approx(0.40, abs=0.03)
    assert stats["by_kind"]["duplicate"] == 30
    assert stats["by_kind"]["invalid"] == 15
    assert set(stats["by_source"]) == {"call", "social", "logistics", "activity"}


def test_only_the_hostile_records_are_refused(corpus: Corpus) -> None:
    """Every event validates at `now` except the ones built to be refused."""
    for event in corpus.events:
        result = decode_event(Source(event.source), event.value, NOW, Limits())
        assert isinstance(result, Rejection) == (event.kind == "invalid"), event.value[:120]


def test_retries_repeat_an_earlier_event_byte_for_byte(corpus: Corpus) -> None:
    seen: set[tuple[bytes, bytes]] = set()
    for event in corpus.events:
        if event.kind == "duplicate":
            assert (event.key, event.value) in seen
        seen.add((event.key, event.value))


def test_event_ids_are_unique_apart_from_retries(corpus: Corpus) -> None:
    ids = Counter(
        json.loads(e.value)["event_id"]
        for e in corpus.events
        if e.kind not in ("duplicate", "invalid")
    )
    assert ids.most_common(1)[0][1] == 1


def test_texts_vary_between_copies_of_the_feed(corpus: Corpus) -> None:
    """A text cache would not turn the benchmark into a lookup: most texts are distinct."""
    assert corpus.stats["distinct_text_share"] >= 0.9
    assert 40 <= corpus.stats["text_chars_mean"] <= 120


def test_texts_lists_each_scored_text_once(corpus: Corpus) -> None:
    texts = corpus.texts()
    assert len(texts) == len(set(texts))
    assert {channel for _, channel, _ in texts} == {"call", "social"}
