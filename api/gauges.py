"""Gauges the API refreshes for /metrics: alerts by tier and status, and consumer lag.

Lag is measured the way `kafka-consumer-groups --describe` does it: for every partition a
group has committed, end offset minus committed offset, summed per topic. The worker's group
is the namespace itself (Faust's app id); the notifier's is `<namespace>-notifier`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from api.view import AlertView
from kesu.kafka_config import KafkaNotConfigured, aiokafka_options
from kesu.metrics import ALERTS, CONSUMER_LAG, CONSUMER_LAG_UPDATED
from kesu.settings import Settings
from notify.notifier import notifier_group
from streams.records import AlertStatus

__all__ = ["count_alerts", "measure_lag", "refresh_forever"]

log = logging.getLogger(__name__)


def count_alerts(view: AlertView) -> None:
    """Set kesu_alerts for every tier and status (zeros included, so series never vanish)."""
    counts = Counter((a.tier, a.status) for a in view.alerts.values())
    for tier in (1, 2, 3):
        for status in AlertStatus:
            ALERTS.labels(str(tier), status.value).set(counts[(tier, status)])


async def measure_lag(settings: Settings, groups: list[str]) -> dict[tuple[str, str], int]:
    """Lag per (group, topic) of each group's committed partitions."""
    options = aiokafka_options(settings)
    admin = AIOKafkaAdminClient(**options, client_id=f"{settings.namespace}-api-lag")
    consumer = AIOKafkaConsumer(
        **options, client_id=f"{settings.namespace}-api-lag", enable_auto_commit=False
    )
    await admin.start()
    await consumer.start()
    try:
        lag: dict[tuple[str, str], int] = {}
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            partitions = [tp for tp, meta in committed.items() if meta.offset >= 0]
            if not partitions:
                continue
            ends = await consumer.end_offsets(partitions)
            for tp in partitions:
                key = (group, tp.topic)
                lag[key] = lag.get(key, 0) + max(0, ends[tp] - committed[tp].offset)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def refresh_forever(settings: Settings, view: AlertView) -> None:
    """Refresh the gauges every `metrics_refresh_interval` until cancelled."""
    groups = [settings.namespace, notifier_group(settings)]
    while True:
        count_alerts(view)
        try:
            for (group, topic), value in (await measure_lag(settings, groups)).items():
                CONSUMER_LAG.labels(group, topic).set(value)
            CONSUMER_LAG_UPDATED.set(time.time())
        except (KafkaError, KafkaNotConfigured, OSError) as exc:
            log.warning("consumer lag not measured: %s", type(exc).__name__)
        except Exception:  # a gauge must never take the API down, nor stop refreshing
            log.exception("consumer lag not measured")
        await asyncio.sleep(settings.metrics_refresh_interval.total_seconds())
