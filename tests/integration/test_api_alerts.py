"""The operations API against the live app, the real worker and the real broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from streams.records import Source
from tests.conftest import ApiServer, SettingsFactory, Worker
from tests.factories import make_event
from tests.integration.support import eventually, rules_with

THREAT = "你们再不给我退款我就去12315投诉，还要找媒体曝光！我的电话13812345678"
SCREEN_FAULT = "手机用了三天就黑屏，开不了机，麻烦帮忙看看怎么修"
LATE = "说好的次日达，结果等了三天还没到，有点失望"


@pytest.fixture(scope="module")
def service(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """Worker + API on one namespace, with three customers' complaints already flowing.

    Surges are switched off (a minimum count no test reaches): the auth matrix posts many
    complaints, and a surge alert among them would change every count here.
    """
    rules = rules_with(tmp_path_factory.mktemp("rules"), {"surge": {"min_count": 1_000_000}})
    settings = make_settings(rules_file=rules)
    worker = Worker(settings, tmp_path_factory.mktemp("worker-logs")).start()
    api = ApiServer(settings).start()
    events = [
        make_event(Source.CALL, customer_id="cust-1", order_id="SO-1", text=THREAT),
        make_event(Source.CALL, customer_id="cust-2", text=SCREEN_FAULT),
        make_event(Source.CALL, customer_id="cust-3", text=LATE),
    ]
    response = httpx.post(
        f"{api.url}/v1/events/call", json=events, headers=api.headers("ingest"), timeout=30
    )
    assert response.status_code == 202, response.text
    eventually(
        lambda: _get(api, "/v1/alerts").get("total") == 3,
        timeout=90,
        what="three alerts in the view",
    )
    yield api
    api.stop()
    worker.stop()


def _get(api: ApiServer, path: str, role: str = "viewer", **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{api.url}{path}", headers=api.headers(role), params=params, timeout=30)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _alert_of(api: ApiServer, customer: str) -> dict[str, Any]:
    items = _get(api, "/v1/alerts", customer=customer)["items"]
    assert len(items) == 1
    return dict(items[0])


def _timeline(api: ApiServer, alert_id: str) -> list[dict[str, Any]]:
    return list(_get(api, f"/v1/alerts/{alert_id}")["timeline"])


def _act(
    api: ApiServer,
    alert_id: str,
    verb: str,
    body: dict[str, Any] | None = None,
    key: str | None = None,
) -> httpx.Response:
    headers = {**api.headers("operator"), **({"Idempotency-Key": key} if key else {})}
    return httpx.post(
        f"{api.url}/v1/alerts/{alert_id}/{verb}", json=body, headers=headers, timeout=30
    )


class TestReading:
    def test_filters_and_paging(self, service: ApiServer) -> None:
        everything = _get(service, "/v1/alerts")
        assert everything["total"] == 3
        tier1 = _get(service, "/v1/alerts", tier=1)["items"]
        assert [a["customer_id"] for a in tier1] == ["cust-1"]
        assert {
            a["category"] for a in _get(service, "/v1/alerts", category="product_quality")["items"]
        } == {"product_quality"}
        first = _get(service, "/v1/alerts", limit=2)
        second = _get(service, "/v1/alerts", limit=2, cursor=first["next_cursor"])
        ids = [a["alert_id"] for a in first["items"] + second["items"]]
        assert len(ids) == 3 == len(set(ids))
        assert second["next_cursor"] is None

    def test_detail_has_labels_sla_and_a_timeline(self, service: ApiServer) -> None:
        alert = _alert_of(service, "cust-1")
        detail = _get(service, f"/v1/alerts/{alert['alert_id']}")
        assert detail["alert"]["labels"]["tier"] == "即时响应"
        assert detail["alert"]["sla"]["state"] in ("running", "warned", "met")
        assert detail["timeline"][0]["transition"] == "opened"
        assert detail["timeline"][0]["label"] == "新建告警"

    def test_personal_data_is_masked_in_every_answer(self, service: ApiServer) -> None:
        """The complaint carried a phone number; no API answer shows it."""
        alert = _alert_of(service, "cust-1")
        everything = json.dumps(
            [_get(service, "/v1/alerts"), _get(service, f"/v1/alerts/{alert['alert_id']}")],
            ensure_ascii=False,
        )
        assert "13812345678" not in everything
        assert "138****5678" in everything

    def test_status_shows_the_kpis(self, service: ApiServer) -> None:
        status = _get(service, "/v1/status")
        assert status["contacts"] >= 3
        assert 0 < status["negative_share"] <= 1
        assert status["alerts"]["open_by_tier"]["1"] >= 1
        assert status["by_channel"]["call"] >= 3


class TestActions:
    def test_an_acknowledgement_reaches_the_engine_and_the_timeline_says_who(
        self, service: ApiServer
    ) -> None:
        alert = _alert_of(service, "cust-2")
        response = _act(service, alert["alert_id"], "ack", key="ack-1")
        assert response.status_code == 202, response.text
        timeline = eventually(
            lambda: (
                (t := _timeline(service, alert["alert_id"]))
                and t[-1]["transition"] == "acknowledged"
                and t
            ),
            what="the acknowledgement in the timeline",
        )
        assert timeline[-1]["actor"] == "test-operator"
        assert _alert_of(service, "cust-2")["status"] == "acknowledged"

    def test_a_retried_request_with_the_same_key_does_nothing_twice(
        self, service: ApiServer
    ) -> None:
        alert_id = _alert_of(service, "cust-3")["alert_id"]
        for _ in range(3):
            assert (
                _act(
                    service, alert_id, "comment", {"comment": "已回电 13900001111"}, key="note-1"
                ).status_code
                == 202
            )
        assert (
            _act(service, alert_id, "assign", {"assignee": "李工"}, key="assign-1").status_code
            == 202
        )
        # actions of one case are ordered: once the later assignment shows, every retry was handled
        timeline = eventually(
            lambda: (t := _timeline(service, alert_id)) and t[-1]["transition"] == "assigned" and t,
            what="the assignment after the retried comment",
        )
        comments = [e for e in timeline if e["transition"] == "commented"]
        assert len(comments) == 1
        assert "13900001111" not in comments[0]["detail"]

    def test_bad_actions_are_refused_with_a_reason(self, service: ApiServer) -> None:
        alert_id = _alert_of(service, "cust-3")["alert_id"]
        assert _act(service, alert_id, "assign", {}).json()["error"]["reason"] == "MISSING_ASSIGNEE"
        assert _act(service, alert_id, "explode").status_code == 404
        assert _act(service, "al-doesnotexist", "ack").json()["error"]["reason"] == "UNKNOWN_ALERT"


# -- S1: every route x every caller ---------------------------------------------------------

_CALLERS = ["none", "bad", "viewer", "operator", "admin", "ingest"]
_ROUTES: list[tuple[str, str, set[str]]] = [
    ("GET", "/v1/alerts", {"viewer", "operator", "admin"}),
    ("GET", "/v1/alerts/{id}", {"viewer", "operator", "admin"}),
    ("GET", "/v1/status", {"viewer", "operator", "admin"}),
    ("GET", "/v1/alerts/stream", {"viewer", "operator", "admin"}),
    ("POST", "/v1/alerts/{id}/comment", {"operator", "admin"}),
    ("POST", "/v1/events/call", {"ingest", "admin"}),
]


@pytest.mark.parametrize("caller", _CALLERS)
@pytest.mark.parametrize(
    ("method", "path", "allowed"), _ROUTES, ids=[f"{m} {p}" for m, p, _ in _ROUTES]
)
def test_auth_matrix(
    service: ApiServer, method: str, path: str, allowed: set[str], caller: str
) -> None:
    alert_id = _alert_of(service, "cust-1")["alert_id"]
    headers = (
        {}
        if caller == "none"
        else {"Authorization": "Bearer kesu_wrong"}
        if caller == "bad"
        else service.headers(caller)
    )
    url = f"{service.url}{path.replace('{id}', alert_id)}"
    body = make_event(Source.CALL) if "events" in path else {"comment": "矩阵测试"}
    with httpx.Client(timeout=30) as client:
        if path.endswith("/stream"):
            with client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                reason = None if status == 200 else json.loads(response.read())["error"]["reason"]
        else:
            response = client.request(
                method, url, headers=headers, json=body if method == "POST" else None
            )
            status = response.status_code
            reason = response.json()["error"]["reason"] if status >= 400 else None
    expected = (
        401
        if caller in ("none", "bad")
        else (200 if method == "GET" else 202)
        if caller in allowed
        else 403
    )
    assert status == expected, (caller, path, status)
    if expected == 401:
        assert reason in ("UNAUTHENTICATED", "INVALID_KEY")
    if expected == 403:
        assert reason == "FORBIDDEN"


# -- SSE and replicas --------------------------------------------------------------------------


def _read_events(
    api: ApiServer, alerts: int, last_event_id: str | None = None, deadline: float = 30.0
) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, event, data) of the hello and up to `alerts` alert events (stops at the deadline)."""
    import time

    headers = {
        **api.headers("viewer"),
        **({"Last-Event-ID": last_event_id} if last_event_id else {}),
    }
    events: list[tuple[str, str, dict[str, Any]]] = []
    stop_at = time.monotonic() + deadline
    with (
        httpx.Client(timeout=httpx.Timeout(30, read=20)) as client,
        client.stream("GET", f"{api.url}/v1/alerts/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        current: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if current.get("event"):
                    events.append(
                        (
                            current.get("id", ""),
                            current["event"],
                            json.loads(current.get("data", "{}")),
                        )
                    )
                current = {}
                if sum(e[1] == "alert" for e in events) >= alerts or time.monotonic() > stop_at:
                    break
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                current[name] = value
            if time.monotonic() > stop_at:
                break
    return events


def test_sse_resumes_without_gaps_or_repeats(service: ApiServer) -> None:
    """A dashboard that reconnects with Last-Event-ID receives exactly what it missed."""
    # A customer of its own: events posted by earlier tests may still be joining cust-1's alert.
    event = make_event(Source.CALL, customer_id="cust-sse", text=THREAT)
    response = httpx.post(
        f"{service.url}/v1/events/call", json=[event], headers=service.headers("ingest"), timeout=30
    )
    assert response.status_code == 202, response.text
    alert_id = eventually(
        lambda: _get(service, "/v1/alerts", customer="cust-sse")["items"],
        what="the SSE customer's alert",
    )[0]["alert_id"]
    hello = _read_events(service, 0)[0]
    assert hello[1] == "hello" and hello[0]
    assert (
        _act(service, alert_id, "comment", {"comment": "断线期间的备注"}, key="sse-1").status_code
        == 202
    )
    assert (
        _act(service, alert_id, "assign", {"assignee": "值班-王"}, key="sse-2").status_code == 202
    )
    timeline = eventually(
        lambda: (t := _timeline(service, alert_id)) and t[-1]["transition"] == "assigned" and t,
        what="both changes",
    )
    missed = [e["record_id"] for e in timeline[-2:]]

    # Other alerts may change meanwhile (the worker may still be busy with earlier tests'
    # events): they are in the stream too, so read until the deadline and look at this alert.
    def mine(
        events: list[tuple[str, str, dict[str, Any]]],
    ) -> list[tuple[str, str, dict[str, Any]]]:
        return [e for e in events if e[1] == "alert" and e[2]["alert"]["alert_id"] == alert_id]

    replay = mine(_read_events(service, 100, last_event_id=hello[0], deadline=8))
    assert [e[2]["entry"]["record_id"] for e in replay] == missed

    again = mine(_read_events(service, 100, last_event_id=replay[0][0], deadline=5))
    assert [e[2]["entry"]["record_id"] for e in again] == missed[1:], (
        "resume repeated or skipped a record"
    )


def test_a_second_replica_rebuilt_from_kafka_answers_the_same(service: ApiServer) -> None:
    """Start a fresh API replica: from Kafka alone it knows every alert and timeline."""
    from kesu.broker import free_port

    replica = ApiServer(service.settings.model_copy(update={"api_port": free_port()})).start()
    try:
        expected = _get(service, "/v1/alerts")["total"]
        eventually(
            lambda: _get(replica, "/v1/alerts")["total"] == expected, what="the replica's view"
        )

        def comparable(api: ApiServer) -> list[Any]:
            items = _get(api, "/v1/alerts")["items"]
            return [
                (a["alert_id"], a["version"], _timeline(api, a["alert_id"]))
                for a in sorted(items, key=lambda a: a["alert_id"])
            ]

        assert comparable(replica) == comparable(service)
    finally:
        replica.stop()
