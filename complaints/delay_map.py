"""The delay map: orders on it now -> counts and mean delay per region x carrier.

Pure. Fed the latest line of each order (the compacted `kesu.logistics.delays` topic), so a
replayed or re-read line replaces itself instead of counting twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.records import DelayMapEntry, DelayState


@dataclass(frozen=True)
class DelayCell:
    """One region x carrier: orders delayed, with a carrier exception and lost; mean delay."""

    region: str
    carrier: str
    delayed: int
    exception: int
    lost: int
    mean_delay_hours: float | None  # over the orders with a known delay; None: none known


class DelayMap:
    """The current line of every order on the map, by order id."""

    def __init__(self) -> None:
        self.orders: dict[str, DelayMapEntry] = {}

    def apply(self, order_id: str, entry: DelayMapEntry | None) -> None:
        """Set an order's line; None (a tombstone: delivered or back on time) removes it."""
        if entry is None:
            self.orders.pop(order_id, None)
        else:
            self.orders[order_id] = entry

    def cells(self) -> list[DelayCell]:
        """Every region x carrier with at least one order on the map, the most affected first."""
        counts: dict[tuple[str, str], dict[DelayState, int]] = {}
        hours: dict[tuple[str, str], list[float]] = {}
        for entry in self.orders.values():
            key = (entry.region, entry.carrier)
            cell = counts.setdefault(key, dict.fromkeys(DelayState, 0))
            cell[entry.state] += 1
            if entry.delay_hours > 0:
                hours.setdefault(key, []).append(entry.delay_hours)
        out = [
            DelayCell(
                region=region,
                carrier=carrier,
                delayed=cell[DelayState.DELAYED],
                exception=cell[DelayState.EXCEPTION],
                lost=cell[DelayState.LOST],
                mean_delay_hours=round(sum(h) / len(h), 2)
                if (h := hours.get((region, carrier)))
                else None,
            )
            for (region, carrier), cell in counts.items()
        ]
        return sorted(out, key=lambda c: (-(c.delayed + c.exception + c.lost), c.region, c.carrier))
