"""Publishes accepted events to Kafka and waits for the broker's acknowledgement (acks=all).

The API answers 202 only after this returns, so an event it accepted is never lost. The
producer connects lazily: the API starts (and answers 503) while Kafka is unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.settings import Settings

log = logging.getLogger(__name__)


class KafkaUnavailable(RuntimeError):
    """Kafka did not acknowledge in time (or cannot be reached); nothing may be reported accepted."""


_PROBE_EVERY_SECONDS = 2.0
_PROBE_TIMEOUT_SECONDS = 3.0


class EventPublisher:
    """One idempotent aiokafka producer shared by all requests of an API process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._probed_at = -_PROBE_EVERY_SECONDS
        self._reachable = False

    async def _ensure_started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is not None:
                return self._producer
            try:
                producer = AIOKafkaProducer(
                    **aiokafka_options(self._settings),
                    client_id=f"{self._settings.namespace}-api",
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=2,
                    max_request_size=self._settings.http_max_body_bytes + 64 * 1024,
                    request_timeout_ms=int(self._settings.publish_timeout.total_seconds() * 1000),
                )
                await asyncio.wait_for(
                    producer.start(), self._settings.publish_timeout.total_seconds()
                )
            except (KafkaError, KafkaNotConfigured, TimeoutError, OSError) as exc:
                raise KafkaUnavailable(f"cannot connect to Kafka: {type(exc).__name__}") from exc
            self._producer = producer
            return producer

    async def publish(
        self, topic: str, records: Sequence[tuple[bytes, bytes | None]]
    ) -> list[RecordMetadata]:
        """Send (key, value) pairs to `topic` (None: a tombstone) and return once Kafka
        acknowledged every one, with where each was written."""
        producer = await self._ensure_started()
        try:
            futures = [await producer.send(topic, value=value, key=key) for key, value in records]
            return list(
                await asyncio.wait_for(
                    asyncio.gather(*futures), self._settings.publish_timeout.total_seconds()
                )
            )
        except (KafkaError, TimeoutError) as exc:
            log.warning(
                "publishing %d event(s) to %s failed: %s", len(records), topic, type(exc).__name__
            )
            raise KafkaUnavailable(f"Kafka did not acknowledge: {type(exc).__name__}") from exc

    async def ready(self) -> bool:
        """True when Kafka answers a metadata request now (connecting first if needed).

        A started producer says nothing about the broker a minute later: /readyz must turn 503
        when Kafka goes away, so load balancers stop sending events that would only get 503s.
        Probes are cached for a moment so a busy health check costs one request per interval.
        """
        now = time.monotonic()
        if now - self._probed_at < _PROBE_EVERY_SECONDS:
            return self._reachable
        try:
            producer = await self._ensure_started()
            await asyncio.wait_for(producer.client.fetch_all_metadata(), _PROBE_TIMEOUT_SECONDS)
        except (KafkaUnavailable, KafkaError, TimeoutError, OSError):
            self._reachable = False
        else:
            self._reachable = True
        self._probed_at = time.monotonic()
        return self._reachable

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
