"""The worker's Kafka consumer: Faust's own, except that when it seeks its stream partitions
back to their committed offsets, a partition the group never committed goes back to its start.

Why (faust-streaming #216/#523, found by the crash trials): while Faust restores its tables it
keeps fetching stream partitions, drops what it fetched, and then seeks each back to its
committed offset. aiokafka's `seek_to_committed` leaves a partition without a committed offset
(or with offset 0) where the fetch left it, so the records already waiting there were skipped
for good — on a worker that rebuilt its tables after a crash before its first commit, or on a
new disk, for any partition never committed yet.

Where: inside the consumer thread, in the same call as aiokafka's own seek, so no fetch of
Faust's can come between the two (an earlier fix rewound from the event loop after Faust's
seek, and raced with deliveries). Flow is stopped whenever Faust calls this (recovery and the
"flow not active" path of getmany), so nothing fetched before the rewind is still delivered.
Changelog partitions are left alone: recovery positions them itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from faust.types.transports import TransportT

log = logging.getLogger(__name__)


class RewindingConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Seeks to committed offsets, and never-committed stream partitions to their beginning."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)  # type: ignore[no-any-return]

    async def _seek_to_committed_or_beginning(self) -> Mapping[TP, int]:
        consumer = self._ensure_consumer()
        committed: Mapping[TP, int] = await consumer.seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        never = [
            TopicPartition(tp.topic, tp.partition)
            for tp, offset in committed.items()
            if not offset and tp.topic not in changelogs
        ]
        if never:
            await consumer.seek_to_beginning(*never)
            log.info("read %d never-committed stream partition(s) from the start", len(never))
        return committed


class RewindingConsumer(aiokafka_driver.Consumer):
    def _new_consumer_thread(self) -> RewindingConsumerThread:
        return RewindingConsumerThread(self, loop=self.loop, beacon=self.beacon)


class RewindingTransport(aiokafka_driver.Transport):
    Consumer = RewindingConsumer


#: RocksDB sizing for every table partition (Faust's defaults: 64 MiB write buffers x 3 and a
#: 2 GiB block cache per partition, sized for one big table, not 6 tables x N partitions of
#: small records). Unflushed memtables held a table's whole content in memory: the memory
#: ladder measured +297 MB per 100k open clocks with the defaults.
TABLE_STORE_OPTIONS: dict[str, int] = {
    "write_buffer_size": 4 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 16 * 1024 * 1024,
    "block_cache_size": 8 * 1024 * 1024,
    "block_cache_compressed_size": 0,
}


class KesuApp(faust.App):
    """A Faust app whose Kafka transport rewinds never-committed partitions (kafka:// only) and
    whose tables use kesu's RocksDB sizing."""

    def _new_transport(self) -> TransportT:
        return RewindingTransport(self.conf.broker_consumer, self)

    def Table(
        self, name: str, *, options: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:  # Faust's name
        """faust.App.Table with TABLE_STORE_OPTIONS under the table's own options (a fresh dict:
        Faust's store pops keys from the one it is given)."""
        merged = {**TABLE_STORE_OPTIONS, **(options or {})} if self._rocksdb else options
        return super().Table(name, options=merged, **kwargs)

    @property
    def _rocksdb(self) -> bool:
        return str(self.conf.store).startswith("rocksdb")
