"""agents/changelog.py on the worker's real RocksDB tables (no broker): a write lands in the
store on its event's partition with the bytes Faust's own changelog record would carry (a
recovery copies those bytes into the store), a delete is a tombstone, and the store remembers
its partition's last changelog offset once Kafka has the records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from faust.types import TP

from agents import produce
from agents.app import create_app
from agents.batches import Batch, set_current, write_tables
from agents.changelog import send_changelogs, serialized, store_write
from kesu.metrics import KAFKA_SEND_RETRIES
from kesu.settings import Settings
from tests.unit.agents.test_batches import FakeEvent, FakeMessage, Producer
from tests.unit.agents.test_produce import Client


@pytest.fixture
def tables(tmp_path: Path) -> Any:
    app = create_app(
        Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1", namespace="x", data_dir=tmp_path)
    )
    return {table.name: table for table in app.tables.values()}


_HELD: list[FakeEvent] = []


def _on(partition: int) -> None:
    """Make an event of `partition` current (Faust holds it by a weak reference: kept here)."""
    _HELD.append(FakeEvent(FakeMessage(partition=partition)))
    set_current(_HELD[-1])  # type: ignore[arg-type]


def test_a_write_carries_the_bytes_of_fausts_own_changelog_record(tables: Any) -> None:
    for table, key, value in [
        (tables["seen-events"], "call:e-1", 1765000000),
        (tables["cases"], "customer:c1", '{"case_key":"customer:c1","n":3}'),
    ]:
        _on(2)
        record = store_write(table, key, value, 2)
        assert record is not None
        topic = table.changelog_topic
        assert record.topic == topic.get_topic_name() and record.partition == 2
        assert record.key == topic.prepare_key(key, table.key_serializer)[0]
        assert record.value == topic.prepare_value(value, table.value_serializer)[0]
        assert table.data[key] == value, "in the store, on the event's partition"
        _on(1)
        assert key not in table.data, "not on another partition"
    set_current(None)


def test_a_delete_is_a_tombstone_and_deleting_nothing_sends_nothing(tables: Any) -> None:
    table = tables["orders"]
    _on(0)
    store_write(table, "SO1", '{"order_id":"SO1"}', 0)
    record = store_write(table, "SO1", None, 0)
    assert record is not None and record.value is None and record.key is not None
    assert "SO1" not in table.data
    assert store_write(table, "SO1", None, 0) is None
    set_current(None)


@pytest.mark.asyncio
async def test_the_store_remembers_the_last_offset_kafka_gave_each_partition(tables: Any) -> None:
    table = tables["seen-events"]
    client = Client(partitions=4)
    topic = table.changelog_topic.get_topic_name()
    client.ends[(topic, 3)] = 40
    records = []
    for n, partition in enumerate([3, 3, 1]):
        _on(partition)
        records.append(store_write(table, f"call:e-{n}", n, partition))
    set_current(None)
    await send_changelogs(client, [r for r in records if r is not None], "test")
    assert table.data.persisted_offset(TP(topic, 3)) == 41
    assert table.data.persisted_offset(TP(topic, 1)) == 0
    assert table.data.persisted_offset(TP(topic, 0)) is None


@pytest.mark.asyncio
async def test_a_batch_writes_its_last_value_per_key_and_sends_one_record_each(
    tables: Any,
) -> None:
    table = tables["seen-events"]
    producer = Producer(client=Client(partitions=4))
    batch = Batch(SimpleApp(producer), "t.dlq", lambda: None)  # type: ignore[arg-type]
    batch.current = FakeEvent(FakeMessage(partition=2))  # type: ignore[assignment]
    batch.put(table, "call:e-1", 1)
    batch.put(table, "call:e-1", 2)
    batch.put(table, "call:e-2", 3)
    assert serialized(table)
    await write_tables(batch.app, batch, "test")
    _on(2)
    assert (table.data["call:e-1"], table.data["call:e-2"]) == (2, 3)
    set_current(None)
    topic = table.changelog_topic.get_topic_name()
    keys = [
        table.changelog_topic.prepare_key(k, table.key_serializer)[0]
        for k in ("call:e-1", "call:e-2")
    ]
    assert producer.client.sent == [(topic, 2, keys)]


class SimpleApp:
    def __init__(self, producer: Producer) -> None:
        self.producer = producer
        self.in_transaction = False


@pytest.mark.asyncio
async def test_a_failed_changelog_send_is_retried_and_counted(
    tables: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing acknowledged before the changelog is in Kafka: a failure re-sends the lot."""
    monkeypatch.setattr(produce, "FIRST_RETRY_DELAY", 0.0)
    table = tables["seen-events"]
    topic = table.changelog_topic.get_topic_name()
    client = FlakyClient(partitions=4, failures=2)
    _on(1)
    record = store_write(table, "call:e-9", 9, 1)
    set_current(None)
    assert record is not None
    retries = KAFKA_SEND_RETRIES.labels(topic)._value.get()
    await send_changelogs(client, [record], "test")
    assert [tp for _, tp, _ in client.sent] == [1, 1, 1], "two failures, then delivered"
    assert KAFKA_SEND_RETRIES.labels(topic)._value.get() == retries + 2
    assert table.data.persisted_offset(TP(topic, 1)) == 0


class FlakyClient(Client):
    """Fails the first `failures` record batches (a broker that is briefly away)."""

    def __init__(self, partitions: int, failures: int) -> None:
        super().__init__(partitions=partitions)
        self.failures = failures

    async def send_batch(self, builder: Any, topic: str, *, partition: int) -> Any:
        if self.failures:
            self.failures -= 1
            self.fail[(topic, partition)] = KafkaTimeoutError()
        else:
            self.fail.pop((topic, partition), None)
        return await super().send_batch(builder, topic, partition=partition)
