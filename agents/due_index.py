"""Due-time index over a table, so a timer looks at the keys that are due and nothing else.

A min-heap of (due, key) plus the authoritative due per key: rescheduling a key pushes a new
entry and leaves the old one to be skipped when popped (lazy deletion), so both operations are
O(log n). The index lives in the worker's memory: it is rebuilt from the table (one scan) after
each rebalance, and the agent reschedules every key it writes. Timers cannot write tables, so
the timer only *sends* a check for each due key; the agent decides and reschedules.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable
from datetime import datetime

import faust

from agents.batches import Batch, deliver
from complaints.masking import mask_personal_data
from kesu.heap import release_free_heap
from kesu.metrics import CHECKS_SENT, DUE_ENTRIES_UNREADABLE
from streams.codec import encode_record
from streams.records import Tick

log = logging.getLogger(__name__)


#: How far ahead the heap looks: keys due later are kept in the dict only, and move into the
#: heap when the horizon reaches them (one pass over the dict per horizon).
HORIZON_SECONDS = 600.0


class DueIndex:
    """When each key is next due (epoch seconds); pops the keys whose time has come.

    Only keys due within the horizon are in the heap: SLA clocks, order promises and churn
    checks are mostly hours or days away, and a heap entry (a tuple) cost as much again as the
    key's dict entry — 20.5 MB per 100k keys in all, against a memory budget of 40 MB per 100k
    open clocks for the whole worker."""

    def __init__(self, horizon: float = HORIZON_SECONDS) -> None:
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._horizon_seconds = horizon
        self._horizon = float("-inf")  # every key due at or before this is in the heap

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, key: str, due: float | None) -> None:
        """Set (or, with None, drop) the key's due time."""
        if due is None:
            self._due.pop(key, None)
            return
        if self._due.get(key) == due:
            return
        self._due[key] = due
        if due <= self._horizon:
            heapq.heappush(self._heap, (due, key))
            if len(self._heap) > 2 * len(self._due) + 1024:  # too many stale entries: compact
                self._refill()

    def pop_due(self, now: float) -> list[str]:
        """Every key due at or before `now`, each once; they leave the index until rescheduled."""
        if now >= self._horizon:
            self._horizon = now + self._horizon_seconds
            self._refill()
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            moment, key = heapq.heappop(self._heap)
            if self._due.get(key) == moment:
                del self._due[key]
                due.append(key)
        return due

    def _refill(self) -> None:
        horizon = self._horizon
        self._heap = [(due, key) for key, due in self._due.items() if due <= horizon]
        heapq.heapify(self._heap)

    def clear(self) -> None:
        self._due.clear()
        self._heap.clear()
        self._horizon = float("-inf")


def register_due_timer(
    app: faust.App,
    *,
    name: str,
    interval: float,
    table: faust.types.TableT,
    index: DueIndex,
    due_of: Callable[[str, str, float], float | None],
    topic: str,
    clock: Callable[[], datetime],
) -> None:
    """A timer that sends a Tick (keyed like the table) to `topic` for every due key.

    `due_of(key, stored value, now)` says when a stored entry is due; it is used only to
    rebuild the index from the table after a rebalance (the agent keeps it current otherwise).
    """
    rebuilt_for: list[int | None] = [None]

    async def scan_due() -> None:
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        if app.rebalancing or app.in_recovery or not recovered:
            return  # the table is being recovered: it would be partial
        now = clock()
        moment = now.timestamp()
        generation = app.consumer_generation_id
        if rebuilt_for[0] != generation:
            index.clear()
            unreadable = 0
            # one entry at a time, with no await between: a list of every stored value (100k
            # cases of ~1 KB each) was a transient the worker's RSS kept after the rebuild
            for key, value in table.items():
                try:
                    index.schedule(key, due_of(key, value, moment))
                except Exception as exc:  # one bad entry must not stop every check, on every start
                    unreadable += 1
                    DUE_ENTRIES_UNREADABLE.labels(name).inc()
                    log.error(
                        "%s: entry %s unreadable (%s); not scheduled",
                        name,
                        mask_personal_data(key[:64]).text,
                        type(exc).__name__,
                    )
            rebuilt_for[0] = generation
            # the recovery and this scan leave freed memory behind (kesu/heap.py)
            await asyncio.get_running_loop().run_in_executor(None, release_free_heap)
            log.info("%s: due index rebuilt, %d keys (%d unreadable)", name, len(index), unreadable)
        due = index.pop_due(moment)
        if not due:
            return
        ticks = Batch(app, "", clock)  # every tick sent at once, confirmed together
        for key in due:
            ticks.send(topic, key=key.encode(), value=encode_record(Tick(case_key=key, at=now)))
        await deliver(app, ticks, name)
        CHECKS_SENT.labels(name).inc(len(due))

    app.timer(interval=interval, on_leader=False, name=name)(scan_due)
