"""agents/batches.py without Kafka: staged reads and writes, and delivery of a batch's outputs
(acknowledged together, re-sent in order after a failure, a refused record replaced)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from agents import batches
from agents.batches import Batch, deliver
from streams.records import DeadLetter, RejectReason

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@dataclass
class FakeMessage:
    topic: str = "t.raw.call"
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"k"
    value: bytes | None = b'{"event_id":"e-1"}'
    timestamp: float | None = None


@dataclass
class FakeEvent:
    message: FakeMessage = field(default_factory=FakeMessage)


class Producer:
    """Records each send; fails the sends whose number is in `failures` (with that error)."""

    def __init__(self, failures: dict[int, BaseException] | None = None) -> None:
        self.failures = failures or {}
        self.sent: list[tuple[str, bytes | None]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None, **_: Any) -> Any:
        number = len(self.sent)
        self.sent.append((topic, key))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        error = self.failures.get(number)
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
        return future


@dataclass
class FakeApp:
    producer: Producer
    in_transaction: bool = False


def _batch(producer: Producer) -> Batch:
    return Batch(FakeApp(producer), "t.dlq", lambda: NOW)  # type: ignore[arg-type]


class TestStaging:
    def test_reads_see_the_batchs_own_writes(self) -> None:
        """A later event of the batch reads what an earlier one wrote; a delete reads None."""
        table = {"a": "stored"}
        batch = _batch(Producer())
        batch.current = FakeEvent()  # type: ignore[assignment]
        assert batch.get(table, "a") == "stored"
        batch.put(table, "a", "new")
        assert batch.get(table, "a") == "new"
        batch.put(table, "a", None)
        assert batch.get(table, "a") is None
        assert table == {"a": "stored"}, "nothing is written before the outputs are confirmed"

    def test_a_write_needs_an_event(self) -> None:
        """A table write outside an event has no partition: refused."""
        with pytest.raises(RuntimeError, match="belongs to an event"):
            _batch(Producer()).put({}, "a", "x")


class TestDeliver:
    @pytest.mark.asyncio
    async def test_outputs_are_sent_in_order_and_waited_for_together(self) -> None:
        """Every staged output goes out once, in order."""
        producer = Producer()
        batch = _batch(producer)
        for n in range(3):
            batch.send("t.out", key=f"k{n}".encode(), value=b"v")
        await deliver(batch.app, batch, "test")
        assert producer.sent == [("t.out", b"k0"), ("t.out", b"k1"), ("t.out", b"k2")]

    @pytest.mark.asyncio
    async def test_a_failed_send_resends_the_whole_batch_in_order(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After a retriable failure the lot is sent again (order per key kept; ids dedupe)."""
        monkeypatch.setattr(batches, "_FIRST_DELAY", 0.0)
        producer = Producer({1: KafkaTimeoutError()})
        batch = _batch(producer)
        for n in range(3):
            batch.send("t.out", key=f"k{n}".encode(), value=b"v")
        await deliver(batch.app, batch, "test")
        keys = [key for _, key in producer.sent]
        assert keys == [b"k0", b"k1", b"k2", b"k0", b"k1", b"k2"]

    @pytest.mark.asyncio
    async def test_a_record_kafka_never_takes_becomes_a_dead_letter_of_its_event(self) -> None:
        """Too large for its topic: the batch goes again without it, plus the event's dead
        letter (the rest may go twice: at-least-once)."""
        producer = Producer({0: MessageSizeTooLargeError()})
        batch = _batch(producer)
        batch.current = FakeEvent()  # type: ignore[assignment]
        batch.send("t.out", key=b"big", value=b"x")
        batch.send("t.out", key=b"small", value=b"y")
        await deliver(batch.app, batch, "test")
        assert producer.sent[-2:] == [("t.out", b"small"), ("t.dlq", producer.sent[-1][1])]
        assert (("t.out", b"big")) not in producer.sent[1:]
        letter = DeadLetter.model_validate_json(
            next(o.value for o in batch.outputs if o.topic == "t.dlq") or b""
        )
        assert letter.reason is RejectReason.PROCESSING_FAILED
        assert letter.original.to_bytes() == FakeMessage().value
        assert letter.event_id == "e-1"


class TestTransactions:
    """Under exactly_once (trial R7 only) an output joins its input partition's transaction."""

    @dataclass
    class _Conf:
        id: str = "kesu-r7"

    class _Assignor:
        def group_for_topic(self, topic: str) -> int:
            return {"t.raw.call": 0, "t.assessments": 1}[topic]

    @dataclass
    class _Tp:
        topic: str
        partition: int

    def _app(self, in_transaction: bool) -> Any:
        app = FakeApp(Producer(), in_transaction=in_transaction)
        app.conf = self._Conf()  # type: ignore[attr-defined]
        app.assignor = self._Assignor()  # type: ignore[attr-defined]
        return app

    def _event(self, topic: str, partition: int) -> Any:
        message = FakeMessage(topic=topic, partition=partition)
        message.tp = self._Tp(topic, partition)  # type: ignore[attr-defined]
        return FakeEvent(message)

    def test_the_input_partition_names_the_transaction(self) -> None:
        app = self._app(in_transaction=True)
        assert batches.transaction_of(app, self._event("t.raw.call", 3)) == "kesu-r7-0-3"
        assert batches.transaction_of(app, self._event("t.assessments", 1)) == "kesu-r7-1-1"

    def test_none_at_least_once_or_without_an_input(self) -> None:
        assert batches.transaction_of(self._app(False), self._event("t.raw.call", 3)) is None
        assert batches.transaction_of(self._app(True), None) is None
