"""agents/produce.py against aiokafka's own record batches (no broker): which partition each
output goes to, in which order, in how many batches, and what a failure does."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.memory_records import MemoryRecords

from agents.produce import (
    MAX_RETRY_DELAY,
    PartitionSendError,
    default_partition,
    retry_delays,
    send_by_partition,
)


@dataclass
class Out:
    topic: str
    key: bytes | None
    value: bytes | None = b"v"
    headers: list[tuple[str, bytes]] | None = None
    partition: int | None = None


@dataclass
class Client:
    """The part of `AIOKafkaProducer` agents/produce uses; real `BatchBuilder`s, read back on
    submission. `fail` fails the futures of the batches sent to those partitions."""

    partitions: int = 4
    batch_size: int = 16384
    fail: dict[tuple[str, int], BaseException] = field(default_factory=dict)
    sent: list[tuple[str, int, list[bytes | None]]] = field(default_factory=list)
    #: the next offset of each (topic, partition)'s log
    ends: dict[tuple[str, int], int] = field(default_factory=dict)

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.partitions))

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0)

    async def send_batch(self, builder: BatchBuilder, topic: str, *, partition: int) -> Any:
        records = MemoryRecords(bytes(builder._build())).next_batch()
        assert records is not None
        keys = [record.key for record in records]
        self.sent.append((topic, partition, keys))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        error = self.fail.get((topic, partition))
        if error is None:
            first = self.ends.get((topic, partition), 0)
            self.ends[(topic, partition)] = first + len(keys)
            future.set_result(SimpleNamespace(offset=first))  # as aiokafka's RecordMetadata
        else:
            future.set_exception(error)
        return future


def test_a_key_goes_where_kafkas_default_partitioner_puts_it() -> None:
    partitioner = DefaultPartitioner()
    for count in (1, 3, 8, 12):
        partitions = list(range(count))
        for n in range(300):
            key = f"case:客户-{n}".encode()
            assert default_partition(key, partitions) == partitioner(key, partitions, partitions)


def test_a_record_without_a_key_goes_to_one_of_the_partitions() -> None:
    assert {default_partition(None, [0, 1, 2]) for _ in range(200)} <= {0, 1, 2}


@pytest.mark.asyncio
async def test_each_partition_gets_one_batch_with_its_records_in_order() -> None:
    client = Client()
    outputs = [Out("t.a", f"k{n % 5}".encode(), f"{n}".encode()) for n in range(40)]
    outputs += [Out("t.b", b"k1"), Out("t.a", b"k1")]
    await send_by_partition(client, outputs)
    expected: dict[tuple[str, int], list[bytes | None]] = {}
    for out in outputs:
        tp = (out.topic, default_partition(out.key, list(range(4))))
        expected.setdefault(tp, []).append(out.key)
    assert {(topic, p): keys for topic, p, keys in client.sent} == expected
    assert len(client.sent) == len(expected), "one batch per topic partition"


@pytest.mark.asyncio
async def test_a_record_naming_its_partition_goes_there_and_the_last_offsets_are_returned() -> None:
    client = Client(partitions=4)
    client.ends[("t.log", 3)] = 100
    outputs = [Out("t.log", b"a", partition=3), Out("t.log", b"b", partition=3)]
    outputs += [Out("t.log", b"c", partition=0), Out("t.a", b"k")]
    last = await send_by_partition(client, outputs)
    assert ("t.log", 3, [b"a", b"b"]) in client.sent and ("t.log", 0, [b"c"]) in client.sent
    keyed = ("t.a", default_partition(b"k", [0, 1, 2, 3]))
    assert last == {("t.log", 3): 101, ("t.log", 0): 0, keyed: 0}


@pytest.mark.asyncio
async def test_the_last_offset_counts_every_batch_of_a_partition() -> None:
    client = Client(partitions=1, batch_size=1024)
    last = await send_by_partition(
        client, [Out("t.a", f"k{n}".encode(), b"x" * 200) for n in range(12)]
    )
    assert len(client.sent) > 1 and last == {("t.a", 0): 11}


@pytest.mark.asyncio
async def test_a_full_batch_is_sent_and_the_next_one_takes_the_rest_in_order() -> None:
    client = Client(partitions=1, batch_size=1024)
    outputs = [Out("t.a", f"k{n}".encode(), b"x" * 200) for n in range(12)]
    await send_by_partition(client, outputs)
    assert len(client.sent) > 1, "1 KB batches cannot hold 2.4 KB"
    assert [key for _, _, keys in client.sent for key in keys] == [o.key for o in outputs]


@pytest.mark.asyncio
async def test_a_record_larger_than_a_batch_goes_in_one_of_its_own() -> None:
    client = Client(partitions=1, batch_size=1024)
    await send_by_partition(client, [Out("t.a", b"small"), Out("t.a", b"big", b"x" * 5000)])
    assert [keys for _, _, keys in client.sent] == [[b"small"], [b"big"]]


@pytest.mark.asyncio
async def test_a_failed_batch_raises_after_every_batch_was_submitted() -> None:
    client = Client(partitions=1)
    client.fail[("t.b", 0)] = KafkaTimeoutError()
    with pytest.raises(PartitionSendError) as raised:
        await send_by_partition(client, [Out("t.a", b"k"), Out("t.b", b"k"), Out("t.c", b"k")])
    assert sorted(topic for topic, _, _ in client.sent) == ["t.a", "t.b", "t.c"]
    assert (raised.value.topic, raised.value.partition) == ("t.b", 0)
    assert isinstance(raised.value.__cause__, KafkaTimeoutError), "the client's error is kept"


def test_retry_delays_double_up_to_the_cap_and_never_run_out() -> None:
    delays = retry_delays()
    first = [next(delays) for _ in range(8)]
    assert first[:3] == [0.2, 0.4, 0.8]
    assert first[-1] == MAX_RETRY_DELAY
    assert all(a <= b for a, b in itertools.pairwise(first))
    assert all(next(delays) == MAX_RETRY_DELAY for _ in range(100))
