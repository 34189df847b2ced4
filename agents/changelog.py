"""A batch's table writes: into each table's local store, and to its changelog as record batches.

Faust's `table[key] = value` sends one changelog record per write through its own send buffer
(a `FutureMessage`, the buffer task's `send`, then a callback that writes the persisted offset
into RocksDB for every record): about 14 % of the worker's CPU at the ladder's drain (issue
#17). Here the batch's writes go to the stores with the very bytes Faust would write (a
RocksDB store's encoding is its changelog's: recovery copies changelog bytes into the store),
their changelog records go out as one record batch per partition (agents/produce), the batch
waits for Kafka to have them, and each store then remembers its partition's last changelog
offset once — what Faust's callback does per record — so a recovery reads only what came after.

Only for tables whose store serializes (RocksDB); the in-memory store keeps Python values and
takes Faust's own path (`agents/batches.apply_writes`), as does exactly_once, whose persisted
offsets Faust defers to the commit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from faust.stores.base import SerializedStore
from faust.types import TP

from agents.produce import retry_delays, send_by_partition
from kesu.metrics import KAFKA_SEND_RETRIES

log = logging.getLogger(__name__)


@dataclass
class ChangelogRecord:
    """One write as its changelog record (a delete is a tombstone: value None)."""

    table: Any
    topic: str
    key: bytes | None
    value: bytes | None
    partition: int
    headers: list[tuple[str, bytes]] | None = None


def serialized(table: Any) -> bool:
    """True when `table` keeps bytes (RocksDB): its writes can take this path."""
    return isinstance(table.data, SerializedStore)


def store_write(table: Any, key: str, value: Any, partition: int) -> ChangelogRecord | None:
    """Write `table[key] = value` (None deletes) into the table's store, on `partition` (the
    current event's, as Faust's store reads it); the changelog record it needs (None: a
    delete of nothing, for which Faust's `pop` sends no tombstone either)."""
    store = table.data
    topic = table.changelog_topic.get_topic_name()
    key_bytes = store._encode_key(key)
    if value is None:
        if not store._contains(key_bytes):
            return None
        store._del(key_bytes)
        return ChangelogRecord(table, topic, key_bytes, None, partition)
    value_bytes = store._encode_value(value)
    store._set(key_bytes, value_bytes)
    return ChangelogRecord(table, topic, key_bytes, value_bytes, partition)


async def send_changelogs(producer: Any, records: list[ChangelogRecord], name: str) -> None:
    """Send `records` until Kafka has them all, then set each store's persisted offsets (the
    tables are found by their changelog topic)."""
    delays = retry_delays()
    while True:
        try:
            last = await send_by_partition(producer, records)
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # re-sent whole: a changelog keeps a key's last value
            for topic in sorted({record.topic for record in records}):
                KAFKA_SEND_RETRIES.labels(topic).inc()
            delay = next(delays)
            log.warning("%s: changelog send failed (%s); re-sending in %.1f s", name, exc, delay)
            await asyncio.sleep(delay)
    tables = {record.topic: record.table for record in records}
    for (topic, partition), offset in last.items():
        tables[topic].data.set_persisted_offset(TP(topic, partition), offset)
