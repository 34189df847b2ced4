"""The validation pipeline on a real broker: raw topics -> clean topics or the dead-letter topic."""

from __future__ import annotations

import hashlib
import json
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kesu.settings import Settings
from streams.records import DeadLetter, Source
from streams.topics import CLEAN, DLQ, RAW, VALID
from tests import hostile
from tests.conftest import Broker, SettingsFactory, Worker, WorkerFactory
from tests.factories import make_event, to_bytes
from tests.integration.support import (
    publish,
    read_all,
    read_until,
    topic_config,
    wait_caught_up,
)
from tests.integration.trials import TrialRow, report

#: Larger than the broker's default max message size: only reachable over HTTP.
_KAFKA_MAX = 1024 * 1024


@pytest.fixture(scope="module")
def pipeline(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """One worker on a fresh namespace, shared by the tests of this module."""
    worker = Worker(make_settings(), tmp_path_factory.mktemp("worker-logs"))
    worker.start()
    yield worker
    worker.stop()


def _clean_topics(settings: Settings) -> list[str]:
    return [CLEAN[source].name(settings.namespace) for source in Source]


def _ids(records: list[Any]) -> list[str]:
    return [json.loads(r.value)["event_id"] for r in records]


def test_a_valid_event_of_each_source_reaches_its_clean_topic(
    kafka_broker: Broker, pipeline: Worker
) -> None:
    """Each upstream's event comes out validated, once, on its own clean topic, keyed by event id."""
    settings = pipeline.settings
    events = {source: make_event(source) for source in Source}
    for source, event in events.items():
        publish(
            kafka_broker.bootstrap,
            RAW[source].name(settings.namespace),
            [(event["event_id"].encode(), to_bytes(event))],
        )
    wanted = {e["event_id"] for e in events.values()}
    records = read_until(
        kafka_broker.bootstrap,
        _clean_topics(settings),
        lambda rs: wanted <= set(_ids(rs)),
        what="one clean record per source",
    )
    for record in records:
        if json.loads(record.value)["event_id"] in wanted:
            source = Source(json.loads(record.value)["source"])
            assert record.topic == CLEAN[source].name(settings.namespace)
            assert record.key == json.loads(record.value)["event_id"].encode()
            assert (
                dict(record.headers)["kesu-origin"]
                .decode()
                .startswith(RAW[source].name(settings.namespace))
            )


def test_every_hostile_input_is_dead_lettered_with_reason_and_exact_bytes(
    kafka_broker: Broker, pipeline: Worker
) -> None:
    """H1: each bad-input class becomes a dead letter with its reason code and the original bytes."""
    settings = pipeline.settings
    cases = [c for c in hostile.cases() if c.payload is None or len(c.payload) < _KAFKA_MAX]
    topic = RAW[Source.CALL].name(settings.namespace)
    records = [(f"case:{case.name}".encode(), case.payload) for case in cases]
    records.append((b"case:tombstone", None))
    publish(kafka_broker.bootstrap, topic, records)

    def letters_by_case(found: list[Any]) -> dict[str, DeadLetter]:
        letters = [DeadLetter.model_validate_json(r.value) for r in found]
        return {
            letter.original_key.to_bytes().decode(): letter
            for letter in letters
            if letter.original_key is not None
            and letter.origin is not None
            and letter.origin.topic == topic
        }

    found = read_until(
        kafka_broker.bootstrap,
        [DLQ.name(settings.namespace)],
        lambda rs: len(letters_by_case(rs)) == len(records),
        what=f"{len(records)} dead letters",
    )
    letters = letters_by_case(found)
    for case in cases:
        letter = letters[f"case:{case.name}"]
        assert letter.reason is case.reason, f"{case.name}: {letter.reason} {letter.message}"
        assert letter.original.to_bytes() == (case.payload or b""), case.name
        assert letter.original.sha256 == hashlib.sha256(case.payload or b"").hexdigest()
        assert letter.source is Source.CALL
        assert letter.origin is not None and letter.origin.topic == topic
        assert letter.event_id == _readable_id(case.payload), case.name
    assert letters["case:tombstone"].reason.value == "EMPTY"
    # and none of them leaked onto a clean topic
    clean = read_all(kafka_broker.bootstrap, _clean_topics(settings))
    assert not [r for r in clean if r.key and r.key.startswith(b"case:")]


def _readable_id(payload: bytes | None) -> str | None:
    """The event id a person could read in the bytes (independent of streams.codec)."""
    try:
        value = json.loads(payload or b"")
    except (ValueError, RecursionError):
        return None
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) and event_id.isprintable() else None


def test_good_events_keep_flowing_between_bad_ones(kafka_broker: Broker, pipeline: Worker) -> None:
    """R6: a partition with poison in it does not stop: the good events around it get through,
    each bad one is a dead letter with its reason, the partition's lag returns to 0, and the
    worker that read them is the one still running (no crash, no restart)."""
    settings = pipeline.settings
    topic = RAW[Source.SOCIAL].name(settings.namespace)
    good = [make_event(Source.SOCIAL) for _ in range(20)]
    bad = [*hostile.cases()[:9], hostile.by_name()["control-chars-800kb"]]
    worker_process = pipeline.process
    key = f"r6-{settings.namespace}".encode()
    mixed: list[tuple[bytes | None, bytes | None]] = []
    for index, event in enumerate(good):
        mixed.append((key, to_bytes(event)))
        if index < len(bad):
            mixed.append((key, bad[index].payload))
    publish(kafka_broker.bootstrap, topic, mixed)
    wanted = {e["event_id"] for e in good}
    clean = read_until(
        kafka_broker.bootstrap,
        [CLEAN[Source.SOCIAL].name(settings.namespace)],
        lambda rs: wanted <= set(_ids(rs)),
        what="all 20 good posts",
    )

    def letters(found: list[Any]) -> list[DeadLetter]:
        read = [DeadLetter.model_validate_json(r.value) for r in found]
        return [
            letter
            for letter in read
            if letter.original_key is not None and letter.original_key.to_bytes() == key
        ]

    dead = letters(
        read_until(
            kafka_broker.bootstrap,
            [DLQ.name(settings.namespace)],
            lambda rs: len(letters(rs)) >= len(bad),
            what=f"{len(bad)} dead letters",
        )
    )
    assert sorted(letter.reason.value for letter in dead) == sorted(c.reason.value for c in bad)
    wait_caught_up(kafka_broker.bootstrap, settings.namespace, [topic])
    assert pipeline.process is worker_process and worker_process is not None
    assert worker_process.process is not None and worker_process.process.poll() is None
    clean_ids = [i for i in _ids(clean) if i in wanted]
    report(
        TrialRow(
            trial="R6 poison pills (10 among 20)",
            sent=len(mixed),
            accepted=len(good),
            processed=len(set(clean_ids)),
            lost=len(wanted - set(clean_ids)),
            duplicated=len(clean_ids) - len(set(clean_ids)),
            note=f"{len(dead)} dead letters, each with its reason; lag 0; worker not restarted",
        )
    )


def test_same_event_id_sent_twice_yields_one_clean_event(
    kafka_broker: Broker, pipeline: Worker
) -> None:
    """An upstream retry — keyed, unkeyed, on any partition — is one event."""
    settings = pipeline.settings
    event = make_event(Source.LOGISTICS)
    topic = RAW[Source.LOGISTICS].name(settings.namespace)
    publish(
        kafka_broker.bootstrap,
        topic,
        [
            (event["event_id"].encode(), to_bytes(event)),
            (None, to_bytes(event)),
            (b"other-key", to_bytes(event)),
        ],
    )
    wait_caught_up(
        kafka_broker.bootstrap, settings.namespace, [topic, VALID.name(settings.namespace)]
    )
    clean = read_all(kafka_broker.bootstrap, [CLEAN[Source.LOGISTICS].name(settings.namespace)])
    assert _ids(clean).count(event["event_id"]) == 1


def test_sigusr1_logs_each_stream_partitions_commit_bookkeeping_and_the_worker_goes_on(
    kafka_broker: Broker, pipeline: Worker
) -> None:
    """What a stalled trial prints (its task stacks and why each partition's commit is where it
    is); asking must not disturb the worker."""
    settings = pipeline.settings
    assert pipeline.process is not None
    pipeline.process.signal(signal.SIGUSR1)
    pipeline.process.wait_for("commit bookkeeping: ", timeout=30)
    line = next(x for x in pipeline.output().splitlines() if "commit bookkeeping: " in x)
    assert "committed=" in line and "in_flight=" in line and "position=" in line
    event = make_event(Source.SOCIAL)
    topic = RAW[Source.SOCIAL].name(settings.namespace)
    publish(kafka_broker.bootstrap, topic, [(event["event_id"].encode(), to_bytes(event))])
    wait_caught_up(kafka_broker.bootstrap, settings.namespace, [topic])
    clean = read_all(kafka_broker.bootstrap, [CLEAN[Source.SOCIAL].name(settings.namespace)])
    assert event["event_id"] in _ids(clean)


@pytest.mark.parametrize("fresh_state", [False, True], ids=["same-data-dir", "fresh-data-dir"])
def test_duplicate_across_a_worker_restart_yields_one_clean_event(
    kafka_broker: Broker,
    make_settings: SettingsFactory,
    worker_factory: WorkerFactory,
    tmp_path: Path,
    fresh_state: bool,
) -> None:
    """A retry after a restart is still recognised — from the local store, or (fresh disk, as on a
    new machine) from the table's changelog topic in Kafka."""
    settings = make_settings()
    topic = RAW[Source.CALL].name(settings.namespace)
    clean_topic = CLEAN[Source.CALL].name(settings.namespace)
    event = make_event(Source.CALL)
    worker = worker_factory(settings)
    publish(kafka_broker.bootstrap, topic, [(event["event_id"].encode(), to_bytes(event))])
    read_until(
        kafka_broker.bootstrap,
        [clean_topic],
        lambda rs: event["event_id"] in _ids(rs),
        what="first copy",
    )
    wait_caught_up(
        kafka_broker.bootstrap, settings.namespace, [topic, VALID.name(settings.namespace)]
    )
    worker.stop()

    if fresh_state:
        settings = settings.model_copy(update={"data_dir": tmp_path / "new-disk"})
    worker_factory(settings)
    later = make_event(Source.CALL)
    publish(
        kafka_broker.bootstrap,
        topic,
        [
            (event["event_id"].encode(), to_bytes(event)),
            (later["event_id"].encode(), to_bytes(later)),
        ],
    )
    read_until(
        kafka_broker.bootstrap,
        [clean_topic],
        lambda rs: later["event_id"] in _ids(rs),
        what="event after restart",
    )
    wait_caught_up(
        kafka_broker.bootstrap, settings.namespace, [topic, VALID.name(settings.namespace)]
    )
    assert _ids(read_all(kafka_broker.bootstrap, [clean_topic])).count(event["event_id"]) == 1


def test_the_seen_ids_changelog_forgets_after_the_event_age_limit(
    kafka_broker: Broker, pipeline: Worker
) -> None:
    """Compacted and deleted after max_event_age + skew + a day: its size stays bounded."""
    settings = pipeline.settings
    configs = topic_config(kafka_broker.bootstrap, f"{settings.namespace}-seen-events-changelog")
    keep = settings.max_event_age + settings.max_future_skew + timedelta(days=1)
    assert configs["cleanup.policy"] == "compact,delete", configs
    assert configs["retention.ms"] == str(int(keep.total_seconds() * 1000))
