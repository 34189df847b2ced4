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

`RewindingConsumer` also fences Faust's stream-partition seeks, re-reads what flow control's
queue clears dropped, and never commits past a record still in flight (agents/seek_fence.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from time import monotonic
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from faust.types.transports import TransportT
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent

from agents.commit_ledger import RefusedCommits
from agents.seek_fence import FencedReadOffsets, InFlight, SeekFence, fenced

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

    def _create_worker_consumer(self, transport: Any) -> Any:
        """Faust's consumer, except that a fetch waits at most the app's `fetch_max_wait_ms`
        (Faust hard-codes 1.5 s; see kesu/settings.py `worker_fetch_max_wait`)."""
        consumer = super()._create_worker_consumer(transport)
        wait_ms = getattr(self.app, "fetch_max_wait_ms", None)
        if wait_ms is not None:
            if not hasattr(consumer, "_fetch_max_wait_ms"):  # an aiokafka that renamed it
                raise RuntimeError("aiokafka's consumer has no _fetch_max_wait_ms to set")
            consumer._fetch_max_wait_ms = wait_ms
        return consumer

    def verify_event_path(self, now: float, tp: TP) -> None:
        """Faust's livelock check, except for a partition without a position yet: aiokafka has
        none while a seek to the beginning waits for its offset, and reading it raised an
        AssertionError that stopped the whole consumer (seen in an R4 trial once the consumer
        re-read after every queue clear). Such a partition is checked next time."""
        try:
            assignment = self._ensure_consumer()._fetcher._subscriptions.subscription.assignment
            state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
        except AttributeError:  # no subscription or assignment right now (a rebalance)
            return None
        if state is None or not state.has_valid_position:
            return None
        return super().verify_event_path(now, tp)

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        """aiokafka's commit, refused whole when a partition left the assignment since the
        consumer checked it: Faust's driver would commit the rest, report success, and the
        consumer would believe the left-out partitions committed (agents/commit_ledger.py)."""
        assigned = self.assignment()
        gone = [tp for tp in offsets if tp not in assigned]
        if gone:
            log.info("commit not sent: %d partition(s) left the assignment meanwhile", len(gone))
            return False
        return bool(await super()._commit(offsets))


#: How long a record may go unacknowledged after it went to a stream before the consumer reads
#: again from the committed offsets (a safety valve: the commit cap must not stall for good).
IN_FLIGHT_PATIENCE = 120.0


class RewindingConsumer(aiokafka_driver.Consumer):
    """Faust's consumer with its stream-partition seeks fenced (agents/seek_fence.py): records
    fetched before a seek neither reach the streams after it nor move the read offsets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fence = SeekFence()
        self._fenced_offsets = FencedReadOffsets(self._fence, on_delivered=self._delivered)
        self._read_offset = self._fenced_offsets
        self._to_reseek: set[TP] = set()
        self._in_flight = InFlight()
        self._clears_seen = 0
        self._stall_checked_at = 0.0
        self._refused = RefusedCommits()
        self._belief_at_refusal: dict[TP, int | None] | None = None

    def _new_consumer_thread(self) -> RewindingConsumerThread:
        return RewindingConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def perform_seek(self) -> None:
        changelogs = self.app.tables.changelog_topics
        sought = [tp for tp in self.assignment() if tp.topic not in changelogs]
        self._fence.seeking(sought)
        self._fence.unaim(sought)
        await super().perform_seek()

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        sought = {tp: offset or 0 for tp, offset in committed.items() if tp.topic not in changelogs}
        self._fence.aimed(sought)
        # the broker's word is the belief now: Faust's perform_seek keeps a stale belief for a
        # partition the group never committed (agents/commit_ledger.py)
        for tp in sought:
            if not committed[tp]:
                self._committed_offset[tp] = None
        self._refused.forget(sought)
        return committed

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        did_commit: bool = await super()._commit(offsets)
        if not did_commit:  # Faust records `offsets` as committed right after this returns
            self._belief_at_refusal = {tp: self._committed_offset.get(tp) for tp in offsets}
        return did_commit

    async def _commit_offsets(
        self, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        """Faust's commit, except that a commit the broker refused is not believed done: the
        offsets it named are tried again by the next commit (agents/commit_ledger.py)."""
        self._belief_at_refusal = None
        did_commit: bool = await super()._commit_offsets(
            offsets, start_new_transaction=start_new_transaction
        )
        refused, self._belief_at_refusal = self._belief_at_refusal, None
        if refused is not None:
            assigned = self.assignment()
            for tp, belief in refused.items():
                if tp in assigned:
                    self._committed_offset[tp] = belief
                else:  # revoked meanwhile: Faust had forgotten it, the update wrote it back
                    self._committed_offset.pop(tp, None)
            retry = {tp: offsets[tp] for tp in refused if tp in assigned}
            self._refused.refused(retry)
            log.warning("the broker refused a commit of %d partition(s): trying again", len(retry))
        elif did_commit:
            self._refused.committed(offsets)
        return did_commit

    def _filter_committable_offsets(self, tps: Any) -> dict[TP, int]:
        tps = list(tps)
        offsets: dict[TP, int] = super()._filter_committable_offsets(tps)
        if not self._refused:
            return offsets
        return self._refused.merged_into(
            offsets, assigned=set(tps) & self.assignment(), worth_committing=self._should_commit
        )

    def _delivered(self, tp: TP, offset: int) -> None:
        """A record went into a stream's queue: its offset is in flight until acknowledged."""
        if self.app.topics.acks_enabled_for(tp.topic):
            committed = self._committed_offset[tp]
            if (committed is None or offset >= committed) and offset not in self._acked_index[tp]:
                self._in_flight.add(tp, offset, monotonic())

    def ack(self, message: Any) -> bool:
        acked: bool = super().ack(message)
        self._in_flight.discard(message.tp, message.offset)
        return acked

    def _new_offset(self, tp: TP) -> int | None:
        """Faust's next commit for `tp`, never past a record still in flight.

        Faust commits the first run of consecutive acknowledged offsets even when the record
        before it was never acknowledged (its head check lets one offset through), and a
        record whose stream queue was cleared is never acknowledged: without this cap, the
        records after it committed past it for good (issue #15 §3)."""
        floor = self._in_flight.floor(tp, self._committed_offset[tp])
        acked = self._acked[tp]
        if floor is None or not acked:
            return super()._new_offset(tp)
        above = [offset for offset in acked if offset >= floor]
        acked[:] = [offset for offset in acked if offset < floor]
        try:
            return super()._new_offset(tp)
        finally:
            acked.extend(above)
            acked.sort()

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        now = monotonic()
        stalled = None
        if now - self._stall_checked_at >= 1.0:  # a scan of the offsets in flight, once a second
            self._stall_checked_at = now
            stalled = self._in_flight.stalled(now, IN_FLIGHT_PATIENCE)
        if stalled is not None and self.assignment():
            log.warning(
                "offset %d of %s went to a stream %.0f s ago and was never acknowledged: "
                "reading again from the committed offsets",
                stalled[1],
                stalled[0],
                IN_FLIGHT_PATIENCE,
            )
            self._in_flight.forget([stalled[0]])
            self._clears_seen = -1  # seek below, as after a queue clear
        clears = getattr(self.app.flow_control, "clears", 0)
        if clears != self._clears_seen and self.assignment():
            # stream queues were emptied: what was in them is read again from the commits
            try:
                await self.perform_seek()
            except Exception as exc:  # e.g. a rebalance began: the next fetch tries again
                log.warning("seek after the stream queues were cleared failed: %r", exc)
            else:
                self._clears_seen = clears
                log.info("stream queues were cleared: read again from the committed offsets")
        for tp in list(self._to_reseek):  # Kafka re-reads what a fenced fetch left unread
            target = self._fence.target(tp)
            if target is None and tp in self.assignment():
                continue  # its seek has not finished: once it has, it is sought again
            self._to_reseek.discard(tp)
            if target is not None:
                consumer = self._thread._ensure_consumer()
                await self._thread.call_thread(consumer.seek, tp, target)
        fetched_at = self._fence.serial
        records = await super()._getmany(active_partitions, timeout)
        self._fenced_offsets.delivering = fetched_at
        return fenced(records, self._fence, fetched_at, self._to_reseek.add)

    def bookkeeping(self) -> list[str]:
        """One line per assigned stream partition: what decides its next commit (logged on
        SIGUSR1 with the task stacks, so a stalled commit in a trial shows why)."""
        lines = []
        changelogs = self.app.tables.changelog_topics
        for tp in sorted(self.assignment()):
            if tp.topic in changelogs:
                continue
            acked = sorted(self._acked.get(tp, ()))
            gaps = sorted((iv.begin, iv.end) for iv in self._gap.get(tp, ()))
            lines.append(
                f"{tp.topic}:{tp.partition} committed={self._committed_offset.get(tp)} "
                f"read={self._read_offset.get(tp)} acked={len(acked)}{acked[:5]} gaps={gaps[:5]} "
                f"in_flight={self._in_flight.describe(tp)} fence_target={self._fence.target(tp)} "
                f"reseek={tp in self._to_reseek} position={self._thread_position(tp)} "
                f"refused={self._refused.describe(tp)}"
            )
        return lines

    def _thread_position(self, tp: TP) -> int | None:
        try:
            assignment = (
                self._thread._ensure_consumer()._fetcher._subscriptions.subscription.assignment
            )
            state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
        except Exception:  # diagnostics only: no consumer or assignment right now
            return None
        return state.position if state is not None and state.has_valid_position else None

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._fence.forget(revoked)
        self._to_reseek.difference_update(revoked)
        self._in_flight.forget(revoked)
        self._refused.forget(revoked)
        await super().on_partitions_revoked(revoked)


class RewindingTransport(aiokafka_driver.Transport):
    Consumer = RewindingConsumer


#: RocksDB sizing for every table partition (Faust's defaults: 64 MiB write buffers x 3 and a
#: 2 GiB block cache per partition, sized for one big table, not 6 tables x N partitions of
#: small records). Unflushed memtables held a table's whole content in memory: the memory
#: ladder measured +297 MB per 100k open clocks with the defaults. 1 MiB memtables and cache
#: (were 4 and 8): with the due-index rebuild filling each partition's cache, 101.7 -> 57.9 MB per
#: 100k clocks (2026-12-07); reads that miss go to the OS page cache, not the worker's RSS.
TABLE_STORE_OPTIONS: dict[str, int] = {
    "write_buffer_size": 1 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 16 * 1024 * 1024,
    "block_cache_size": 1 * 1024 * 1024,
    "block_cache_compressed_size": 0,
}


class _CountedFlowControl(FlowControlEvent):
    """Faust's flow control, counting how often it emptied the stream queues (on every resume
    and rebalance): the consumer reads the records that were in them again."""

    clears = 0

    def clear(self) -> None:
        super().clear()
        self.clears += 1


class KesuApp(faust.App):
    """A Faust app whose Kafka transport rewinds never-committed partitions (kafka:// only) and
    whose tables use kesu's RocksDB sizing."""

    #: The longest the broker may hold the worker consumer's fetch (None: Faust's 1.5 s).
    fetch_max_wait_ms: int | None = None

    def _new_transport(self) -> TransportT:
        return RewindingTransport(self.conf.broker_consumer, self)

    @cached_property
    def flow_control(self) -> FlowControlEvent:
        return _CountedFlowControl(loop=self.loop)

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
