"""R6, poison pills on the real broker: inputs that once stopped a partition or crash-looped the
worker are refused with a reason (HTTP 4xx, or a dead letter), and everything after them flows.

The hostile classes common to both paths are in tests/hostile.py (test_validate.py and
test_ingest_http.py run them); this module holds the ones with a history of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from streams.records import DeadLetter, DelayMapEntry, RejectReason, Source
from streams.topics import DELAY_MAP, DLQ, LOGISTICS_CHANGES, PIPELINE_PARTITIONS, RAW
from tests.conftest import ApiServer, Broker, SettingsFactory, Worker
from tests.factories import iso, make_event, now_utc, to_bytes
from tests.integration.support import eventually, publish, read_until


@pytest.fixture(scope="module")
def service(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Worker, ApiServer]]:
    """A worker (due checks every second) and an API on a fresh namespace."""
    settings = make_settings(logistics_check_interval=timedelta(seconds=1))
    _plant_unreadable_order(settings.kafka_bootstrap, settings.namespace)
    worker = Worker(settings, tmp_path_factory.mktemp("poison-logs")).start()
    api = ApiServer(settings).start()
    yield worker, api
    api.stop()
    worker.stop()


#: A promise the records now refuse (year 9999), stored before dates were bounded: at every
#: start the due-time index rebuild overflowed on it and the worker crash-looped.
_STORED_BEFORE_BOUNDS = {
    "order_id": "o-stored-9999",
    "customer_id": "c-stored",
    "status": "in_transit",
    "promised_at": "9999-12-31T00:00:00Z",
    "region": "华北-北京",
    "carrier": "顺达快运",
}


def _plant_unreadable_order(bootstrap: str, namespace: str) -> None:
    """Write that order into the orders table's changelog, as an old worker would have."""
    topic = f"{namespace}-orders-changelog"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:  # as Faust creates it: partitioned like its source, compacted
        admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=LOGISTICS_CHANGES.partition_count(PIPELINE_PARTITIONS),
                    replication_factor=1,
                    topic_configs={"cleanup.policy": "compact"},
                )
            ]
        )
    finally:
        admin.close()
    key = json.dumps("o-stored-9999").encode()
    value = json.dumps(json.dumps(_STORED_BEFORE_BOUNDS)).encode()  # the table stores JSON text
    publish(bootstrap, topic, [(key, value)])


def _far_dates() -> list[tuple[str, dict[str, Any]]]:
    now = now_utc()
    return [
        ("promise-in-9999", {"promised_at": "9999-12-31T00:00:00Z"}),
        ("promise-in-0001", {"promised_at": "0001-01-01T00:00:00+01:00"}),
        ("promise-two-years-on", {"promised_at": iso(now + timedelta(days=800))}),
        ("estimate-two-years-back", {"estimated_at": iso(now - timedelta(days=800))}),
    ]


@pytest.mark.parametrize(("name", "dates"), _far_dates())
def test_a_delivery_date_far_from_the_event_is_refused_over_http(
    service: tuple[Worker, ApiServer], name: str, dates: dict[str, Any]
) -> None:
    """422 naming the field, never 202 (it used to be accepted and crash the worker later)."""
    _, api = service
    event = make_event(Source.LOGISTICS, event_id=f"http-{name}", **dates)
    response = httpx.post(
        f"{api.url}/v1/events/logistics", json=event, headers=api.headers("ingest"), timeout=30
    )
    assert response.status_code == 422, response.text
    field = next(iter(dates))
    assert field in json.dumps(response.json()["rejected"])


def test_far_delivery_dates_over_kafka_are_dead_lettered_as_invalid_fields(
    kafka_broker: Broker, service: tuple[Worker, ApiServer]
) -> None:
    """Each one becomes an INVALID_FIELD dead letter carrying its event id and source."""
    worker, _ = service
    topic = RAW[Source.LOGISTICS].name(worker.settings.namespace)
    events = [
        make_event(Source.LOGISTICS, event_id=f"kafka-{name}", **dates)
        for name, dates in _far_dates()
    ]
    publish(kafka_broker.bootstrap, topic, [(e["event_id"].encode(), to_bytes(e)) for e in events])
    wanted = {e["event_id"] for e in events}

    def letters(records: list[Any]) -> dict[str, DeadLetter]:
        found = [DeadLetter.model_validate_json(r.value) for r in records]
        return {d.event_id: d for d in found if d.event_id in wanted}

    found = read_until(
        kafka_broker.bootstrap,
        [DLQ.name(worker.settings.namespace)],
        lambda rs: len(letters(rs)) == len(wanted),
        what="a dead letter per far date",
    )
    for letter in letters(found).values():
        assert letter.reason is RejectReason.INVALID_FIELD, letter.message
        assert letter.source is Source.LOGISTICS


def test_an_unreadable_stored_order_neither_crashes_nor_stops_the_worker(
    kafka_broker: Broker, service: tuple[Worker, ApiServer]
) -> None:
    """The bad entry is logged and skipped at the index rebuild; new orders are still tracked."""
    worker, _ = service
    eventually(
        lambda: "(1 unreadable)" in worker.output(),
        timeout=60,
        what="the due index rebuilt around the unreadable order",
    )
    late = make_event(Source.LOGISTICS, order_id="o-after-poison")
    publish(
        kafka_broker.bootstrap,
        RAW[Source.LOGISTICS].name(worker.settings.namespace),
        [(late["event_id"].encode(), to_bytes(late))],
    )
    read_until(
        kafka_broker.bootstrap,
        [DELAY_MAP.name(worker.settings.namespace)],
        lambda rs: any(
            r.value and DelayMapEntry.model_validate_json(r.value).order_id == "o-after-poison"
            for r in rs
        ),
        what="the new order on the delay map",
    )
    assert worker.process is not None and worker.process.process.poll() is None
    assert "OverflowError" not in worker.output()
