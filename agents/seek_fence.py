"""Records fetched before a partition was sought must not decide where reading resumes.

Why (issue #15 §3, the never-committed reproduction losing 1 of 12 posts in ~1 of 10 runs):
Faust's consumer remembers the last offset it delivered per partition (`_read_offset`) and
drops every later record at or below it ("DROPPED MESSAGE ROFF"), so that overlapping fetches
do not deliver a record twice. When recovery ends it resumes the stream partitions and *then*
seeks them back to their committed offsets (faust/tables/recovery.py `_resume_streams`), with
the flow active all along. A fetch that began before that seek can still deliver records from
the old position after it: their read offsets overwrite the seek's, and the records between
the committed offset and that old position — re-read from Kafka after the seek — are dropped
as already read. Nothing was skipped by Kafka; the consumer's bookkeeping skipped them.

The fence, pure bookkeeping the consumer calls into (agents/consumer.py):
- every seek is numbered, and each sought partition remembers the number and its target;
- each fetch remembers the number current when it began;
- a fetched partition's records stop at its next seek (`FencedRecords`): the rest are read
  again from the seek's target, and the consumer seeks the partition there once more, since a
  fetch that raced the seek may have moved Kafka's position past records it read from there;
- a read offset from a record fetched before its partition's last seek is not recorded
  (`FencedReadOffsets`): the seek's offset stands.
Both only ever make the consumer read a record again (de-duplicated downstream), never skip one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

log = logging.getLogger(__name__)

_P = TypeVar("_P")


class SeekFence:
    """When (a running number) and where each partition was last sought."""

    def __init__(self) -> None:
        self.serial = 0
        self._sought_at: dict[Any, int] = {}
        self._target: dict[Any, int] = {}

    def seeking(self, partitions: Iterable[Any]) -> None:
        """Partitions about to be sought: records fetched before now no longer count for them.

        Called before the seek is issued, so a fetch that completes while it runs is fenced."""
        self.serial += 1
        for partition in partitions:
            self._sought_at[partition] = self.serial

    def aimed(self, targets: Mapping[Any, int]) -> None:
        """Where the seek put each partition (0: its beginning)."""
        self._target.update(targets)

    def unaim(self, partitions: Iterable[Any]) -> None:
        """A seek has begun: where it puts these partitions is not known until it is done."""
        for partition in partitions:
            self._target.pop(partition, None)

    def sought_since(self, partition: Any, serial: int) -> bool:
        return self._sought_at.get(partition, 0) > serial

    def target(self, partition: Any) -> int | None:
        return self._target.get(partition)

    def forget(self, partitions: Iterable[Any]) -> None:
        """Revoked partitions: their next assignment starts a new story."""
        for partition in partitions:
            self._sought_at.pop(partition, None)
            self._target.pop(partition, None)


class FencedRecords(list[Any]):
    """One partition's fetched records that stop where the partition is sought again.

    Faust iterates each partition's list lazily (round-robin between partitions, delivering
    each record before taking the next), so the check runs before every record is handed on.
    On the first stop it calls `reseek(partition)` once: Kafka re-reads from the seek's target.
    """

    def __init__(
        self,
        records: list[Any],
        partition: Any,
        fence: SeekFence,
        fetched_at: int,
        reseek: Callable[[Any], None],
    ) -> None:
        super().__init__(records)
        self.partition = partition
        self.fence = fence
        self.fetched_at = fetched_at
        self.reseek = reseek

    def __iter__(self) -> Iterator[Any]:
        for index, record in enumerate(list.__iter__(self)):
            if self.fence.sought_since(self.partition, self.fetched_at):
                log.info(
                    "%s was sought while %d fetched record(s) waited: read again after the seek",
                    self.partition,
                    len(self) - index,
                )
                self.reseek(self.partition)
                return
            yield record


class FencedReadOffsets(defaultdict[Any, int | None]):
    """Faust's `_read_offset` that a record fetched before its partition's last seek cannot move.

    `delivering` is the seek number current when the records now being delivered were fetched
    (the consumer delivers one fetch's records at a time). Seeks themselves write with `force`
    (or `dict.update`, which Faust's `perform_seek` uses).
    """

    def __init__(
        self, fence: SeekFence, on_delivered: Callable[[Any, int], None] | None = None
    ) -> None:
        super().__init__(lambda: None)
        self.fence = fence
        self.on_delivered = on_delivered
        self.delivering = 0
        self.refused = 0

    def __setitem__(self, partition: Any, offset: int | None) -> None:
        if self.fence.sought_since(partition, self.delivering):
            self.refused += 1
            log.info(
                "read offset %s of %s comes from a fetch before its last seek: kept at %s",
                offset,
                partition,
                self.get(partition),
            )
            return
        super().__setitem__(partition, offset)
        if offset is not None and self.on_delivered is not None:
            self.on_delivered(partition, offset)

    def force(self, partition: Any, offset: int | None) -> None:
        dict.__setitem__(self, partition, offset)


class InFlight:
    """Offsets handed to a stream and not yet acknowledged, per partition: a commit must stop
    below the lowest, or a record lost between queue and stream would be committed past."""

    def __init__(self) -> None:
        self._offsets: dict[Any, dict[int, float]] = {}  # partition -> offset -> when handed on

    def add(self, partition: Any, offset: int, at: float = 0.0) -> None:
        self._offsets.setdefault(partition, {}).setdefault(offset, at)

    def discard(self, partition: Any, offset: int) -> None:
        offsets = self._offsets.get(partition)
        if offsets is not None:
            offsets.pop(offset, None)
            if not offsets:
                del self._offsets[partition]

    def stalled(self, now: float, patience: float) -> tuple[Any, int] | None:
        """A (partition, offset) handed on more than `patience` seconds before `now` and still
        not acknowledged, if any: the consumer reads that partition again."""
        for partition, offsets in self._offsets.items():
            for offset, at in offsets.items():
                if now - at > patience:
                    return partition, offset
        return None

    def floor(self, partition: Any, committed: int | None) -> int | None:
        """The lowest offset in flight at or above `committed` (older ones are dropped: a
        commit already covers them)."""
        offsets = self._offsets.get(partition)
        if not offsets:
            return None
        if committed is not None:
            for offset in [offset for offset in offsets if offset < committed]:
                del offsets[offset]
            if not offsets:
                del self._offsets[partition]
                return None
        return min(offsets)

    def forget(self, partitions: Iterable[Any]) -> None:
        for partition in partitions:
            self._offsets.pop(partition, None)

    def describe(self, partition: Any) -> str:
        """How many offsets are in flight and the lowest (diagnostics)."""
        offsets = self._offsets.get(partition)
        return f"{len(offsets)}@{min(offsets)}" if offsets else "0"


def fenced(
    records: Mapping[_P, list[Any]],
    fence: SeekFence,
    fetched_at: int,
    reseek: Callable[[_P], None],
) -> dict[_P, list[Any]]:
    """A fetch's records, each partition's list fenced at its next seek."""
    return {
        partition: FencedRecords(list(items), partition, fence, fetched_at, reseek)
        for partition, items in records.items()
    }
