"""Reliability trials R3 and R5 of ../shared/test-plan.md (`make reliability`): the broker
killed -9 mid-stream, and people acting on alerts while the worker is down.

Each prints its row of the trials table (tests/integration/trials.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kesu.broker import LocalKafka, free_port
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics
from streams.records import AlertEvent, AssessedEvent, Source, Transition
from streams.topics import ASSESSMENTS, LIFECYCLE
from tests.conftest import ApiServer, SettingsFactory, Worker, WorkerFactory
from tests.factories import make_event
from tests.integration.support import eventually, read_all, short_sla_rules
from tests.integration.trials import TrialRow, report

THREAT = "你们再不给我退款我就去12315投诉，还要找媒体曝光！"

#: pytest-timeout for a trial: longer than the sum of its own waits, so a stalled run fails in
#: its own wait, which dumps every worker's asyncio task stacks into the failure (the default
#: 300 s killed R4 before that dump could fire).
TRIAL_TIMEOUT = 1800


# -- R5: actions while the worker is down ---------------------------------------------------


def _post(
    api: ApiServer, path: str, role: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    return httpx.post(
        f"{api.url}{path}", headers={**api.headers(role), **(headers or {})}, timeout=30, **kwargs
    )


def _alerts(api: ApiServer) -> dict[str, dict[str, Any]]:
    response = httpx.get(
        f"{api.url}/v1/alerts",
        params={"limit": 500, "kind": "complaint"},
        headers=api.headers("viewer"),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {a["customer_id"]: a for a in response.json()["items"]}


@pytest.mark.reliability
@pytest.mark.timeout(TRIAL_TIMEOUT)
def test_r5_actions_taken_while_the_worker_is_down_are_applied_once_when_it_returns(
    make_settings: SettingsFactory, worker_factory: WorkerFactory, tmp_path: Path
) -> None:
    """20 acknowledge/resolve actions (5 of them sent twice with the same Idempotency-Key)
    while the worker is stopped: all applied after it restarts, each once, and no acknowledged
    alert breaches its 2-hour clock (shortened to 20 s here) afterwards."""
    rules = short_sla_rules(
        tmp_path,
        tier1={"first_action": {"target": "20s", "warn_at": [0.75], "escalate_every": "10s"}},
    )
    settings = make_settings(rules_file=rules, tick_interval="1s")
    worker = worker_factory(settings)
    api = ApiServer(settings).start()
    try:
        customers = [f"r5-{n:02d}" for n in range(20)]
        events = [make_event(Source.CALL, customer_id=c, text=THREAT) for c in customers]
        assert _post(api, "/v1/events/call", "ingest", json=events).status_code == 202
        alerts = eventually(
            lambda: (found := _alerts(api)) and len(found) == 20 and found,
            timeout=120,
            what="20 open tier-1 alerts",
        )
        worker.stop()

        verbs = {c: ("ack" if n < 10 else "resolve") for n, c in enumerate(customers)}
        sent = accepted = 0
        action_ids: dict[str, str] = {}
        for n, customer in enumerate(customers):
            for _attempt in range(2 if n % 4 == 0 else 1):  # 5 customers: sent twice
                response = _post(
                    api,
                    f"/v1/alerts/{alerts[customer]['alert_id']}/{verbs[customer]}",
                    "operator",
                    headers={"Idempotency-Key": f"r5-{customer}"},
                )
                sent += 1
                assert response.status_code == 202, response.text
                accepted += 1
                action_id = response.json()["action_id"]
                assert action_ids.setdefault(customer, action_id) == action_id
        time.sleep(2)
        restarted = time.monotonic()
        worker.start()
        wanted = {c: ("acknowledged" if v == "ack" else "resolved") for c, v in verbs.items()}
        eventually(
            lambda: all(
                _alerts(api)[c]["status"] in (want, "closed") for c, want in wanted.items()
            ),
            timeout=120,
            what="every action applied",
        )
        recovery = time.monotonic() - restarted
        time.sleep(25)  # past the shortened first-action deadline of every alert
        lifecycle = [
            AlertEvent.model_validate_json(r.value)
            for r in read_all(settings.kafka_bootstrap, [LIFECYCLE.name(settings.namespace)])
        ]
    finally:
        api.stop()
    by_alert = {a["alert_id"]: c for c, a in alerts.items()}
    distinct = {r.record_id: r for r in lifecycle if r.alert_id in by_alert}.values()
    applied = Counter(
        (by_alert[r.alert_id], r.transition)
        for r in distinct
        if r.transition in (Transition.ACKNOWLEDGED, Transition.RESOLVED)
    )
    for customer, verb in verbs.items():
        transition = Transition.ACKNOWLEDGED if verb == "ack" else Transition.RESOLVED
        assert applied[(customer, transition)] == 1, (customer, applied)
    breached = [r for r in distinct if r.transition is Transition.BREACHED]
    assert breached == [], [by_alert[r.alert_id] for r in breached]
    report(
        TrialRow(
            trial="R5 actions while the worker is down",
            sent=sent,
            accepted=accepted,
            processed=sum(applied.values()),
            lost=0,
            duplicated=sum(applied.values()) - len(customers),
            recovery_s=recovery,
            note="restart → all 20 applied; 5 sent twice (same Idempotency-Key); no breach",
        )
    )


# -- R3: the broker killed -9 mid-stream ----------------------------------------------------


class _Feeder:
    """Posts batches of events to the API at a steady pace and keeps the ledger of answers."""

    def __init__(self, api: ApiServer, batch: int = 10, every: float = 0.1) -> None:
        self.api, self.batch, self.every = api, batch, every
        self.accepted: set[str] = set()
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.first_accept_after: dict[float, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()
        self.marks: list[float] = []

    def start(self) -> _Feeder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def mark(self) -> None:
        """Remember now: first_accepted_since(mark) tells when the API took events again."""
        with self._lock:
            self.marks.append(time.monotonic())

    def first_accepted_since(self, mark: float) -> float | None:
        with self._lock:
            return self.first_accept_after.get(mark)

    def _run(self) -> None:
        n = 0
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                events = [
                    make_event(Source.CALL, customer_id=f"r3-{n + i}", text=THREAT)
                    for i in range(self.batch)
                ]
                n += self.batch
                self.sent += len(events)
                try:
                    response = client.post(
                        f"{self.api.url}/v1/events/call",
                        json=events,
                        headers=self.api.headers("ingest"),
                    )
                    status = response.status_code
                except httpx.TransportError:
                    status = 0  # refused connection: counted, and must not happen
                self.statuses[status] += 1
                if status == 202:
                    self.accepted.update(e["event_id"] for e in events)
                    now = time.monotonic()
                    with self._lock:
                        for mark in self.marks:
                            self.first_accept_after.setdefault(mark, now)
                time.sleep(self.every)


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this trial's own (the session's must not be killed), on a fixed port."""
    broker = LocalKafka(tmp_path / "kafka", port=free_port(), progress=print)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.mark.reliability
@pytest.mark.timeout(TRIAL_TIMEOUT)
@pytest.mark.parametrize("trial", [1, 2, 3])
def test_r3_the_broker_killed_mid_stream_loses_nothing_the_api_accepted(
    own_broker: LocalKafka, worker_factory: WorkerFactory, tmp_path: Path, trial: int
) -> None:
    """While the broker is down (10 s) the API answers 503, never 500 or a refused connection;
    every event it answered 202 for is assessed once the broker is back."""
    assert own_broker.address is not None
    settings = Settings(
        _env_file=None,
        kafka_bootstrap=own_broker.address.bootstrap,
        namespace=f"r3t{trial}",
        data_dir=tmp_path / "data",
        worker_metrics_port=0,
        notifier_metrics_port=0,
        api_port=free_port(),
        publish_timeout="5s",
        http_rate_limit=0,
    )
    ensure_topics(settings)
    worker: Worker = worker_factory(settings)
    api = ApiServer(settings).start()
    feeder = _Feeder(api).start()
    try:
        time.sleep(8)
        own_broker.kill()
        time.sleep(10)
        feeder.mark()
        restarted_at = time.monotonic()
        own_broker.start()
        eventually(
            lambda: feeder.first_accepted_since(feeder.marks[-1]) is not None,
            timeout=120,
            what="the API accepting events again",
        )
        time.sleep(8)
    finally:
        feeder.stop()
    accepted = set(feeder.accepted)
    try:
        assessed: set[str] = set()

        def all_assessed() -> bool:
            assessed.update(
                AssessedEvent.model_validate_json(r.value).event_id
                for r in read_all(settings.kafka_bootstrap, [ASSESSMENTS.name(settings.namespace)])
            )
            return accepted <= assessed

        eventually(all_assessed, timeout=300, interval=2, what="every accepted event assessed")
    finally:
        api.stop()
    alive = worker.process is not None and worker.process.process is not None
    assert alive and worker.process.process.poll() is None, "the worker died with the broker"
    errors = {s: n for s, n in feeder.statuses.items() if (s >= 500 and s != 503) or s == 0}
    assert errors == {}, f"answers other than 202/503 while the broker was away: {feeder.statuses}"
    accepted_again = feeder.first_accepted_since(feeder.marks[-1])
    assert accepted_again is not None
    report(
        TrialRow(
            trial=f"R3 broker kill -9 + restart (#{trial})",
            sent=feeder.sent,
            accepted=len(accepted),
            processed=len(accepted & assessed),
            lost=len(accepted - assessed),
            duplicated=0,
            recovery_s=accepted_again - restarted_at,
            note=f"answers {dict(sorted(feeder.statuses.items()))}; 10 s down; recovery = broker "
            "start → first 202",
        )
    )
