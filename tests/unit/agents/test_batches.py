"""agents/batches.py without Kafka: staged reads and writes, and delivery of a batch's outputs
(acknowledged together, re-sent in order after a failure, a refused record replaced)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError

from agents import batches, produce
from agents.batches import Batch, deliver
from kesu.metrics import KAFKA_SEND_RETRIES
from streams.records import DeadLetter, RejectReason
from tests.unit.agents.test_produce import Client


class FlakyOnce(Client):
    """A client whose failing partitions fail only their first record batch."""

    async def send_batch(self, builder: Any, topic: str, *, partition: int) -> Any:
        future = await super().send_batch(builder, topic, partition=partition)
        self.fail.pop((topic, partition), None)
        return future


NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeTp:
    topic: str
    partition: int


@dataclass
class FakeMessage:
    topic: str = "t.raw.call"
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"k"
    value: bytes | None = b'{"event_id":"e-1"}'
    timestamp: float | None = None

    @property
    def tp(self) -> FakeTp:
        return FakeTp(self.topic, self.partition)


@dataclass
class FakeEvent:
    message: FakeMessage = field(default_factory=FakeMessage)


class Producer:
    """Faust's producer: records each send and fails the sends whose number is in `failures`
    (with that error); its aiokafka client (`_ensure_producer`) takes record batches and fails
    those sent to the partitions named in `client.fail` (tests/unit/agents/test_produce.py)."""

    def __init__(
        self, failures: dict[int, BaseException] | None = None, client: Client | None = None
    ) -> None:
        self.failures = failures or {}
        self.sent: list[tuple[str, bytes | None]] = []
        self.client = client or Client(partitions=1)

    def _ensure_producer(self) -> Client:
        return self.client

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


class TestLatest:
    """A compacted topic keeps a key's last record: a batch sends each key once (alerts.state
    repeated every lifecycle record of an alert, intermediate versions included)."""

    def _stage(self, batch: Batch) -> tuple[FakeEvent, FakeEvent, FakeEvent]:
        first, second, other = (
            FakeEvent(),
            FakeEvent(FakeMessage(offset=8)),
            FakeEvent(FakeMessage(partition=1)),
        )
        for event, topic, key, value in [
            (first, "t.lifecycle", b"a1", b"a1:v1"),
            (first, "t.state", b"a1", b"a1:v1"),
            (first, "t.state", b"a2", b"a2:v1"),
            (other, "t.state", b"a1", b"a1:v2 (partition 1)"),
            (second, "t.lifecycle", b"a1", b"a1:v3"),
            (second, "t.state", b"a1", b"a1:v3"),
        ]:
            batch.current = event  # type: ignore[assignment]
            if topic == "t.state":
                batch.send_latest(topic, key=key, value=value)
            else:
                batch.send(topic, key=key, value=value)
        return first, second, other

    def test_a_keys_later_record_replaces_its_earlier_one_in_place(self) -> None:
        batch = _batch(Producer())
        _, second, _ = self._stage(batch)
        assert [(o.topic, o.key, o.value) for o in batch.outputs] == [
            ("t.lifecycle", b"a1", b"a1:v1"),
            ("t.state", b"a1", b"a1:v3"),
            ("t.state", b"a2", b"a2:v1"),
            ("t.lifecycle", b"a1", b"a1:v3"),
        ]
        assert batch.outputs[1].origin is second, "the last record's event is its origin"

    def test_under_a_transaction_each_input_partition_keeps_its_own(self) -> None:
        batch = Batch(FakeApp(Producer(), in_transaction=True), "t.dlq", lambda: NOW)  # type: ignore[arg-type]
        self._stage(batch)
        assert [(o.topic, o.key, o.value) for o in batch.outputs if o.topic == "t.state"] == [
            ("t.state", b"a1", b"a1:v3"),
            ("t.state", b"a2", b"a2:v1"),
            ("t.state", b"a1", b"a1:v2 (partition 1)"),
        ]

    def test_a_latest_output_needs_an_event(self) -> None:
        with pytest.raises(RuntimeError, match="belongs to an event"):
            _batch(Producer()).send_latest("t", key=b"k", value=b"v")


class TestFolding:
    """One record per topic and key of a batch (issue #17: the surge fan-out); one per input
    partition too under exactly_once, where a record belongs to its partition's transaction."""

    @staticmethod
    def _joined(items: list[Any]) -> bytes:
        return ",".join(items).encode()

    def _fold_four(self, batch: Batch) -> tuple[FakeEvent, FakeEvent, FakeEvent]:
        first, second, other = (
            FakeEvent(),
            FakeEvent(FakeMessage(offset=8)),
            FakeEvent(FakeMessage(partition=1)),
        )
        for event, key, item in [
            (first, "region:华东".encode(), "a"),
            (first, b"batch:B1", "b"),
            (other, "region:华东".encode(), "d"),
            (second, "region:华东".encode(), "c"),
        ]:
            batch.current = event  # type: ignore[assignment]
            batch.send_folded("t.surge", key=key, item=item, encode=self._joined)
        batch.current = second  # type: ignore[assignment]
        batch.send("t.assessments", key=b"c1", value=b"x")
        batch.seal()
        return first, second, other

    def test_items_of_one_key_become_one_record_in_order_across_input_partitions(self) -> None:
        batch = _batch(Producer())
        first, second, _ = self._fold_four(batch)
        assert [(o.topic, o.key, o.value) for o in batch.outputs] == [
            ("t.assessments", b"c1", b"x"),
            ("t.surge", "region:华东".encode(), b"a,d,c"),  # partition 1's "d" folded in, in order
            ("t.surge", b"batch:B1", b"b"),
        ]
        assert [o.origin for o in batch.outputs[1:]] == [second, first]  # type: ignore[comparison-overlap]
        assert batch.folds == {}, "sealed once"

    def test_under_a_transaction_each_input_partition_folds_its_own_record(self) -> None:
        batch = Batch(FakeApp(Producer(), in_transaction=True), "t.dlq", lambda: NOW)  # type: ignore[arg-type]
        first, second, other = self._fold_four(batch)
        assert [(o.topic, o.key, o.value) for o in batch.outputs] == [
            ("t.assessments", b"c1", b"x"),
            ("t.surge", "region:华东".encode(), b"a,c"),
            ("t.surge", b"batch:B1", b"b"),
            ("t.surge", "region:华东".encode(), b"d"),  # another input partition: its own record
        ]
        assert [o.origin for o in batch.outputs[1:]] == [second, first, other]  # type: ignore[comparison-overlap]

    def test_a_long_fold_is_cut_into_records_of_at_most_max_folded_items(self) -> None:
        batch = _batch(Producer())
        batch.current = FakeEvent()  # type: ignore[assignment]
        total = batches.MAX_FOLDED * 2 + 1
        for number in range(total):
            batch.send_folded("t.surge", key=b"k", item=str(number), encode=self._joined)
        batch.seal()
        sizes = [len((o.value or b"").split(b",")) for o in batch.outputs]
        assert sizes == [batches.MAX_FOLDED, batches.MAX_FOLDED, 1]
        assert b",".join(o.value or b"" for o in batch.outputs).split(b",") == [
            str(n).encode() for n in range(total)
        ]

    def test_a_fold_may_set_its_own_cap(self) -> None:
        batch = _batch(Producer())
        batch.current = FakeEvent()  # type: ignore[assignment]
        for number in range(7):
            batch.send_folded("t.v", key=b"k", item=str(number), encode=self._joined, max_items=3)
        batch.seal()
        assert [o.value for o in batch.outputs] == [b"0,1,2", b"3,4,5", b"6"]

    def test_a_fold_too_large_for_one_record_is_split_in_order(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each record stays under the byte cap (Kafka refuses larger ones), items in order."""
        monkeypatch.setattr(batches, "MAX_FOLDED_BYTES", 10)
        batch = _batch(Producer())
        events = [FakeEvent(FakeMessage(offset=n)) for n in range(7)]
        for number, event in enumerate(events):
            batch.current = event  # type: ignore[assignment]
            batch.send_folded("t.v", key=b"k", item=f"{number}{number}", encode=self._joined)
        batch.seal()
        values = [o.value or b"" for o in batch.outputs]
        assert all(len(v) <= 10 for v in values) and len(values) > 1
        assert b",".join(values) == b"00,11,22,33,44,55,66"
        assert batch.outputs[-1].origin is events[-1]  # type: ignore[comparison-overlap]

    def test_one_item_larger_than_the_cap_is_still_its_own_record(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(batches, "MAX_FOLDED_BYTES", 3)
        batch = _batch(Producer())
        batch.current = FakeEvent()  # type: ignore[assignment]
        batch.send_folded("t.v", key=b"k", item="large", encode=self._joined)
        batch.seal()
        assert [o.value for o in batch.outputs] == [b"large"]

    def test_a_folded_output_needs_an_event(self) -> None:
        with pytest.raises(RuntimeError, match="belongs to an event"):
            _batch(Producer()).send_folded("t", key=b"k", item="a", encode=self._joined)


def _failing_batches() -> Client:
    """A client whose record batches are all refused as too large: delivery falls back to
    sending one by one, which finds the record Kafka refuses."""
    client = Client(partitions=1)
    for topic in ("t.out", "t.dlq"):
        client.fail[(topic, 0)] = MessageSizeTooLargeError()
    return client


class TestDeliver:
    @pytest.mark.asyncio
    async def test_outputs_go_as_record_batches_in_order_and_are_waited_for_together(
        self,
    ) -> None:
        """Every staged output goes out once, in order, in one record batch per partition."""
        producer = Producer()
        batch = _batch(producer)
        for n in range(3):
            batch.send("t.out", key=f"k{n}".encode(), value=b"v")
        batch.send("t.dlq", key=b"d", value=b"v")
        await deliver(batch.app, batch, "test")
        assert producer.client.sent == [("t.out", 0, [b"k0", b"k1", b"k2"]), ("t.dlq", 0, [b"d"])]
        assert producer.sent == [], "nothing sent one by one"

    @pytest.mark.asyncio
    async def test_after_a_refused_record_batch_the_outputs_go_one_by_one(self) -> None:
        """One by one finds the record Kafka refuses for good."""
        client = Client(partitions=1)
        client.fail[("t.out", 0)] = MessageSizeTooLargeError()
        producer = Producer(client=client)
        batch = _batch(producer)
        for n in range(2):
            batch.send("t.out", key=f"k{n}".encode(), value=b"v")
        await deliver(batch.app, batch, "test")
        assert client.sent == [("t.out", 0, [b"k0", b"k1"])]
        assert producer.sent == [("t.out", b"k0"), ("t.out", b"k1")]

    @pytest.mark.asyncio
    async def test_a_retriable_failure_resends_the_record_batches_after_a_wait(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A broker away: the batch waits and goes again as record batches, not one by one
        (which would only wait for the same broker a second time), counted for its topic."""
        monkeypatch.setattr(produce, "FIRST_RETRY_DELAY", 0.0)
        client = FlakyOnce(partitions=1)
        client.fail[("t.out", 0)] = KafkaTimeoutError()
        producer = Producer(client=client)
        batch = _batch(producer)
        for n in range(2):
            batch.send("t.out", key=f"k{n}".encode(), value=b"v")
        retries = KAFKA_SEND_RETRIES.labels("t.out")._value.get()
        await deliver(batch.app, batch, "test")
        assert client.sent == [("t.out", 0, [b"k0", b"k1"])] * 2
        assert producer.sent == [], "nothing sent one by one"
        assert KAFKA_SEND_RETRIES.labels("t.out")._value.get() == retries + 1

    @pytest.mark.asyncio
    async def test_outputs_are_sent_in_order_and_waited_for_together(self) -> None:
        """One by one, every staged output goes out once, in order."""
        producer = Producer(client=_failing_batches())
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
        monkeypatch.setattr(produce, "FIRST_RETRY_DELAY", 0.0)
        producer = Producer({1: KafkaTimeoutError()}, _failing_batches())
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
        producer = Producer({0: MessageSizeTooLargeError()}, _failing_batches())
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

    def _app(self, in_transaction: bool) -> Any:
        app = FakeApp(Producer(), in_transaction=in_transaction)
        app.conf = self._Conf()  # type: ignore[attr-defined]
        app.assignor = self._Assignor()  # type: ignore[attr-defined]
        return app

    def _event(self, topic: str, partition: int) -> Any:
        return FakeEvent(FakeMessage(topic=topic, partition=partition))

    def test_the_input_partition_names_the_transaction(self) -> None:
        app = self._app(in_transaction=True)
        assert batches.transaction_of(app, self._event("t.raw.call", 3)) == "kesu-r7-0-3"
        assert batches.transaction_of(app, self._event("t.assessments", 1)) == "kesu-r7-1-1"

    def test_none_at_least_once_or_without_an_input(self) -> None:
        assert batches.transaction_of(self._app(False), self._event("t.raw.call", 3)) is None
        assert batches.transaction_of(self._app(True), None) is None


class OneBatchStream:
    """A stream that hands out one batch of events and records their acknowledgements."""

    def __init__(self, events: list[FakeEvent]) -> None:
        self.events = events
        self.acked: list[FakeEvent] = []

    async def noack_take(self, max_events: int, within: float) -> Any:
        yield self.events

    async def ack(self, event: FakeEvent) -> None:
        self.acked.append(event)


async def _beside_another_stage(handle: Any, events: list[FakeEvent]) -> tuple[set[int], list[Any]]:
    """Run one batch of `events` through `handle` while another task wants the loop: the
    numbers of events handled when the other ran in the middle of the batch, and the acks."""
    handled: list[int] = []
    others_ran_after: list[int] = []
    stream = OneBatchStream(events)

    def counted(event: Any, batch: Batch) -> None:
        handle(event, batch)
        handled.append(id(event))

    async def other_stage() -> None:
        while len(handled) < len(events):
            others_ran_after.append(len(handled))
            await asyncio.sleep(0)

    other = asyncio.create_task(other_stage())
    await asyncio.sleep(0)  # the other stage is waiting for the loop
    await batches.consume_in_batches(
        FakeApp(Producer()),  # type: ignore[arg-type]
        stream,  # type: ignore[arg-type]
        name="test",
        dlq_topic="t.dlq",
        clock=lambda: NOW,
        handle=counted,
        within=0.02,
    )
    await other
    return {n for n in others_ran_after if 0 < n < len(events)}, stream.acked


class HandlingClock:
    """agents/batches' view of time in these tests: it moves only when a handler says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


class TestSharingTheLoop:
    @pytest.mark.asyncio
    async def test_a_long_batch_gives_the_loop_to_other_stages_while_it_runs(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every stage runs on the worker's one event loop: a batch whose handlers take longer
        than `HOLD_LOOP_AT_MOST` lets other tasks run between its events, not only after it."""
        clock = HandlingClock()
        monkeypatch.setattr(batches, "time", clock)

        def slow(event: Any, batch: Batch) -> None:
            clock.now += 0.6 * batches.HOLD_LOOP_AT_MOST  # as long scoring would take

        events = [FakeEvent() for _ in range(10)]
        during, acked = await _beside_another_stage(slow, events)
        assert acked == events
        assert during == {2, 4, 6, 8}  # the hold is reached every second event

    @pytest.mark.asyncio
    async def test_a_short_batch_runs_through_without_giving_the_loop_away(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Yielding costs a trip round the loop: quick handlers do not pay it per event."""
        clock = HandlingClock()
        monkeypatch.setattr(batches, "time", clock)

        def quick(event: Any, batch: Batch) -> None:
            clock.now += 0.05 * batches.HOLD_LOOP_AT_MOST

        events = [FakeEvent() for _ in range(10)]
        during, acked = await _beside_another_stage(quick, events)
        assert acked == events
        assert during == set()
