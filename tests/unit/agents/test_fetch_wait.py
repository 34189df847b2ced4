"""The worker's fetch waits at most `worker_fetch_max_wait` (Faust hard-codes 1.5 s): a fetch
of only quiet partitions held that long kept a worker that fell behind seconds behind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from agents.app import create_app
from kesu.settings import Settings


def _settings(tmp_path: Path, **fields: object) -> Settings:
    return Settings(
        _env_file=None,
        kafka_bootstrap="127.0.0.1:1",
        namespace="x",
        data_dir=tmp_path,
        **fields,  # type: ignore[arg-type]
    )


async def _fetch_wait_of_worker_consumer(settings: Settings) -> int:
    app = create_app(settings)
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        return int(consumer._fetch_max_wait_ms)
    finally:
        await consumer.stop()


@pytest.mark.asyncio
async def test_by_default_a_fetch_waits_at_most_a_tenth_of_a_second(tmp_path: Path) -> None:
    assert await _fetch_wait_of_worker_consumer(_settings(tmp_path)) == 100


@pytest.mark.asyncio
async def test_the_setting_reaches_the_consumer(tmp_path: Path) -> None:
    settings = _settings(tmp_path, worker_fetch_max_wait=timedelta(milliseconds=40))
    assert await _fetch_wait_of_worker_consumer(settings) == 40


@pytest.mark.parametrize("wait", [timedelta(0), timedelta(seconds=11)])
def test_a_wait_out_of_range_is_refused_with_the_reason(tmp_path: Path, wait: timedelta) -> None:
    with pytest.raises(ValidationError, match="fetch wait must be between 1 ms and 10 s"):
        _settings(tmp_path, worker_fetch_max_wait=wait)
