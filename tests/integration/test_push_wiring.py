"""Push end to end: subscriptions API, the notifier process, card callbacks and metrics, on the
real broker with the real worker, API and notifier, delivering to real HTTP receivers on loopback.

One service for the module; the tests run in file order and build on what happened before
(the alert opened by the fixture is acknowledged from its card, then the notifier restarts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from kesu.broker import free_port
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from notify import make_action_token
from notify.notifier import notifier_group
from streams.records import ActionKind, Source
from streams.topics import LIFECYCLE, PUSH_DLQ, SUBSCRIPTIONS
from tests.conftest import ApiServer, Broker, SettingsFactory, Worker
from tests.factories import make_event, now_utc
from tests.integration.support import KesuProcess, eventually, read_all, settings_env
from tests.integration.test_push_delivery import Receiver, Reply
from tests.unit.notify.samples import JSON_SECRET

THREAT = "你们再不给我退款我就去12315投诉，还要找媒体曝光！我的电话13812345678"
SECOND = "第三次打电话了还没人处理，再不退款我就去12315投诉！"


class Notifier:
    """A `kesu notifier` process for some settings; stopped and started again by the tests."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings, self.log_dir, self.runs = settings, log_dir, 0
        self.process: KesuProcess | None = None

    def start(self) -> Notifier:
        self.runs += 1
        log = self.log_dir / f"notifier-{self.runs}.log"
        self.process = KesuProcess(["notifier"], settings_env(self.settings), log)
        self.process.start("Notifier ready")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def metrics(self) -> str:
        port = self.settings.notifier_metrics_port
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


@dataclass
class Stack:
    broker: Broker
    settings: Settings
    api: ApiServer
    notifier: Notifier
    receivers: dict[str, Receiver]  # by subscription id
    alert_id: str

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.api.url}{path}", headers=self.api.headers("admin"), timeout=30, **kwargs
        )

    def hooks(self, sub: str) -> list[Any]:
        return [r for r in self.receivers[sub].requests if r.path == "/hook"]

    def deliveries(self, sub: str) -> list[dict[str, Any]]:
        response = self.admin("GET", f"/v1/subscriptions/{sub}/deliveries")
        assert response.status_code == 200, response.text
        return list(response.json())


def _subscription(sub_id: str, receiver: Receiver, **filters: Any) -> dict[str, Any]:
    return {
        "id": sub_id,
        "name": f"值班 {sub_id}",
        "format": "json",
        "url": f"{receiver.base}/hook",
        "secret": JSON_SECRET,
        "filters": filters,
    }


def _open_alert(api: ApiServer, customer: str, text: str) -> str:
    event = make_event(Source.CALL, customer_id=customer, text=text)
    response = httpx.post(
        f"{api.url}/v1/events/call", json=[event], headers=api.headers("ingest"), timeout=30
    )
    assert response.status_code == 202, response.text

    def opened() -> str | None:
        items = httpx.get(
            f"{api.url}/v1/alerts",
            params={"customer": customer},
            headers=api.headers("viewer"),
            timeout=30,
        ).json()["items"]
        return items[0]["alert_id"] if items else None

    alert_id: str = eventually(opened, timeout=90, what=f"an alert for {customer}")
    return alert_id


@pytest.fixture(scope="module")
def stack(
    kafka_broker: Broker, make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Worker, API and notifier; four JSON subscriptions; one tier-1 alert opened."""
    settings = make_settings(
        notifier_metrics_port=free_port(),
        push_max_attempts=3,
        push_retry_base_delay="200ms",
        push_retry_max_delay="1s",
        push_timeout="5s",
        metrics_refresh_interval="1s",
        push_allowed_destinations="127.0.0.0/8",  # the receivers are on loopback
    )
    logs = tmp_path_factory.mktemp("push-logs")
    receivers = {name: Receiver() for name in ("ok", "flaky", "broken", "tier3")}
    for receiver in receivers.values():
        receiver.thread.start()
    receivers["flaky"].answer(Reply(500), Reply(503))
    receivers["broken"].answer(*[Reply(500) for _ in range(50)])
    worker = Worker(settings, logs).start()
    api = ApiServer(settings).start()
    notifier = Notifier(settings, logs).start()
    stack = Stack(kafka_broker, settings, api, notifier, receivers, alert_id="")
    try:
        for sub_id, receiver in receivers.items():
            filters = {"tiers": [3]} if sub_id == "tier3" else {"tiers": [1]}
            response = httpx.post(
                f"{api.url}/v1/subscriptions",
                json=_subscription(sub_id, receiver, **filters),
                headers=api.headers("admin"),
                timeout=30,
            )
            assert response.status_code == 201, response.text
        stack.alert_id = _open_alert(api, "cust-push-1", THREAT)
        yield stack
    finally:
        stack.notifier.stop()
        stack.api.stop()  # the tests may have replaced it
        worker.stop()
        for receiver in receivers.values():
            receiver.server.shutdown()
            receiver.server.server_close()


# -- subscriptions API ---------------------------------------------------------------------------


class TestSubscriptionsApi:
    @pytest.mark.parametrize("role", ["viewer", "operator", "ingest"])
    def test_only_admins_manage_subscriptions(self, stack: Stack, role: str) -> None:
        headers = stack.api.headers(role)
        url = f"{stack.api.url}/v1/subscriptions"
        body = _subscription("x-forbidden", stack.receivers["ok"])
        for response in (
            httpx.post(url, json=body, headers=headers, timeout=30),
            httpx.get(url, headers=headers, timeout=30),
            httpx.get(f"{url}/ok", headers=headers, timeout=30),
            httpx.get(f"{url}/ok/deliveries", headers=headers, timeout=30),
            httpx.delete(f"{url}/ok", headers=headers, timeout=30),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["error"]["reason"] == "FORBIDDEN"
        assert httpx.get(url, timeout=30).status_code == 401
        assert stack.admin("GET", "/v1/subscriptions/ok").status_code == 200

    def test_secrets_are_never_returned(self, stack: Stack) -> None:
        """Answers show scheme and host only, and `signed` instead of the secret."""
        listed = stack.admin("GET", "/v1/subscriptions")
        one = stack.admin("GET", "/v1/subscriptions/ok")
        assert listed.status_code == one.status_code == 200
        assert [s["id"] for s in listed.json()] == ["broken", "flaky", "ok", "tier3"]
        assert one.json()["url"] == f"{stack.receivers['ok'].base}/***"
        assert one.json()["signed"] is True
        secret_part = JSON_SECRET.removeprefix("whsec_")
        for text in (listed.text, one.text):
            assert secret_part not in text and "/hook" not in text

    def test_the_subscriptions_topic_holds_no_secret_or_url_path(self, stack: Stack) -> None:
        """Sealed at rest: reading kesu.push.subscriptions gives neither secret nor path."""
        records = read_all(stack.broker.bootstrap, [SUBSCRIPTIONS.name(stack.settings.namespace)])
        values = [r.value for r in records if r.value is not None]
        assert len(values) >= 4  # the fixture's subscriptions, at least
        secret_part = JSON_SECRET.removeprefix("whsec_").encode()
        for value in values:
            assert secret_part not in value and b"/hook" not in value
            assert json.loads(value)["url"].startswith("sealed:v1:")

    @pytest.mark.parametrize(
        ("change", "needle"),
        [
            ({"secret": None}, "needs a secret"),
            ({"url": "ftp://example.com/x"}, "http"),
            ({"format": "wecom"}, "WeCom"),
            ({"filters": {"tiers": [7]}}, "filters.tiers"),
            ({"id": "has/slash"}, "id"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_invalid_subscriptions_are_refused_with_a_reason(
        self, stack: Stack, change: dict[str, Any], needle: str
    ) -> None:
        body = {**_subscription("x-invalid", stack.receivers["ok"]), **change}
        response = stack.admin("POST", "/v1/subscriptions", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["reason"] == "INVALID_REQUEST"
        assert needle in response.json()["error"]["message"]
        assert JSON_SECRET not in response.text

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata endpoint
            "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud's
            "http://10.20.30.40/hook",  # private
            "http://[::1]:8000/hook",  # loopback over IPv6 (only 127.0.0.0/8 is allowed here)
            "http://[::ffff:169.254.169.254]/x",  # the metadata address, IPv4-mapped
        ],
    )
    def test_non_public_destinations_are_refused(self, stack: Stack, url: str) -> None:
        """SSRF: only public addresses (and KESU_PUSH_ALLOWED_DESTINATIONS, here loopback v4)."""
        body = {**_subscription("x-ssrf", stack.receivers["ok"]), "url": url}
        response = stack.admin("POST", "/v1/subscriptions", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["reason"] == "DESTINATION_NOT_ALLOWED"
        assert stack.admin("GET", "/v1/subscriptions/x-ssrf").status_code == 404

    def test_an_existing_id_and_unknown_ids_are_refused(self, stack: Stack) -> None:
        again = stack.admin(
            "POST", "/v1/subscriptions", json=_subscription("ok", stack.receivers["flaky"])
        )
        assert again.status_code == 409
        assert again.json()["error"]["reason"] == "SUBSCRIPTION_EXISTS"
        for method, path in (
            ("GET", "/v1/subscriptions/nope"),
            ("GET", "/v1/subscriptions/nope/deliveries"),
            ("DELETE", "/v1/subscriptions/nope"),
        ):
            response = stack.admin(method, path)
            assert response.status_code == 404
            assert response.json()["error"]["reason"] == "UNKNOWN_SUBSCRIPTION"


# -- the notifier -------------------------------------------------------------------------------


def _verify_signature(request: Any) -> dict[str, Any]:
    """Standard Webhooks, checked here from the spec (not with notify.signing)."""
    key = base64.b64decode(JSON_SECRET.removeprefix("whsec_"))
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    signed = f"{msg_id}.{timestamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"
    body: dict[str, Any] = request.json()
    assert body["delivery_id"] == msg_id
    return body


class TestNotifier:
    def test_each_matching_subscription_gets_one_signed_delivery(self, stack: Stack) -> None:
        eventually(lambda: len(stack.hooks("ok")) >= 1, what="the delivery to 'ok'")
        eventually(lambda: len(stack.hooks("flaky")) >= 3, what="three attempts to 'flaky'")
        [request] = stack.hooks("ok")
        body = _verify_signature(request)
        assert (body["alert_id"], body["transition"]) == (stack.alert_id, "opened")
        assert body["alert"]["tier"] == 1
        assert "13812345678" not in request.body.decode()
        assert stack.hooks("tier3") == []
        filtered = eventually(
            lambda: [d for d in stack.deliveries("tier3") if d["alert_id"] == stack.alert_id],
            what="the filtered entry of 'tier3'",
        )
        assert [(d["outcome"], d["filtered_by"]) for d in filtered] == [("filtered", "TIER")]

    def test_a_receiver_failing_twice_gets_it_on_the_third_attempt(self, stack: Stack) -> None:
        log = eventually(
            lambda: (d := stack.deliveries("flaky")) and d[0]["outcome"] == "delivered" and d,
            what="the delivered entry of 'flaky'",
        )
        assert [(d["outcome"], d["attempts"], d["last_status"]) for d in reversed(log)] == [
            ("retrying", 1, 500),
            ("retrying", 2, 503),
            ("delivered", 3, 204),
        ]
        requests = stack.hooks("flaky")
        assert len(requests) == 3
        assert len({r.headers["webhook-id"] for r in requests}) == 1, "one id across retries"
        _verify_signature(requests[-1])
        assert stack.receivers["flaky"].visible == [(stack.alert_id, "opened")]

    def test_a_receiver_failing_always_is_dead_lettered_with_the_reason(self, stack: Stack) -> None:
        log = eventually(
            lambda: (d := stack.deliveries("broken")) and d[0]["outcome"] == "dead_lettered" and d,
            what="the dead letter of 'broken'",
        )
        assert log[0]["attempts"] == 3 and log[0]["failure"] == "SERVER_ERROR"
        assert len(stack.hooks("broken")) == 3
        dlq = [
            json.loads(r.value)
            for r in read_all(stack.broker.bootstrap, [PUSH_DLQ.name(stack.settings.namespace)])
        ]
        assert [(d["subscription_id"], d["failure"], d["last_status"]) for d in dlq] == [
            ("broken", "SERVER_ERROR", 500)
        ]

    def test_notifier_metrics_count_deliveries_by_outcome(self, stack: Stack) -> None:
        text = stack.notifier.metrics()

        def sample(outcome: str) -> float:
            line = f'kesu_push_deliveries_total{{format="json",outcome="{outcome}"}}'
            match = re.search(re.escape(line) + r" (\S+)", text)
            return float(match.group(1)) if match else 0.0

        assert sample("delivered") == 2  # ok, flaky
        assert sample("retrying") == 4  # flaky twice, broken twice
        assert sample("dead_lettered") == 1  # broken
        assert sample("filtered") >= 1  # tier3
        assert 'kesu_push_failures_total{format="json",reason="SERVER_ERROR"}' in text


# -- card callbacks ------------------------------------------------------------------------------


def _alert(stack: Stack) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.api.url}/v1/alerts/{stack.alert_id}",
        headers=stack.api.headers("viewer"),
        timeout=30,
    )
    assert response.status_code == 200
    return dict(response.json())


def _card_link(stack: Stack, kind: str) -> str:
    body = stack.hooks("ok")[0].json()
    link: str = body["links"]["actions"][kind]
    assert link.startswith(f"{stack.api.url}/v1/callbacks/actions/")
    assert body["links"]["alert"] == f"{stack.api.url}/#alert={stack.alert_id}"
    return link


class TestCallbacks:
    def test_get_shows_a_confirmation_page_and_does_not_act(self, stack: Stack) -> None:
        link = _card_link(stack, "acknowledge")
        page = httpx.get(link, timeout=30)
        assert page.status_code == 200
        assert "确认这条告警" in page.text and '<form method="post">' in page.text
        assert "13812345678" not in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        # Actions of one case are applied in order: once a later comment shows, the GET had
        # its chance to act, and did not.
        comment = httpx.post(
            f"{stack.api.url}/v1/alerts/{stack.alert_id}/comment",
            json={"comment": "已看到卡片"},
            headers={**stack.api.headers("operator"), "Idempotency-Key": "cb-comment"},
            timeout=30,
        )
        assert comment.status_code == 202
        timeline = eventually(
            lambda: (t := _alert(stack)["timeline"]) and t[-1]["transition"] == "commented" and t,
            what="the comment in the timeline",
        )
        assert "acknowledged" not in [e["transition"] for e in timeline]

    def test_post_without_a_name_asks_for_it_and_does_not_act(self, stack: Stack) -> None:
        """A group robot's button does not say who clicked: the page asks, and nothing happens
        until a name is given."""
        link = _card_link(stack, "acknowledge")
        for form in ({}, {"actor": "   "}, {"actor": "名" * 40}):
            page = httpx.post(link, data=form, timeout=30)
            assert page.status_code == 422, page.text
            assert "请填写处理人姓名" in page.text and 'name="actor"' in page.text
        assert _alert(stack)["alert"]["status"] == "open"

    def test_post_acknowledges_as_the_person_who_typed_their_name(self, stack: Stack) -> None:
        """The actor is the name typed on the confirmation page, not card:<subscription>."""
        link = _card_link(stack, "acknowledge")
        for name in ("王值班", "李四"):  # a double click is one action (the first name counts)
            done = httpx.post(link, data={"actor": name}, timeout=30)
            assert done.status_code == 200, done.text
            assert "已由" in done.text
        detail = eventually(
            lambda: (d := _alert(stack))["alert"]["status"] == "acknowledged" and d,
            what="the alert acknowledged",
        )
        acks = [e for e in detail["timeline"] if e["transition"] == "acknowledged"]
        assert [e["actor"] for e in acks] == ["王值班"]

    def test_an_expired_token_is_gone(self, stack: Stack) -> None:
        alert = _alert(stack)["alert"]
        token = make_action_token(
            alert_id=stack.alert_id,
            case_key=alert["case_key"],
            kind=ActionKind.RESOLVE,
            subject="card:ok",
            expires_at=now_utc() - timedelta(minutes=1),
            secret=ensure_callback_secret(stack.settings).encode(),
        )
        for method in ("GET", "POST"):
            page = httpx.request(
                method, f"{stack.api.url}/v1/callbacks/actions/{token}", timeout=30
            )
            assert page.status_code == 410
            assert "EXPIRED" in page.text and "Traceback" not in page.text

    def test_buttons_expire_72_hours_after_the_card_was_sent_by_the_apis_clock(
        self, stack: Stack
    ) -> None:
        """An API whose clock reads 71 h after the send still shows the page; at 73 h it is gone."""
        link = _card_link(stack, "resolve")
        sent = datetime.fromtimestamp(int(stack.hooks("ok")[0].headers["webhook-timestamp"]), UTC)
        path = link.removeprefix(stack.api.url)
        for hours, status in ((71, 200), (73, 410)):
            later = ApiServer(
                stack.settings.model_copy(update={"api_port": free_port()}),
                clock=lambda hours=hours: sent + timedelta(hours=hours),
            ).start()
            try:
                eventually(
                    lambda later=later: (
                        httpx.get(f"{later.url}/readyz", timeout=10).status_code == 200
                    ),
                    what="the second API ready",
                )
                page = httpx.get(f"{later.url}{path}", timeout=30)
            finally:
                later.stop()
            assert page.status_code == status, page.text

    def test_a_tampered_token_is_not_found(self, stack: Stack) -> None:
        link = _card_link(stack, "resolve")
        version, payload, mac = link.rsplit("/", 1)[1].split(".")
        flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
        forged = f"{link.rsplit('/', 1)[0]}/{version}.{payload}.{flipped}"
        for url in (forged, f"{link.rsplit('/', 1)[0]}/garbage"):
            for method in ("GET", "POST"):
                page = httpx.request(method, url, timeout=30)
                assert page.status_code == 404, (url, page.text)
        assert _alert(stack)["alert"]["status"] == "acknowledged", "nothing was resolved"


# -- the API's metrics ---------------------------------------------------------------------------


def test_api_metrics_show_alerts_by_tier_and_status_and_consumer_lag(stack: Stack) -> None:
    ns = stack.settings.namespace

    def metrics() -> str:
        return httpx.get(f"{stack.api.url}/metrics", timeout=30).text

    wanted = [
        f'kesu_consumer_lag{{group="{ns}-notifier",topic="{ns}.alerts.lifecycle"}}',
        f'kesu_consumer_lag{{group="{ns}",topic="{ns}.alerts.actions"}}',
        'kesu_alerts{status="acknowledged",tier="1"} 1.0',
    ]
    try:
        text = eventually(
            lambda: (m := metrics()) and all(w in m for w in wanted) and m,
            what="the consumer lag and the acknowledged alert measured",
        )
    except AssertionError:
        seen = [
            line
            for line in metrics().splitlines()
            if line.startswith(("kesu_alerts{", "kesu_consumer"))
        ]
        raise AssertionError(f"wanted {wanted}; /metrics had {seen}") from None
    assert 'kesu_alerts{status="open",tier="1"} 0.0' in text


# -- restarts ------------------------------------------------------------------------------------


def _rewind_notifier_group(stack: Stack) -> None:
    """Commit offset 0 for the notifier: as if it crashed after delivering, before committing."""
    topic = LIFECYCLE.name(stack.settings.namespace)
    consumer = KafkaConsumer(
        bootstrap_servers=stack.broker.bootstrap,
        group_id=notifier_group(stack.settings),
        enable_auto_commit=False,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    finally:
        consumer.close()


def test_a_restarted_notifier_re_reading_everything_sends_nothing_twice(stack: Stack) -> None:
    """The delivery log, read back on start, says what was done; only new records go out."""
    before = {sub: len(stack.hooks(sub)) for sub in stack.receivers}
    stack.notifier.stop()
    _rewind_notifier_group(stack)
    stack.notifier.start()
    second = _open_alert(stack.api, "cust-push-2", SECOND)
    eventually(
        lambda: any(r.json()["alert_id"] == second for r in stack.hooks("ok")),
        what="the new alert at 'ok'",
    )
    sent = [(r.json()["alert_id"], r.json()["transition"]) for r in stack.hooks("ok")]
    assert sent.count((stack.alert_id, "opened")) == 1
    assert len(stack.hooks("ok")) == before["ok"] + 1
    eventually(
        lambda: any(r.json()["alert_id"] == second for r in stack.hooks("flaky")),
        what="the new alert at 'flaky'",
    )
    assert len(stack.hooks("flaky")) == before["flaky"] + 1
    skipped = re.search(r"^kesu_push_skipped_total (\S+)", stack.notifier.metrics(), re.M)
    assert skipped and float(skipped.group(1)) >= 4, "the old records were read and skipped"


def _restart_api(stack: Stack) -> None:
    stack.api.stop()
    stack.api = ApiServer(stack.settings).start()
    eventually(
        lambda: httpx.get(f"{stack.api.url}/readyz", timeout=30).status_code == 200,
        what="the restarted API ready",
    )


def test_subscriptions_survive_an_api_restart_and_deletes_stick(stack: Stack) -> None:
    """Nothing but Kafka remembers subscriptions and the delivery log."""
    _restart_api(stack)
    listed = stack.admin("GET", "/v1/subscriptions").json()
    assert [s["id"] for s in listed] == ["broken", "flaky", "ok", "tier3"]
    assert any(
        d["outcome"] == "delivered" and d["attempts"] == 3 for d in stack.deliveries("flaky")
    )
    assert stack.admin("DELETE", "/v1/subscriptions/broken").status_code == 204
    assert stack.admin("GET", "/v1/subscriptions/broken").status_code == 404
    _restart_api(stack)
    assert [s["id"] for s in stack.admin("GET", "/v1/subscriptions").json()] == [
        "flaky",
        "ok",
        "tier3",
    ]


def test_no_secret_robot_path_or_personal_data_in_the_notifier_logs(stack: Stack) -> None:
    """Everything the notifier printed in both runs: hosts yes; paths, secrets, phones no."""
    logs = "".join(p.read_text(encoding="utf-8") for p in stack.notifier.log_dir.glob("notifier-*"))
    assert "delivered to subscription ok" in logs, "the check below would be vacuous"
    assert "dead-lettered" in logs
    for secret in (JSON_SECRET, JSON_SECRET.removeprefix("whsec_"), "/hook", "13812345678"):
        assert secret not in logs
