"""Faust test_context() checks of the dedupe agent's ordering; the real-broker tests cover the rest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from unittest.mock import AsyncMock

import faust
import pytest
from aiokafka.errors import KafkaConnectionError

from agents import sending
from agents.app import create_app
from kesu.settings import Settings
from streams.codec import Limits, decode_event, encode_record
from streams.records import Source, UpstreamEvent
from tests.factories import make_event, now_utc, to_bytes


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[faust.App]:
    monkeypatch.setattr(sending, "_FIRST_DELAY", 0.001)
    settings = Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1", store="memory")
    app = create_app(settings)
    app.finalize()
    app.conf.store = "memory://"
    app.flow_control.resume()
    yield app


async def _drain(agent: Any, app: faust.App) -> list[Any]:
    """Put a barrier event and wait until it was sent: every earlier event is then fully processed.

    (test_context's put() returns when a non-yielding agent *takes* a value, not when it is done.)
    Returns the send calls made before the barrier.
    """
    barrier = _valid()
    await agent.put(encode_record(barrier), key=barrier.dedupe_key.encode())
    for _ in range(500):
        calls = app.producer.send_and_wait.await_args_list
        if any(call.args[1] == barrier.event_id.encode() for call in calls):
            return [call for call in calls if call.args[1] != barrier.event_id.encode()]
        await asyncio.sleep(0.01)
    raise AssertionError("the barrier event was never sent")


def _valid(source: Source = Source.CALL) -> UpstreamEvent:
    record = decode_event(source, to_bytes(make_event(source)), now_utc(), Limits())
    assert isinstance(record, UpstreamEvent)
    return record


@pytest.mark.asyncio
async def test_a_retried_event_is_forwarded_once(app: faust.App) -> None:
    """Two deliveries of the same source:event_id produce one clean record."""
    app.producer.send_and_wait = AsyncMock()
    record = _valid()
    async with app.agents["dedupe"].test_context() as agent:
        await agent.put(encode_record(record), key=record.dedupe_key.encode())
        await agent.put(encode_record(record), key=record.dedupe_key.encode())
        calls = await _drain(agent, app)
    assert [(call.args[0], call.args[1]) for call in calls] == [
        ("kesu.clean.call", record.event_id.encode())
    ]


@pytest.mark.asyncio
async def test_id_is_marked_seen_only_after_kafka_acknowledged(app: faust.App) -> None:
    """While the clean record is not acknowledged, the id stays unseen (a crash then loses nothing)."""
    seen = app.tables["seen-events"]
    record = _valid()
    seen_at_send: list[bool] = []

    async def flaky_send(topic: str, key: bytes, value: bytes, **_: Any) -> None:
        seen_at_send.append(record.dedupe_key in seen)
        if len(seen_at_send) < 3:
            raise KafkaConnectionError("broker away")

    app.producer.send_and_wait = AsyncMock(side_effect=flaky_send)
    async with app.agents["dedupe"].test_context() as agent:
        await agent.put(encode_record(record), key=record.dedupe_key.encode())
        await _drain(agent, app)
        assert seen_at_send[:3] == [False, False, False]
        assert record.dedupe_key in seen


@pytest.mark.asyncio
async def test_same_event_id_from_two_sources_is_two_events(app: faust.App) -> None:
    """Ids are unique per source: call 7 and post 7 are different events."""
    app.producer.send_and_wait = AsyncMock()
    call = _valid(Source.CALL)
    post = _valid(Source.SOCIAL).model_copy(update={"event_id": call.event_id})
    async with app.agents["dedupe"].test_context() as agent:
        await agent.put(encode_record(call), key=call.dedupe_key.encode())
        await agent.put(encode_record(post), key=post.dedupe_key.encode())
        calls = await _drain(agent, app)
    assert [call.args[0] for call in calls] == ["kesu.clean.call", "kesu.clean.social"]


@pytest.mark.asyncio
async def test_unreadable_record_is_dead_lettered_and_the_stream_goes_on(app: faust.App) -> None:
    """A poison pill on the valid topic becomes a PROCESSING_FAILED dead letter; the next event flows."""
    app.producer.send_and_wait = AsyncMock()
    record = _valid()
    async with app.agents["dedupe"].test_context() as agent:
        await agent.put(b"\xff not json", key=b"call:x")
        await agent.put(encode_record(record), key=record.dedupe_key.encode())
        calls = await _drain(agent, app)
    assert [call.args[0] for call in calls] == ["kesu.dlq", "kesu.clean.call"]
    letter = json.loads(calls[0].args[2])
    assert letter["reason"] == "PROCESSING_FAILED"
    assert letter["original"]["encoding"] == "base64"
