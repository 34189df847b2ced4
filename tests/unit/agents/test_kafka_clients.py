"""The worker's Kafka clients gather records instead of making a round trip for every few:
the producer lingers and the consumer's fetch may wait, both as the settings say."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agents.app import create_app
from agents.consumer import FetchGathering
from kesu.settings import Settings


def _settings(tmp_path: Path, **fields: object) -> Settings:
    return Settings(
        _env_file=None,
        kafka_bootstrap="127.0.0.1:1",
        namespace="x",
        data_dir=tmp_path,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.asyncio
async def test_the_worker_consumer_fetches_as_the_settings_say(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, worker_fetch_wait=timedelta(milliseconds=25)))
    assert app.fetch == FetchGathering(max_wait_ms=25, min_bytes=64 * 1024)
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert (consumer._fetch_max_wait_ms, consumer._fetch_min_bytes) == (25, 64 * 1024)
    finally:
        await consumer.stop()


@pytest.mark.asyncio
async def test_by_default_a_fetch_waits_ten_milliseconds(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert consumer._fetch_max_wait_ms == 10
    finally:
        await consumer.stop()


def test_the_producer_lingers_as_the_settings_say(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, worker_producer_linger=timedelta(milliseconds=7)))
    assert app.conf.producer_linger == pytest.approx(0.007)
    assert app.producer._settings_default()["linger_ms"] == 7  # what aiokafka is given
    assert create_app(_settings(tmp_path)).conf.producer_linger == pytest.approx(0.005)


@pytest.mark.asyncio
async def test_a_zero_wait_leaves_fausts_own_fetch(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, worker_fetch_wait=timedelta(0)))
    assert app.fetch is None
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert (consumer._fetch_max_wait_ms, consumer._fetch_min_bytes) == (1500, 1)
    finally:
        await consumer.stop()
