"""What the consumer believes it committed must be what the broker recorded.

Why (the crash trials' commit stall, ~2 of ~160 R1 runs): Faust's consumer records the offsets
of every commit it *attempted* as committed (`Consumer._commit_offsets` updates
`_committed_offset` whatever `_commit` returned), and aiokafka's driver returns False without a
word when the broker refuses a commit because the group is rebalancing. Faust has by then taken
the acknowledged offsets off its list, so nothing tries that commit again; and when the
partitions come back after the rebalance, a seek to the committed offsets leaves a partition the
group never committed with the stale belief (Faust's `perform_seek` skips a `None` offset).
Every record read again from the start is then at or below the believed offset and is never
committed: the worker works on, and the group's offset stays behind for good — after the next
crash it all happens again. The trials caught it as `committed=<end>` in the consumer's
bookkeeping while the broker's group offset stayed behind.

`RefusedCommits` is the pure half of the fix (agents/consumer.py wires it): it remembers the
offsets of a refused commit per partition, offers them to the next commit, and forgets them
once a commit covers them, the partition is sought (the belief is then the broker's again) or
the partition is revoked. Committing such an offset again is safe: every record below it was
processed and acknowledged by this worker before the refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any


class RefusedCommits:
    """Offsets the broker refused to commit, per partition, to be tried again."""

    def __init__(self) -> None:
        self._offsets: dict[Any, int] = {}

    def refused(self, offsets: Mapping[Any, int]) -> None:
        for partition, offset in offsets.items():
            if offset > self._offsets.get(partition, -1):
                self._offsets[partition] = offset

    def committed(self, offsets: Mapping[Any, int]) -> None:
        for partition, offset in offsets.items():
            if self._offsets.get(partition, offset + 1) <= offset:
                del self._offsets[partition]

    def forget(self, partitions: Iterable[Any]) -> None:
        for partition in partitions:
            self._offsets.pop(partition, None)

    def merged_into(
        self,
        offsets: Mapping[Any, int],
        *,
        assigned: Iterable[Any],
        worth_committing: Callable[[Any, int], bool],
    ) -> dict[Any, int]:
        """The next commit: `offsets` with each assigned partition's refused offset where it is
        higher (and still ahead of what the consumer believes it committed)."""
        merged = dict(offsets)
        for partition in set(assigned) & self._offsets.keys():
            offset = self._offsets[partition]
            if offset > merged.get(partition, -1) and worth_committing(partition, offset):
                merged[partition] = offset
        return merged

    def __bool__(self) -> bool:
        return bool(self._offsets)

    def describe(self, partition: Any) -> str:
        offset = self._offsets.get(partition)
        return "-" if offset is None else str(offset)
