"""The cost ladder's drain on the real broker: a passthrough rung and the real worker (rung L4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.bench_scores import bench_score_line
from bench.ladder import candidates
from bench.ladder.cluster import Cluster, fresh_namespace
from bench.ladder.corpus import build_corpus
from bench.ladder.drain import drain
from bench.ladder.latency import read_since
from streams.records import AssessedEvent, Source
from tests.conftest import Broker

pytestmark = pytest.mark.broker


@pytest.fixture
def cluster(kafka_broker: Broker) -> Cluster:
    address = kafka_broker.address
    cluster = Cluster(address.bootstrap, kafka_broker.local.data_dir / "log", address.pid)
    yield cluster  # type: ignore[misc]
    cluster.close()


def test_a_passthrough_rung_drains_every_event_once(cluster: Cluster, tmp_path: Path) -> None:
    """L2: every valid event reaches valid.events, every hostile one the dead-letter topic."""
    now = datetime.now(UTC)
    corpus = build_corpus(600, seed=3, now=now)
    warmup = build_corpus(40, seed=3, now=now, tag="w")
    namespace = fresh_namespace("it")
    cluster.create_namespace(namespace)
    rung = candidates.passthrough(cluster, "L2", namespace, tmp_path)
    try:
        rung.start()
        result = drain(
            cluster,
            "L2",
            rung.children,
            group=rung.group,
            namespace=namespace,
            corpus=corpus.events,
            warmup=warmup.events,
            expect_dead_letters=corpus.stats["by_kind"]["invalid"],
        )
    finally:
        rung.stop()
        cluster.delete_namespace(namespace)
    invalid = corpus.stats["by_kind"]["invalid"]
    assert result.events == 600
    assert result.by_topic == {"dlq": invalid, "valid.events": 600 - invalid}
    assert result.seconds > 0
    assert result.cpu["candidate"] > 0
    assert result.batches <= result.records


def test_rung_l4_runs_the_worker_with_the_precomputed_assessments(
    cluster: Cluster, tmp_path: Path
) -> None:
    """KESU_BENCH_SCORES: the worker's assessments are the file's, not freshly scored ones."""
    now = datetime.now(UTC)
    corpus = build_corpus(150, seed=4, now=now)
    warmup = build_corpus(30, seed=4, now=now, tag="w")
    scores = tmp_path / "scores.jsonl"
    marked = 0
    with scores.open("w", encoding="utf-8") as out:
        for batch in (corpus, warmup):
            for text, channel, rate in batch.texts():
                row = json.loads(bench_score_line(text, Source(channel), rate))
                # A keyword the scorer never finds: proof that the worker looked the text up.
                row["assessment"]["keywords"] = ["bench-lookup"]
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                marked += 1
    namespace = fresh_namespace("it")
    cluster.create_namespace(namespace)
    worker = candidates.workers(
        cluster, "L4", namespace, tmp_path, tmp_path / namespace, bench_scores=scores
    )
    try:
        worker.start()
        result = drain(
            cluster,
            "L4",
            worker.children,
            group=worker.group,
            namespace=namespace,
            corpus=corpus.events,
            warmup=warmup.events,
            expect_dead_letters=corpus.stats["by_kind"]["invalid"],
        )
        topic = f"{namespace}.assessments"
        ends = cluster.end_offsets([topic])
        records = read_since(cluster.bootstrap, dict.fromkeys(ends, 0), ends)
    finally:
        worker.stop()
        cluster.delete_namespace(namespace)
    assert marked > 0
    assert result.records > result.events  # the whole worker ran: outputs and changelogs
    texts = [AssessedEvent.model_validate_json(r.value) for r in records]
    scored = [contact.assessment for contact in texts if contact.assessment is not None]
    assert scored, "the corpus has texts"
    assert all(a.keywords == ("bench-lookup",) for a in scored)
