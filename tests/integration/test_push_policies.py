"""Grouping, budgets, silences, inhibition and SSRF end to end: the real worker, API and notifier
on the session broker, pushing to local robots that enforce the platforms' documented limits
and signatures (tests/robots.py).

One service for the module; tests use their own customers, so they do not see each other's
alerts. Nothing here waits for a fixed time: every wait is `eventually` (a liveness bound).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from kesu.broker import free_port
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from notify.models import PushFormat
from notify.sealing import Sealer
from streams.records import AlertKind, GroupDetail, Source, SurgeDetail, Transition
from streams.topics import ALERT_STATE, LIFECYCLE, PUSH_DLQ, RAW, SUBSCRIPTIONS
from tests.conftest import ApiServer, Broker, SettingsFactory, Worker
from tests.factories import make_event
from tests.integration.support import eventually, publish, read_all, settings_env
from tests.integration.test_push_wiring import Notifier
from tests.robots import Robot, RobotServer
from tests.unit.notify.samples import T0, make_alert_event, subscription

ROBOTS = [
    Robot("dingtalk", "ding", secret="SECtest-ding-secret", token="ding-token"),
    Robot("wecom", "wecom", token="wecom-key"),
    Robot("feishu", "feishu", secret="feishu-secret"),
    Robot("json", "hook", secret="whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ=="),
]
ANGRY = "你们再不给我退款我就去12315投诉！第{n}次打电话了"  # tier 1 (escalation threat)
FAULTY = "手机用了三天屏幕就出现问题，质量不行。"  # tier 2 (product fault)
QUICK = {"group_wait": "3s", "group_interval": "10s"}


@dataclass
class Stack:
    broker: Broker
    settings: Settings
    api: ApiServer
    notifier: Notifier
    robots: RobotServer

    def call(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.api.url}{path}", headers=self.api.headers(role), timeout=30, **kwargs
        )

    def send(self, customer: str, text: str) -> None:
        event = make_event(Source.CALL, customer_id=customer, text=text)
        publish(
            self.broker.bootstrap,
            RAW[Source.CALL].name(self.settings.namespace),
            [(event["event_id"].encode(), json.dumps(event, ensure_ascii=False).encode())],
        )

    def alert_of(self, customer: str) -> dict[str, Any] | None:
        items = self.call("viewer", "GET", "/v1/alerts", params={"customer": customer}).json()
        found: list[dict[str, Any]] = items["items"]
        return found[0] if found else None

    def reachable(self, robot: str) -> set[str]:
        """Alerts an accepted message names, or lists behind its "查看全部" link."""
        alerts: set[str] = set()
        for taken in self.robots.of(robot):
            if not taken.accepted:
                continue
            alerts |= taken.alert_ids()
            for digest in taken.digest_ids():
                page = self.call("viewer", "GET", f"/v1/messages/{digest}")
                if page.status_code == 200:
                    alerts |= {a["alert_id"] for a in page.json()["alerts"]}
        return alerts


@pytest.fixture(scope="module")
def stack(
    kafka_broker: Broker, make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    settings = make_settings(
        notifier_metrics_port=free_port(),
        push_allowed_destinations="127.0.0.0/8",
        push_retry_base_delay="200ms",
    )
    logs = tmp_path_factory.mktemp("policy-logs")
    robots = RobotServer(ROBOTS).start()
    worker = Worker(settings, logs).start()
    api = ApiServer(settings).start()
    notifier = Notifier(settings, logs).start()
    stack = Stack(kafka_broker, settings, api, notifier, robots)
    try:
        for robot in ROBOTS:
            body = {
                "id": robot.name,
                "name": f"值班群 {robot.name}",
                "format": robot.kind,
                "url": robots.url(robot.name),
                "secret": robot.secret or None,
                "policy": QUICK,
            }
            created = stack.call("admin", "POST", "/v1/subscriptions", json=body)
            assert created.status_code == 201, created.text
        yield stack
    finally:
        notifier.stop()
        api.stop()
        worker.stop()
        robots.stop()


def test_a_burst_of_tier1_complaints_stays_within_every_robots_budget(stack: Stack) -> None:
    """40 tier-1 complaints at once: no robot refuses for rate, DingTalk and WeCom get at most
    20 messages in any minute, every signature verifies, and every alert is reachable."""
    customers = [f"burst-{n:02d}" for n in range(40)]
    for n, customer in enumerate(customers):
        stack.send(customer, ANGRY.format(n=n % 9 + 2))
    alerts = eventually(
        lambda: (found := [stack.alert_of(c) for c in customers]) and all(found) and found,
        timeout=120,
        what="an alert for every customer",
    )
    tier1 = {a["alert_id"] for a in alerts if a["tier"] == 1}
    assert len(tier1) == 40
    for robot in ("ding", "wecom", "feishu", "hook"):
        eventually(
            lambda robot=robot: tier1 <= stack.reachable(robot),
            timeout=240,
            what=f"every tier-1 alert reachable from a message {robot} accepted",
        )
        refused = [t.reason for t in stack.robots.of(robot) if not t.accepted]
        assert refused == [], f"{robot} refused {refused}"
    assert stack.robots.most_in_a_minute("ding") <= 20
    assert stack.robots.most_in_a_minute("wecom") <= 20
    assert len(stack.robots.of("ding")) < 40, "messages were grouped, not one per alert"


def test_the_notifier_exposes_budgets_and_message_kinds(stack: Stack) -> None:
    text = eventually(
        lambda: (m := stack.notifier.metrics()) and "kesu_push_messages_total" in m and m,
        what="the notifier's push metrics",
    )
    assert 'kesu_push_budget_limit{subscription="ding"} 20.0' in text
    assert 'kesu_push_budget_limit{subscription="feishu"} 100.0' in text
    assert 'kesu_push_budget_used{subscription="ding"}' in text


def test_a_silenced_customer_is_recorded_and_shown_but_not_pushed(stack: Stack) -> None:
    created = stack.call(
        "operator",
        "POST",
        "/v1/silences",
        json={"matchers": ["customer=quiet-1"], "duration": "1h", "comment": "测试静默"},
    )
    assert created.status_code == 201, created.text
    silence = created.json()
    assert (silence["created_by"], silence["in_effect"]) == ("test-operator", True)
    stack.send("quiet-1", ANGRY.format(n=3))
    alert = eventually(lambda: stack.alert_of("quiet-1"), what="the silenced customer's alert")
    assert alert["suppressed"]["reason"] == "silenced"
    assert "测试静默" in alert["suppressed"]["text"]
    log = eventually(
        lambda: [
            d
            for d in stack.call("admin", "GET", "/v1/subscriptions/hook/deliveries").json()
            if d["alert_id"] == alert["alert_id"]
        ],
        what="the hook's log entry of the silenced alert",
    )
    assert [(d["outcome"], d["filtered_by"], d["suppressed_by"]) for d in log] == [
        ("filtered", "SILENCED", silence["silence_id"])
    ]
    assert all(alert["alert_id"] not in t.alert_ids() for t in stack.robots.taken)

    ended = stack.call("operator", "DELETE", f"/v1/silences/{silence['silence_id']}")
    assert ended.status_code == 200
    assert (ended.json()["expired_by"], ended.json()["in_effect"]) == ("test-operator", False)
    assert (
        stack.call("viewer", "DELETE", f"/v1/silences/{silence['silence_id']}").status_code == 403
    )


def test_the_cli_adds_lists_and_expires_silences(stack: Stack) -> None:
    """`kesu silence …` writes the same records: the API lists what the CLI added."""

    def kesu(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "kesu", "silence", *args],
            env=settings_env(stack.settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    added = kesu(
        "add", "region=华东-上海", "--for", "2h", "-c", "顺丰中转站停运", "--by", "cli:王芳"
    )
    silence_id = added.split()[0]
    assert "生效中" in added and "region=华东-上海" in added
    listed = eventually(
        lambda: [
            s
            for s in stack.call("viewer", "GET", "/v1/silences").json()
            if s["silence_id"] == silence_id
        ],
        what="the CLI's silence in the API",
    )
    assert (listed[0]["created_by"], listed[0]["comment"]) == ("cli:王芳", "顺丰中转站停运")
    assert silence_id in kesu("list")
    assert "提前结束" in kesu("expire", silence_id, "--by", "cli:王芳")
    assert silence_id not in kesu("list")


def test_members_of_an_open_incident_are_held_back(stack: Stack) -> None:
    """A surge parent lists its members' cases (as the engine writes it): their tier-2 alerts
    open and are shown "inhibited by" it, and only the surge is pushed."""
    members = [f"member-{n}" for n in range(5)]
    parent = make_alert_event(
        Transition.OPENED,
        alert_id="al-test-surge",
        version=1,
        kind=AlertKind.SURGE,
        tier=2,
        case_key="surge:batch:B-TEST",
        customer_id=None,
        title="批次 B-TEST 负面反馈激增",
        category=None,
        emotion=None,
        excerpt="",
        contacts=0,
        intensity=0,
        clocks=(),
        compensation=None,
        surge=SurgeDetail(
            dimension="batch",
            value="B-TEST",
            window_start=T0,
            window_minutes=15,
            count=5,
            expected=0.2,
            ratio=25.0,
            p_value=1e-6,
        ),
        group=GroupDetail(member_case_keys=tuple(f"customer:{m}" for m in members), member_count=5),
    )
    value = parent.model_dump_json().encode()
    for spec in (LIFECYCLE, ALERT_STATE):
        publish(
            stack.broker.bootstrap, spec.name(stack.settings.namespace), [(b"al-test-surge", value)]
        )
    eventually(
        lambda: "al-test-surge" in stack.reachable("hook"), what="the surge pushed to the hook"
    )
    for member in members:
        stack.send(member, FAULTY)
    alerts = eventually(
        lambda: (found := [stack.alert_of(m) for m in members]) and all(found) and found,
        what="the members' own alerts, recorded",
    )
    assert {a["tier"] for a in alerts} == {2}
    for alert in alerts:
        assert alert["suppressed"]["reason"] == "inhibited"
        assert alert["suppressed"]["by"] == "al-test-surge"
        assert "批次 B-TEST" in alert["suppressed"]["text"]
    member_ids = {a["alert_id"] for a in alerts}
    eventually(
        lambda: (
            member_ids
            <= {
                d["alert_id"]
                for d in stack.call("admin", "GET", "/v1/subscriptions/ding/deliveries").json()
                if d["filtered_by"] == "INHIBITED"
            }
        ),
        what="each member logged as INHIBITED for the DingTalk robot",
    )
    for robot in ("ding", "wecom", "feishu", "hook"):
        assert not member_ids & stack.reachable(robot), f"a member was pushed to {robot}"


def test_a_subscription_written_past_the_api_cannot_reach_a_metadata_address(
    stack: Stack,
) -> None:
    """SSRF at connect time: a subscription that skipped the API's check (written straight to
    the topic) is refused at connection, never called, and dead-lettered with the reason."""
    sealer = Sealer(ensure_callback_secret(stack.settings).encode())
    sneaky = subscription(
        PushFormat.JSON, id="sneaky", url="http://169.254.169.254/latest/meta-data/"
    )
    publish(
        stack.broker.bootstrap,
        SUBSCRIPTIONS.name(stack.settings.namespace),
        [(b"sneaky", sealer.stored(sneaky))],
    )
    stack.send("ssrf-1", ANGRY.format(n=4))
    dlq = eventually(
        lambda: [
            d
            for r in read_all(stack.broker.bootstrap, [PUSH_DLQ.name(stack.settings.namespace)])
            if (d := json.loads(r.value))["subscription_id"] == "sneaky"
        ],
        what="the dead letter of the sneaky subscription",
    )
    assert [(d["failure"], d["attempts"], d["last_status"]) for d in dlq] == [
        ("DESTINATION_REFUSED", 1, None)
    ]
