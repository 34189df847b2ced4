"""Which lifecycle offsets the notifier may commit while deliveries run in the background.

Pure bookkeeping, no Kafka. Every record read is registered in offset order; each delivery it
starts holds it; a record is done when its last delivery finished. The committable position of
a partition is just past its oldest record that is not done, so a crash re-reads exactly the
records whose deliveries may not have finished (and the delivery log skips those that had).
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["InFlight"]


class InFlight:
    """Records read and not yet committable, per partition, with their outstanding deliveries."""

    def __init__(self) -> None:
        self._open: dict[Hashable, dict[int, int]] = {}  # partition -> offset -> deliveries left
        self._count = 0

    def __len__(self) -> int:
        """Records read whose offsets cannot be committed yet."""
        return self._count

    def read(self, partition: Hashable, offset: int) -> None:
        """Register a record; offsets of one partition must come in increasing order."""
        offsets = self._open.setdefault(partition, {})
        if offsets and offset <= next(reversed(offsets)):
            raise ValueError(f"offset {offset} of {partition} read out of order")
        offsets[offset] = 0
        self._count += 1

    def hold(self, partition: Hashable, offset: int) -> None:
        """One more delivery of this record is under way."""
        self._open[partition][offset] += 1

    def release(self, partition: Hashable, offset: int) -> None:
        """One delivery of this record has finished (delivered, dead-lettered or cancelled)."""
        self._open[partition][offset] -= 1

    def committable(self) -> dict[Hashable, int]:
        """Per partition that advanced since the last call: the offset to commit (one past the
        last record before the oldest one still held)."""
        advanced: dict[Hashable, int] = {}
        for partition, offsets in self._open.items():
            done = None
            while offsets:
                oldest = next(iter(offsets))
                if offsets[oldest] > 0:
                    break
                del offsets[oldest]
                self._count -= 1
                done = oldest
            if done is not None:
                advanced[partition] = done + 1
        return advanced
