"""Record batches as the broker stored them, read from its log segment files.

A producer's request carries one record batch per partition, and the broker appends each
batch as it came (no re-batching for uncompressed v2 batches), so the batches on disk say how
many records each produce call carried, and their max timestamps say when the last record
of a run was sent. The bench starts its own broker, so its log directory is ours to read.
Only the v2 batch header is parsed (Kafka >= 0.11; the records themselves are skipped).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
# baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordsCount
_HEADER = struct.Struct(">qiibIhiqqqhii")
_LENGTH_PREFIX = 12  # baseOffset + batchLength: batchLength counts the bytes after these
_CONTROL = 0x20


@dataclass(frozen=True)
class Batch:
    base_offset: int
    records: int
    max_timestamp_ms: int
    control: bool


def parse_batches(data: bytes) -> Iterator[Batch]:
    """The record batches in the bytes of one segment file, in order."""
    position = 0
    while position + _HEADER.size <= len(data):
        (base, length, _epoch, magic, _crc, attributes, _delta, _first, max_ts, *_rest, count) = (
            _HEADER.unpack_from(data, position)
        )
        if length <= 0 or position + _LENGTH_PREFIX + length > len(data):
            return  # the end of what was written (or a batch still being appended)
        if magic != 2:
            raise ValueError(f"record batch magic {magic} at byte {position}: only v2 is read")
        yield Batch(base, count, max_ts, bool(attributes & _CONTROL))
        position += _LENGTH_PREFIX + length


def partition_batches(log_dir: Path, topic: str, partition: int) -> list[Batch]:
    """Every batch of one partition, over all its segments, oldest first."""
    directory = log_dir / f"{topic}-{partition}"
    out: list[Batch] = []
    for segment in sorted(directory.glob("*.log")):
        out.extend(parse_batches(segment.read_bytes()))
    return out


@dataclass(frozen=True)
class Appended:
    """What producers appended to some partitions after given offsets."""

    records: int
    batches: int
    last_timestamp_ms: int | None
    by_topic: dict[str, int]


def appended_since(log_dir: Path, starts: dict[tuple[str, int], int]) -> Appended:
    """Data batches (control markers excluded) whose first offset is at or past `starts`."""
    records = batches = 0
    last: int | None = None
    by_topic: dict[str, int] = {}
    for (topic, partition), start in starts.items():
        for batch in partition_batches(log_dir, topic, partition):
            if batch.control or batch.base_offset < start:
                continue
            records += batch.records
            batches += 1
            by_topic[topic] = by_topic.get(topic, 0) + batch.records
            last = batch.max_timestamp_ms if last is None else max(last, batch.max_timestamp_ms)
    return Appended(records, batches, last, dict(sorted(by_topic.items())))
