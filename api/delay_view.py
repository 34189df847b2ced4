"""The live delay map, rebuilt from the compacted `kesu.logistics.delays` topic.

Like the alert view: every API replica reads the topic from the beginning without a consumer
group, keeps the latest line per order (a tombstone removes it), and exports the cells as the
`kesu_logistics_*` gauges, so replicas agree and a restart needs nothing but Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from complaints.delay_map import DelayCell, DelayMap
from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.metrics import LOGISTICS_DELAY_HOURS, LOGISTICS_ORDERS
from kesu.settings import Settings
from streams.records import DelayMapEntry
from streams.topics import DELAY_MAP

log = logging.getLogger(__name__)


class DelayView:
    """In-memory delay map, fed by one background consumer task."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.map = DelayMap()
        self._read_to: dict[TopicPartition, int] = {}
        self._caught_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delay-view")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def ready(self) -> bool:
        return self._caught_up.is_set()

    def cells(self) -> list[DelayCell]:
        return self.map.cells()

    async def _run(self) -> None:
        while True:
            try:
                await self._consume()
            except (KafkaError, KafkaNotConfigured, OSError) as exc:
                log.warning("delay view lost Kafka (%s); retrying in 2 s", type(exc).__name__)
                await asyncio.sleep(2)

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            **aiokafka_options(self._settings),
            client_id=f"{self._settings.namespace}-api-delays",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            topic = DELAY_MAP.name(self._settings.namespace)
            partitions = [TopicPartition(topic, p) for p in range(DELAY_MAP.partitions)]
            consumer.assign(partitions)
            for tp in partitions:
                if tp in self._read_to:
                    consumer.seek(tp, self._read_to[tp])
                else:
                    await consumer.seek_to_beginning(tp)
            targets = await consumer.end_offsets(partitions)
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, messages in batch.items():
                    for message in messages:
                        self._read_to[tp] = message.offset + 1
                        self._apply(message.key, message.value)
                if batch:
                    self._export()
                if not self._caught_up.is_set():
                    positions = {tp: await consumer.position(tp) for tp in targets}
                    if all(positions[tp] >= end for tp, end in targets.items()):
                        self._caught_up.set()
                        self._export()
        finally:
            await consumer.stop()

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        order_id = (key or b"").decode("utf-8", "replace")
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
