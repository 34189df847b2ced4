"""The delay map counts each order once, in its latest state, and averages known delays."""

from __future__ import annotations

from complaints.delay_map import DelayCell, DelayMap
from streams.records import DelayMapEntry, DelayState
from tests.factories import T0


def line(order: str, state: DelayState, hours: float, region: str = "华东-上海") -> DelayMapEntry:
    return DelayMapEntry(
        order_id=order, region=region, carrier="顺达快运", state=state, delay_hours=hours, at=T0
    )


def test_counts_per_region_and_carrier_with_the_latest_line_of_each_order() -> None:
    delays = DelayMap()
    delays.apply("SO1", line("SO1", DelayState.DELAYED, 10))
    delays.apply("SO1", line("SO1", DelayState.DELAYED, 30))  # a new estimate replaces the line
    delays.apply("SO2", line("SO2", DelayState.EXCEPTION, 50))
    delays.apply("SO3", line("SO3", DelayState.LOST, 0))
    delays.apply("SO4", line("SO4", DelayState.DELAYED, 5, region="华北-北京"))
    delays.apply("SO5", line("SO5", DelayState.DELAYED, 8))
    delays.apply("SO5", None)  # delivered
    assert delays.cells() == [
        DelayCell("华东-上海", "顺达快运", delayed=1, exception=1, lost=1, mean_delay_hours=40.0),
        DelayCell("华北-北京", "顺达快运", delayed=1, exception=0, lost=0, mean_delay_hours=5.0),
    ]


def test_a_cell_without_known_delays_has_no_mean() -> None:
    delays = DelayMap()
    delays.apply("SO3", line("SO3", DelayState.LOST, 0))
    assert delays.cells()[0].mean_delay_hours is None
