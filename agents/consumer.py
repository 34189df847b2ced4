"""The worker's Kafka consumer: Faust's own, except that a partition the group has never
committed is read from its beginning whenever Faust seeks to committed offsets.

Why: while Faust restores its tables after a (re)start it fetches from every assigned partition
and throws away what it fetched for the streams; afterwards it seeks each stream partition
back to its committed offset. aiokafka's `seek_to_committed` leaves a partition with no
committed offset (or offset 0) where it is, so records already waiting there were skipped for
good. That happened on a worker that rebuilt its tables — a crash before its first commit, a
new disk — for any partition never committed yet (a rarely used topic such as raw.activity).
`auto.offset.reset=earliest` promises those records are read; this makes it so.
Found by tests/integration/test_crash_recovery.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import faust
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from faust.types.transports import TransportT

log = logging.getLogger(__name__)


class RewindingConsumer(aiokafka_driver.Consumer):
    """Seeks never-committed stream partitions to their earliest offset after the usual seek."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        never = [
            tp for tp, offset in committed.items() if not offset and tp.topic not in changelogs
        ]
        if never:
            earliest = await self.earliest_offsets(*never)
            for tp in never:
                await self._seek(tp, earliest[tp])
            log.debug("read %d never-committed partition(s) from their beginning", len(never))
        return committed


class RewindingTransport(aiokafka_driver.Transport):
    """Faust's aiokafka transport with RewindingConsumer."""

    Consumer = RewindingConsumer


class KesuApp(faust.App):
    """A Faust app whose Kafka transport is RewindingTransport (kesu always speaks kafka://)."""

    def _new_transport(self) -> TransportT:
        return RewindingTransport(self.conf.broker_consumer, self)
