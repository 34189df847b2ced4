"""One hanging receiver delays only its own messages: the notifier on the real broker.

The notifier runs in-process (its own thread and event loop) against the session broker and two
real HTTP receivers on loopback; subscriptions and lifecycle records are written to their
topics directly, as the API and the worker would. The slow receiver holds its first request
until the test opens a gate, so nothing here depends on how fast anything is.

A subscription gets one message at a time (so one alert's records arrive in order): while the
slow receiver holds a message, what else it is due waits — and arrives folded into its next
message once the gate opens — while the healthy receiver gets everything at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from kafka.admin import KafkaAdminClient

from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from notify import PushFormat
from notify.notifier import Notifier, notifier_group
from notify.policy import Policy
from notify.sealing import Sealer
from streams.records import AlertEvent, Transition
from streams.topics import LIFECYCLE, SUBSCRIPTIONS
from tests.conftest import Broker, SettingsFactory
from tests.integration.support import eventually, publish, read_all
from tests.integration.test_push_delivery import Receiver, Reply
from tests.unit.notify.samples import make_alert_event, subscription


class NotifierThread:
    """`Notifier(settings).run()` on its own event loop, stopped by cancelling it."""

    def __init__(self, settings: Settings) -> None:
        self.notifier = Notifier(settings)
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, name="notifier", daemon=True)

    def _main(self) -> None:
        self._task = self._loop.create_task(self.notifier.run())
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        self._loop.close()

    def start(self) -> NotifierThread:
        self._thread.start()
        eventually(self.notifier.ready.is_set, what="the notifier to be ready")
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the notifier did not stop"


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    found = {name: Receiver() for name in ("healthy", "slow")}
    for receiver in found.values():
        receiver.thread.start()
    yield found
    for receiver in found.values():
        receiver.server.shutdown()
        receiver.server.server_close()


def _event(alert_id: str, version: int, transition: Transition) -> AlertEvent:
    return make_alert_event(transition, alert_id=alert_id, version=version)


def _publish_events(broker: Broker, settings: Settings, *events: AlertEvent) -> None:
    topic = LIFECYCLE.name(settings.namespace)
    publish(
        broker.bootstrap,
        topic,
        [(e.alert_id.encode(), e.model_dump_json().encode()) for e in events],
    )


def _seen(receiver: Receiver) -> list[tuple[str, str]]:
    """(alert_id, transition) of every alert event the receiver got, in arrival order (a
    message about several alerts lists each)."""
    seen: list[tuple[str, str]] = []
    for request in receiver.requests:
        body = request.json()
        items = body["items"] if "items" in body else [body]
        seen += [(item["alert_id"], item["transition"]) for item in items]
    return seen


def _committed(broker: Broker, settings: Settings) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        group = notifier_group(settings)
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    topic = LIFECYCLE.name(settings.namespace)
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def test_a_hanging_receiver_delays_only_its_own_deliveries(
    kafka_broker: Broker, make_settings: SettingsFactory, receivers: dict[str, Receiver]
) -> None:
    settings = make_settings(
        push_timeout="120s", push_max_attempts=2, push_allowed_destinations="127.0.0.0/8"
    )
    sealer = Sealer(ensure_callback_secret(settings).encode())
    quick = Policy(group_wait=timedelta(0), group_interval=timedelta(milliseconds=100))
    subscriptions = [
        subscription(PushFormat.JSON, id=name, url=f"{receiver.base}/hook", policy=quick)
        for name, receiver in receivers.items()
    ]
    publish(
        kafka_broker.bootstrap,
        SUBSCRIPTIONS.name(settings.namespace),
        [(s.id.encode(), sealer.stored(s)) for s in subscriptions],
    )
    gate = threading.Event()
    receivers["slow"].answer(Reply(process=True, status=204, body=b"", gate=gate))
    notifier = NotifierThread(settings).start()
    try:
        first = _event("al-a", 1, Transition.OPENED)
        _publish_events(kafka_broker, settings, first)
        eventually(lambda: _seen(receivers["slow"]), what="the slow receiver to be holding")

        # While the slow receiver holds alert A's first record, everything else moves on:
        # a new alert to both, and A's next record to the healthy one.
        _publish_events(
            kafka_broker,
            settings,
            _event("al-b", 1, Transition.OPENED),
            _event("al-a", 2, Transition.WARNED),
        )
        eventually(
            lambda: len(_seen(receivers["healthy"])) == 3,
            timeout=60,
            what="all three records at the healthy receiver while the slow one hangs",
        )
        assert set(_seen(receivers["healthy"])) == {
            ("al-a", "opened"),
            ("al-b", "opened"),
            ("al-a", "warned"),
        }
        assert _seen(receivers["healthy"]).index(("al-a", "opened")) < _seen(
            receivers["healthy"]
        ).index(("al-a", "warned"))
        assert _seen(receivers["slow"]) == [("al-a", "opened")], "the slow lane waits"
        assert not gate.is_set()
        a_partition = _partition_of(kafka_broker, settings, "al-a")
        assert _committed(kafka_broker, settings).get(a_partition, 0) <= _offset_of(
            kafka_broker, settings, first
        ), "committed past a record still being delivered"

        gate.set()
        eventually(
            lambda: len(_seen(receivers["slow"])) == 3,
            what="the rest at the slow receiver once its first message got through",
        )
        slow = _seen(receivers["slow"])
        assert sorted(slow) == sorted(_seen(receivers["healthy"])), "each event once, to each"
        assert slow.index(("al-a", "opened")) < slow.index(("al-a", "warned"))
        ends = _end_offsets(kafka_broker, settings)
        eventually(
            lambda: _committed(kafka_broker, settings) == ends,
            what="every offset committed once every message was settled",
        )
    finally:
        gate.set()
        notifier.stop()


def _records(broker: Broker, settings: Settings) -> list[tuple[int, int, bytes]]:
    return [
        (r.partition, r.offset, r.value or b"")
        for r in read_all(broker.bootstrap, [LIFECYCLE.name(settings.namespace)])
    ]


def _partition_of(broker: Broker, settings: Settings, alert_id: str) -> int:
    return next(
        p
        for p, _, v in _records(broker, settings)
        if AlertEvent.model_validate_json(v).alert_id == alert_id
    )


def _offset_of(broker: Broker, settings: Settings, event: AlertEvent) -> int:
    return next(
        o
        for _, o, v in _records(broker, settings)
        if AlertEvent.model_validate_json(v).record_id == event.record_id
    )


def _end_offsets(broker: Broker, settings: Settings) -> dict[int, int]:
    ends: dict[int, int] = {}
    for partition, offset, _ in _records(broker, settings):
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    return ends
