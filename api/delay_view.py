"""The live delay map, rebuilt from the compacted `kesu.logistics.delays` topic.

Like the alert view: every API replica reads the topic from the beginning without a consumer
group, keeps the latest line per order (a tombstone removes it), and exports the cells as the
`kesu_logistics_*` gauges, so replicas agree and a restart needs nothing but Kafka.
"""

from __future__ import annotations

import logging

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from complaints.delay_map import DelayCell, DelayMap
from kesu.follower import Follower
from kesu.metrics import LOGISTICS_DELAY_HOURS, LOGISTICS_ORDERS
from kesu.settings import Settings
from streams.records import DelayMapEntry
from streams.topics import DELAY_MAP

log = logging.getLogger(__name__)


class DelayView:
    """In-memory delay map, fed by one background follower task."""

    def __init__(self, settings: Settings) -> None:
        self.map = DelayMap()
        self._follower = Follower(
            settings, (DELAY_MAP,), self._apply, name="api-delays", after_batch=self._export
        )

    async def start(self) -> None:
        self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()

    @property
    def ready(self) -> bool:
        return self._follower.ready

    def cells(self) -> list[DelayCell]:
        return self.map.cells()

    def _apply(self, message: ConsumerRecord[bytes, bytes]) -> None:
        order_id, value = (message.key or b"").decode("utf-8", "replace"), message.value
        if value is None:
            self.map.apply(order_id, None)
            return
        try:
            self.map.apply(order_id, DelayMapEntry.model_validate_json(value))
        except ValidationError:
            log.warning("unreadable delay-map line skipped")

    def _export(self) -> None:
        LOGISTICS_ORDERS.clear()
        LOGISTICS_DELAY_HOURS.clear()
        for cell in self.map.cells():
            for state, count in (
                ("delayed", cell.delayed),
                ("exception", cell.exception),
                ("lost", cell.lost),
            ):
                LOGISTICS_ORDERS.labels(cell.region, cell.carrier, state).set(count)
            if cell.mean_delay_hours is not None:
                LOGISTICS_DELAY_HOURS.labels(cell.region, cell.carrier).set(cell.mean_delay_hours)
