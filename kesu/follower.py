"""Reads whole topics from the beginning, without a consumer group, and keeps following them.

The one consumer loop behind every projection kesu rebuilds from Kafka: the alert view, the
delay map, and the push books (every API replica and the notifier read the subscriptions and
delivery-log topics this way), so state survives restarts and replicas agree.
`catch_up()` reads up to the end offsets as of the call, which is what makes a write visible
to whoever waits for it (read-your-writes) and lets the notifier see every subscription that
was acknowledged before the lifecycle records it is about to route.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.settings import Settings
from streams.topics import TopicSpec

__all__ = ["AfterBatch", "Apply", "Follower"]

log = logging.getLogger(__name__)

#: Called with each record read, in offset order per partition.
Apply = Callable[[ConsumerRecord[bytes, bytes]], None]
#: Called after each batch of records has been applied.
AfterBatch = Callable[[], None]


class Follower:
    """One assigned consumer over `specs`; call `catch_up` or `follow`, never both at once."""

    def __init__(
        self,
        settings: Settings,
        specs: Sequence[TopicSpec],
        apply: Apply,
        *,
        name: str,
        after_batch: AfterBatch | None = None,
    ) -> None:
        self._settings = settings
        self._apply = apply
        self._after_batch = after_batch
        self._name = name
        self._partitions = [
            TopicPartition(spec.name(settings.namespace), p)
            for spec in specs
            for p in range(spec.partition_count(settings.pipeline_partitions))
        ]
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.read_to: dict[TopicPartition, int] = {}  # next offset to read, per partition
        self._moved = asyncio.Condition()
        self._caught_up = asyncio.Event()

    async def _ensure_started(self) -> AIOKafkaConsumer:
        if self._consumer is not None:
            return self._consumer
        consumer = AIOKafkaConsumer(
            **aiokafka_options(self._settings),
            client_id=f"{self._settings.namespace}-{self._name}",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        consumer.assign(self._partitions)
        for tp in self._partitions:  # resume after a reconnect, else from the start
            if tp in self.read_to:
                consumer.seek(tp, self.read_to[tp])
            else:
                await consumer.seek_to_beginning(tp)
        self._consumer = consumer
        return consumer

    def start(self) -> None:
        """`follow` in a background task, until `stop`."""
        self._task = asyncio.create_task(self.follow(), name=self._name)

    async def stop(self) -> None:
        """End the background task, if any, and close the consumer."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    @property
    def ready(self) -> bool:
        """True once everything that was on the topics at the first catch-up has been read."""
        return self._caught_up.is_set()

    async def _read_once(self, consumer: AIOKafkaConsumer, timeout_ms: int) -> None:
        batch = await consumer.getmany(timeout_ms=timeout_ms, max_records=2000)
        for tp, messages in batch.items():
            for message in messages:
                self._apply(message)
                self.read_to[tp] = message.offset + 1
        if batch:
            if self._after_batch is not None:
                self._after_batch()
            async with self._moved:
                self._moved.notify_all()

    async def catch_up(self) -> None:
        """Read until every partition's position reaches its end offset as of now."""
        consumer = await self._ensure_started()
        targets = await consumer.end_offsets(self._partitions)
        while await self._behind(consumer, targets):
            await self._read_once(consumer, timeout_ms=200)
        if not self._caught_up.is_set():
            self._caught_up.set()
            log.info("%s caught up: %d record(s) read", self._name, sum(self.read_to.values()))

    @staticmethod
    async def _behind(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
        for tp, end in targets.items():
            if await consumer.position(tp) < end:
                return True
        return False

    async def follow(self) -> None:
        """Catch up, then keep reading until cancelled; reconnects when Kafka goes away."""
        while True:
            try:
                await self.catch_up()
                while True:
                    await self._read_once(await self._ensure_started(), timeout_ms=500)
            except (KafkaError, KafkaNotConfigured, OSError) as exc:
                log.warning("%s lost Kafka (%s); retrying in 2 s", self._name, type(exc).__name__)
                with contextlib.suppress(KafkaError, OSError):
                    await self._close()
                await asyncio.sleep(2)

    async def wait_past(self, tp: TopicPartition, offset: int, timeout: float) -> bool:
        """Wait until the record at `offset` of `tp` has been applied (for a follower that
        `follow`s in another task); False after `timeout` seconds."""

        def past() -> bool:
            return self.read_to.get(tp, 0) > offset

        async with self._moved:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait_for(past), timeout)
        return past()
