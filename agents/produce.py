"""A batch's outputs as whole record batches, one per topic partition.

aiokafka's `send` spends per record a partitioner call, a future and, as often as not, a new
in-memory batch (its sender drains the last one between two sends): ~0.1 ms of the worker's
CPU per output at the ladder's drain (issue #17). A batch of outputs is confirmed as a whole
anyway (agents/batches), so here each partition's records are appended, in order, to record
batches of their own and submitted with `send_batch`: one future per partition instead of one
per record. Records go to the partition `send` would have chosen (Kafka's default
partitioner: murmur2 of the key), so a key's records stay on one partition and in order.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError
from aiokafka.partitioner import murmur2

#: Answers that no retry can change: the record itself is too large for the topic.
PERMANENT = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)

#: Seconds before the first re-send of a failed batch, and the most between two.
FIRST_RETRY_DELAY = 0.2
MAX_RETRY_DELAY = 5.0


def retry_delays() -> Iterator[float]:
    """The waits before each re-send: doubling from `FIRST_RETRY_DELAY` up to
    `MAX_RETRY_DELAY`, then that, for as long as the caller keeps asking (a broker away for
    an hour is waited for, not given up on: nothing accepted may be lost)."""
    delay = FIRST_RETRY_DELAY
    while True:
        yield delay
        delay = min(delay * 2, MAX_RETRY_DELAY)


class Record(Protocol):
    """What is sent: a staged output of agents/batches, or a changelog record
    (agents/changelog), which names its partition."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None

    @property
    def partition(self) -> int | None: ...


def default_partition(key: bytes | None, partitions: Sequence[int]) -> int:
    """The partition Kafka's default partitioner puts `key` on (the Java, kafka-python and
    aiokafka clients agree); a record without a key goes to any partition."""
    if key is None:
        return random.choice(partitions)  # noqa: S311  # spreading load, not a secret
    return partitions[int(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


class PartitionSendError(Exception):
    """Kafka did not take a partition's records; the client's error is the `__cause__`."""

    def __init__(self, topic: str, partition: int) -> None:
        super().__init__(f"send to {topic}[{partition}] failed")
        self.topic = topic
        self.partition = partition


async def send_by_partition(producer: Any, records: Sequence[Record]) -> dict[tuple[str, int], int]:
    """Send `records` and return once Kafka has acknowledged them all: the offset of the last
    record written to each (topic, partition). Raise the first error, as a
    `PartitionSendError` naming where (the client's error is its cause).

    `producer` is an `aiokafka.AIOKafkaProducer`. A record goes to its own partition if it
    names one, else to its key's. A partition's records keep their order: its record batches
    are submitted one after another (aiokafka queues each behind the last). After an error
    some records may have been written: the caller re-sends, and consumers de-duplicate on
    ids (at-least-once, as for any retry).
    """
    by_partition: dict[tuple[str, int], list[Record]] = {}
    partitions_of: dict[str, list[int]] = {}
    for record in records:
        partition = record.partition
        if partition is None:
            partitions = partitions_of.get(record.topic)
            if partitions is None:
                partitions = partitions_of[record.topic] = sorted(
                    await producer.partitions_for(record.topic)
                )
            partition = default_partition(record.key, partitions)
        by_partition.setdefault((record.topic, partition), []).append(record)
    tps = list(by_partition)
    results = await asyncio.gather(
        *(_send_partition(producer, tp, by_partition[tp]) for tp in tps),
        return_exceptions=True,
    )
    last: dict[tuple[str, int], int] = {}
    for tp, result in zip(tps, results, strict=True):
        if isinstance(result, asyncio.CancelledError):
            raise result
        if isinstance(result, BaseException):
            raise PartitionSendError(*tp) from result
        last[tp] = result
    return last


async def _send_partition(producer: Any, tp: tuple[str, int], records: list[Record]) -> int:
    """The records in order, as record batches; the offset of the last one written."""
    delivered: list[tuple[asyncio.Future[Any], int]] = []
    try:
        builder = producer.create_batch()
        for record in records:
            if _append(builder, record) is None:  # full: submit it, start the next
                delivered.append(await _submit(producer, builder, tp))
                builder = producer.create_batch()
                _append(builder, record)  # an empty batch always takes its first record
        delivered.append(await _submit(producer, builder, tp))
    except BaseException:
        for future, _ in delivered:  # their outcome no longer matters: the caller re-sends
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        raise
    results = await asyncio.gather(*(f for f, _ in delivered), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    first_of_last: Any = results[-1]  # a record batch's metadata carries its first offset
    return int(first_of_last.offset) + delivered[-1][1] - 1


async def _submit(producer: Any, builder: Any, tp: tuple[str, int]) -> tuple[Any, int]:
    count = builder.record_count()
    return await producer.send_batch(builder, tp[0], partition=tp[1]), count


def _append(builder: Any, record: Record) -> Any:
    return builder.append(
        timestamp=None, key=record.key, value=record.value, headers=record.headers or []
    )
