"""Push against a real HTTP receiver on loopback: signatures, retries, dead letters, formats, callbacks.

The receiver is `http.server` in a thread, playing each platform: a Standard Webhooks endpoint
that verifies and dedupes by webhook-id, and DingTalk, Feishu and WeCom robots that check their
signature (or key) and answer HTTP 200 with an error code the way the real ones do. It can be
scripted to fail: 500, 429 with Retry-After, a slow answer (timeout), 200-with-errcode, a
redirect. No Kafka: these tests need sockets, not the broker.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from notify import (
    Delivery,
    DeliveryOutcome,
    Failure,
    Filters,
    InvalidSignature,
    InvalidToken,
    Mention,
    NotRouted,
    PushFormat,
    RetryPolicy,
    Subscription,
    TokenFailure,
    action_from_token,
    deliver,
    make_client,
    make_links,
    notify,
    verify_webhook,
)
from notify.egress import EgressPolicy, GuardedTransport, IPAddress
from streams.records import ActionKind, AlertEvent, Transition
from tests.unit.notify.samples import (
    CALLBACK_SECRET,
    DINGTALK_SECRET,
    FEISHU_SECRET,
    JSON_SECRET,
    PLANTED,
    make_alert_event,
    subscription,
    with_pii,
)

WECOM_KEY = "wecom-key-5f1c9e"
DINGTALK_TOKEN = "ding-token-8a7b6c"
FEISHU_HOOK = "feishu-hook-3d2e1f"
ROBOT_OK = b'{"errcode":0,"errmsg":"ok","code":0,"msg":"success"}'


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- the receiver -----------------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. `process=True` means the receiver handled it before answering."""

    status: int = 200
    body: bytes = ROBOT_OK
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    process: bool = False
    gate: threading.Event | None = None  # when set: hold the answer until the test opens it


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Records every request; answers from a script, then as the platform would."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: deque[Reply] = deque()
        self.processed: dict[str, int] = {}  # webhook-id -> times seen (dedupe store)
        self.visible: list[tuple[str, str]] = []  # (alert_id, transition) after dedupe
        self.alerts: dict[str, str] = {}  # alert_id -> case_key, for the callback route
        self.actions: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.gates: dict[int, threading.Event] = {}  # id(request) -> its reply's gate
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                parts = urlsplit(self.path)
                request = Received(
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    body,
                    time.monotonic(),
                )
                status, headers, answer, delay = receiver.handle(request)
                gate = receiver.gates.pop(id(request), None)
                if gate is not None:
                    gate.wait(timeout=120)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def handle(self, request: Received) -> tuple[int, dict[str, str], bytes, float]:
        with self.lock:
            self.requests.append(request)
            if request.path.startswith("/v1/callbacks/actions/"):
                return (*self._callback(request), 0.0)
            reply = self.script.popleft() if self.script else None
            if reply is not None and reply.gate is not None:
                self.gates[id(request)] = reply.gate
        if reply is not None and not reply.process:
            return reply.status, reply.headers, reply.body, reply.delay
        status, body = self._platform(request)
        if reply is not None:  # processed, but answered as scripted (e.g. the answer is lost)
            return reply.status, reply.headers, reply.body, reply.delay
        return status, {}, body, 0.0

    def _platform(self, request: Received) -> tuple[int, bytes]:
        """What each platform does with a request: verify, then accept (and dedupe) or refuse."""
        if request.path == "/hook":
            try:
                msg_id = verify_webhook(request.headers, request.body, JSON_SECRET, now=time.time())
            except InvalidSignature as exc:
                return 401, exc.reason.value.encode()
            self._accept(msg_id, request.json())
            return 204, b""
        if request.path == "/robot/dingtalk":
            q = request.query
            if q.get("access_token") != [DINGTALK_TOKEN] or not _dingtalk_sign_ok(q):
                return 200, b'{"errcode":310000,"errmsg":"sign not match"}'
            return 200, b'{"errcode":0,"errmsg":"ok"}'
        if request.path == f"/robot/feishu/{FEISHU_HOOK}":
            if not _feishu_sign_ok(request.json()):
                return (
                    200,
                    b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}',
                )
            return 200, b'{"code":0,"msg":"success","data":{}}'
        if request.path == "/robot/wecom":
            if request.query.get("key") != [WECOM_KEY]:
                return 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}'
            return 200, b'{"errcode":0,"errmsg":"ok"}'
        return 404, b""

    def _accept(self, msg_id: str, envelope: dict[str, Any]) -> None:
        self.processed[msg_id] = self.processed.get(msg_id, 0) + 1
        if self.processed[msg_id] == 1:
            self.visible.append((envelope["alert_id"], envelope["transition"]))

    def _callback(self, request: Received) -> tuple[int, dict[str, str], bytes]:
        """A stand-in for the API's callback route: token -> AlertAction, as notify.callbacks says."""
        token = request.path.rsplit("/", 1)[1]
        try:
            action = action_from_token(
                token, secret=CALLBACK_SECRET, case_key_of=self.alerts.get, now=now_utc()
            )
        except InvalidToken as exc:
            status = 410 if exc.reason is TokenFailure.EXPIRED else 404
            return status, {}, exc.reason.value.encode()
        data = action.model_dump(mode="json")
        if all(a["action_id"] != data["action_id"] for a in self.actions):
            self.actions.append(data)
        return 200, {"content-type": "application/json"}, json.dumps(data).encode()

    def posts(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def _dingtalk_sign_ok(query: dict[str, list[str]]) -> bool:
    """DingTalk's check, from its documented recipe (independent of notify.signing)."""
    timestamp = query.get("timestamp", [""])[0]
    if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 3600_000:
        return False
    mac = hmac.new(
        DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
    )
    return hmac.compare_digest(query.get("sign", [""])[0], base64.b64encode(mac.digest()).decode())


def _feishu_sign_ok(body: dict[str, Any]) -> bool:
    """Feishu's check, from its documented recipe (independent of notify.signing)."""
    timestamp = str(body.get("timestamp", ""))
    if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 3600:
        return False
    mac = hmac.new(f"{timestamp}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256)
    return hmac.compare_digest(str(body.get("sign", "")), base64.b64encode(mac.digest()).decode())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A fresh receiver on a free loopback port, stopped after the test."""
    server = Receiver()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The notifier's client, allowed to reach the loopback receivers of these tests."""
    async with make_client(egress=EgressPolicy.parse("127.0.0.0/8"), trust_env=False) as http:
        yield http


class RecordingSleep:
    """An injected sleep: remembers the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def _json_sub(receiver: Receiver, **overrides: Any) -> Subscription:
    return subscription(PushFormat.JSON, url=f"{receiver.base}/hook", **overrides)


def _robot_sub(receiver: Receiver, fmt: PushFormat, **overrides: Any) -> Subscription:
    urls = {
        PushFormat.WECOM: f"{receiver.base}/robot/wecom?key={WECOM_KEY}",
        PushFormat.DINGTALK: f"{receiver.base}/robot/dingtalk?access_token={DINGTALK_TOKEN}",
        PushFormat.FEISHU: f"{receiver.base}/robot/feishu/{FEISHU_HOOK}",
    }
    return subscription(fmt, url=urls[fmt], **overrides)


async def _deliver(
    sub: Subscription,
    event: AlertEvent,
    client: httpx.AsyncClient,
    *,
    policy: RetryPolicy | None = None,
    sleep: Any = None,
    records: list[Delivery] | None = None,
    base_url: str = "https://kesu.example.com",
) -> Delivery:
    links = make_links(
        event, sub, base_url=base_url, callback_secret=CALLBACK_SECRET, issued_at=now_utc()
    )
    return await deliver(
        sub,
        event,
        client=client,
        clock=now_utc,
        links=links,
        sleep=sleep or RecordingSleep(),
        policy=policy or RetryPolicy(jitter=0),
        on_record=records.append if records is not None else None,
    )


def _counter(fmt: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "kesu_push_deliveries_total", {"format": fmt, "outcome": outcome}
    )
    return value or 0.0


# -- generic JSON webhooks ----------------------------------------------------------------------


@pytest.mark.asyncio
class TestJsonWebhook:
    async def test_delivered_first_time_and_verified_by_the_receiver(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """A signed envelope arrives once; the receiver verifies it with the shared secret."""
        before = _counter("json", "delivered")
        result = await _deliver(_json_sub(receiver), make_alert_event(), client)
        assert (result.outcome, result.attempts, result.last_status) == (
            DeliveryOutcome.DELIVERED,
            1,
            204,
        )
        assert receiver.visible == [("al-7f3a9c", "breached")]
        assert receiver.posts("/hook")[0].json()["schema"] == "kesu.alert-event/v1"
        assert _counter("json", "delivered") == before + 1

    async def test_retries_5xx_with_growing_delays_under_one_webhook_id(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """Two 500s, then success: delays double, every attempt verifies and carries the same id."""
        receiver.answer(Reply(500, b"oops"), Reply(503, b"busy"))
        sleep, records = RecordingSleep(), []  # type: ignore[var-annotated]
        result = await _deliver(
            _json_sub(receiver), make_alert_event(), client, sleep=sleep, records=records
        )
        assert (result.outcome, result.attempts) == (DeliveryOutcome.DELIVERED, 3)
        assert sleep.delays == [1.0, 2.0]
        posts = receiver.posts("/hook")
        assert len({p.headers["webhook-id"] for p in posts}) == 1 and len(posts) == 3
        assert len({p.body for p in posts}) == 1  # the same bytes every time
        for post in posts:
            verify_webhook(post.headers, post.body, JSON_SECRET, now=time.time())
        assert [r.outcome for r in records] == ["retrying", "retrying", "delivered"]
        assert [r.failure for r in records[:2]] == [Failure.SERVER_ERROR, Failure.SERVER_ERROR]
        assert all(r.delivery_id == result.delivery_id for r in records)
        assert records[0].next_attempt_at is not None

    async def test_receiver_dedupes_a_retry_of_a_processed_delivery(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """The receiver handled attempt 1 but its answer was a 500: the retry is a duplicate it drops (visible_dup = 0)."""
        receiver.answer(Reply(500, b"lost answer", process=True))
        event = make_alert_event()
        await _deliver(_json_sub(receiver), event, client)
        # and the engine republishes the same record later (consumer restart): same id again
        await _deliver(_json_sub(receiver), event, client)
        assert len(receiver.posts("/hook")) == 3  # raw duplicates on the wire
        assert receiver.visible == [("al-7f3a9c", "breached")]  # visible_dup = 0
        assert list(receiver.processed.values()) == [3]

    async def test_429_respects_retry_after(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """A 429 with Retry-After: 7 waits 7 s, not the 1 s backoff."""
        receiver.answer(Reply(429, b"slow down", {"Retry-After": "7"}))
        sleep = RecordingSleep()
        result = await _deliver(_json_sub(receiver), make_alert_event(), client, sleep=sleep)
        assert result.outcome is DeliveryOutcome.DELIVERED and sleep.delays == [7.0]

    async def test_timeout_is_retried(self, receiver: Receiver, client: httpx.AsyncClient) -> None:
        """An answer slower than the per-attempt timeout counts as a failed attempt and is retried."""
        receiver.answer(Reply(200, b"", delay=1.0))
        records: list[Delivery] = []
        policy = RetryPolicy(timeout=0.2, jitter=0)
        result = await _deliver(
            _json_sub(receiver), make_alert_event(), client, policy=policy, records=records
        )
        assert (result.outcome, result.attempts) == (DeliveryOutcome.DELIVERED, 2)
        assert records[0].failure is Failure.TIMEOUT and records[0].last_status is None

    async def test_dead_letter_after_the_last_attempt(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """Always 500: five attempts, four growing delays, then dead_lettered with the reason."""
        receiver.answer(*[Reply(500)] * 5)
        sleep = RecordingSleep()
        before = _counter("json", "dead_lettered")
        result = await _deliver(_json_sub(receiver), make_alert_event(), client, sleep=sleep)
        assert (result.outcome, result.attempts, result.failure, result.last_status) == (
            DeliveryOutcome.DEAD_LETTERED,
            5,
            Failure.SERVER_ERROR,
            500,
        )
        assert sleep.delays == [1.0, 2.0, 4.0, 8.0]
        assert len(receiver.posts("/hook")) == 5
        assert _counter("json", "dead_lettered") == before + 1

    async def test_other_4xx_is_not_retried(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """A receiver that refuses the signature (401) is not hammered: one attempt, dead letter."""
        sub = _json_sub(receiver, secret="whsec_" + base64.b64encode(b"some other key").decode())
        sleep = RecordingSleep()
        result = await _deliver(sub, make_alert_event(), client, sleep=sleep)
        assert (result.outcome, result.attempts, result.last_status, result.failure) == (
            DeliveryOutcome.DEAD_LETTERED,
            1,
            401,
            Failure.CLIENT_ERROR,
        )
        assert sleep.delays == [] and receiver.visible == []

    async def test_redirects_are_not_followed(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """A 307 could carry the signed body elsewhere: it is a final failure, the target never hit."""
        receiver.answer(Reply(307, b"", {"Location": f"{receiver.base}/elsewhere"}))
        result = await _deliver(_json_sub(receiver), make_alert_event(), client)
        assert (result.outcome, result.failure) == (
            DeliveryOutcome.DEAD_LETTERED,
            Failure.UNEXPECTED_STATUS,
        )
        assert receiver.posts("/elsewhere") == []

    async def test_connection_refused_is_retried_then_dead_lettered(
        self, client: httpx.AsyncClient
    ) -> None:
        """Nobody listening: connection errors are retried, then dead-lettered."""
        closed = Receiver()  # bound, never started: take its port, then close it
        url = f"{closed.base}/hook"
        closed.server.server_close()
        sleep = RecordingSleep()
        policy = RetryPolicy(max_attempts=3, jitter=0)
        result = await _deliver(
            subscription(url=url), make_alert_event(), client, sleep=sleep, policy=policy
        )
        assert (result.outcome, result.attempts, result.failure) == (
            DeliveryOutcome.DEAD_LETTERED,
            3,
            Failure.CONNECTION,
        )
        assert sleep.delays == [1.0, 2.0]

    async def test_real_short_delays(self, receiver: Receiver, client: httpx.AsyncClient) -> None:
        """With the real asyncio.sleep and base 0.05 s, attempts arrive at least 0.05 s then 0.1 s apart."""
        receiver.answer(Reply(500), Reply(500))
        sub, event = _json_sub(receiver), make_alert_event()
        result = await deliver(
            sub,
            event,
            client=client,
            clock=now_utc,
            policy=RetryPolicy(base_delay=0.05, jitter=0),
        )
        assert (result.outcome, result.attempts) == (DeliveryOutcome.DELIVERED, 3)
        at = [p.at for p in receiver.posts("/hook")]
        assert at[1] - at[0] >= 0.045 and at[2] - at[1] >= 0.095


# -- chat robots --------------------------------------------------------------------------------


@pytest.mark.asyncio
class TestRobots:
    async def test_dingtalk_signed_card_arrives_and_mentions_on_call(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """The robot accepts the 加签 URL; the actionCard has buttons and @s the on-call phone."""
        sub = _robot_sub(receiver, PushFormat.DINGTALK, mention=Mention(mobiles=("13900001111",)))
        result = await _deliver(sub, make_alert_event(), client)
        assert result.outcome is DeliveryOutcome.DELIVERED
        body = receiver.posts("/robot/dingtalk")[0].json()
        assert body["msgtype"] == "actionCard"
        assert [b["title"] for b in body["actionCard"]["btns"]] == ["确认", "解决", "查看详情"]
        assert (
            body["at"]["atMobiles"] == ["13900001111"]
            and "@13900001111" in body["actionCard"]["text"]
        )

    async def test_dingtalk_wrong_secret_is_refused_once(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """HTTP 200 with errcode 310000 (sign not match) is a final failure, not a success and not a retry."""
        sub = _robot_sub(receiver, PushFormat.DINGTALK, secret="SECwrong")
        result = await _deliver(sub, make_alert_event(), client)
        assert (
            result.outcome,
            result.attempts,
            result.failure,
            result.robot_code,
            result.last_status,
        ) == (
            DeliveryOutcome.DEAD_LETTERED,
            1,
            Failure.ROBOT_REJECTED,
            310000,
            200,
        )

    @pytest.mark.parametrize(
        ("fmt", "limited", "block"),
        [
            (
                PushFormat.DINGTALK,
                b'{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}',
                600.0,
            ),
            (PushFormat.WECOM, b'{"errcode":45009,"errmsg":"api freq out of limit"}', 60.0),
            (PushFormat.FEISHU, b'{"code":11232,"msg":"frequency limited"}', 60.0),
        ],
    )
    async def test_robot_rate_limit_waits_out_the_platforms_block(
        self,
        receiver: Receiver,
        client: httpx.AsyncClient,
        fmt: PushFormat,
        limited: bytes,
        block: float,
    ) -> None:
        """A 200 carrying the robot's rate-limit code is deferred for the platform's documented
        block (DingTalk 10 min, WeCom 60 s, Feishu 60 s), not retried into it after 30 s."""
        receiver.answer(Reply(200, limited))
        sleep, records = RecordingSleep(), []  # type: ignore[var-annotated]
        result = await _deliver(
            _robot_sub(receiver, fmt), make_alert_event(), client, sleep=sleep, records=records
        )
        assert (result.outcome, result.attempts) == (DeliveryOutcome.DELIVERED, 2)
        assert sleep.delays == [block]
        assert [r.outcome for r in records] == ["deferred", "delivered"]
        assert records[0].failure is Failure.ROBOT_RATE_LIMITED

    async def test_feishu_signed_card_arrives(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """The bot verifies timestamp and sign in the body; the card is interactive and red for tier 1."""
        result = await _deliver(_robot_sub(receiver, PushFormat.FEISHU), make_alert_event(), client)
        assert result.outcome is DeliveryOutcome.DELIVERED
        body = receiver.posts(f"/robot/feishu/{FEISHU_HOOK}")[0].json()
        assert body["msg_type"] == "interactive" and body["card"]["header"]["template"] == "red"

    async def test_feishu_wrong_secret_is_refused(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """code 19021 in a 200 is a final failure."""
        result = await _deliver(
            _robot_sub(receiver, PushFormat.FEISHU, secret="other"), make_alert_event(), client
        )
        assert (result.outcome, result.robot_code) == (DeliveryOutcome.DEAD_LETTERED, 19021)

    async def test_wecom_markdown_arrives_within_the_limit(
        self, receiver: Receiver, client: httpx.AsyncClient
    ) -> None:
        """The markdown message arrives under 4096 bytes, even for a very long excerpt."""
        event = make_alert_event(excerpt="快递太慢了！" * 2000)
        result = await _deliver(_robot_sub(receiver, PushFormat.WECOM), event, client)
        assert result.outcome is DeliveryOutcome.DELIVERED
        body = receiver.posts("/robot/wecom")[0].json()
        assert body["msgtype"] == "markdown" and len(body["markdown"]["content"].encode()) <= 4096

    @pytest.mark.parametrize("fmt", list(PushFormat))
    async def test_no_personal_data_reaches_the_receiver(
        self, receiver: Receiver, client: httpx.AsyncClient, fmt: PushFormat
    ) -> None:
        """S2: personal data planted everywhere in the record reaches no receiver, on any format."""
        sub = _json_sub(receiver) if fmt is PushFormat.JSON else _robot_sub(receiver, fmt)
        result = await _deliver(sub, with_pii(make_alert_event()), client)
        assert result.outcome is DeliveryOutcome.DELIVERED
        for request in receiver.requests:
            seen = request.body.decode() + request.path + json.dumps(request.query)
            assert not [value for value in PLANTED if value in seen]


# -- secrets stay out of logs --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_no_secret_or_robot_key_in_any_log_record(
    receiver: Receiver, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Across deliveries, retries and dead letters, logs name subscriptions but never keys or secrets."""
    caplog.set_level(logging.DEBUG)
    receiver.answer(
        Reply(500), Reply(200, b'{"errcode":310000,"errmsg":"keywords not in content"}')
    )
    await _deliver(_robot_sub(receiver, PushFormat.DINGTALK), make_alert_event(), client)
    for fmt in (PushFormat.WECOM, PushFormat.FEISHU):
        await _deliver(_robot_sub(receiver, fmt), make_alert_event(), client)
    receiver.answer(*[Reply(503)] * 5)
    await _deliver(_json_sub(receiver), make_alert_event(), client)
    assert any("dead-lettered" in r.getMessage() for r in caplog.records)
    assert any("sub-dingtalk" in r.getMessage() for r in caplog.records)
    text = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    for secret in (
        WECOM_KEY,
        DINGTALK_TOKEN,
        FEISHU_HOOK,
        DINGTALK_SECRET,
        FEISHU_SECRET,
        JSON_SECRET,
        "sign=",
    ):
        assert secret not in text
    assert CALLBACK_SECRET.decode() not in text


# -- routing and several subscribers --------------------------------------------------------------


@pytest.mark.asyncio
async def test_notify_routes_filters_and_delivers_concurrently(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """One event, four subscriptions: two delivered, two filtered with their reasons, in order."""
    subs = [
        _json_sub(receiver, id="ops-json"),
        _robot_sub(receiver, PushFormat.FEISHU, id="east", filters=Filters(regions=("华东",))),
        _robot_sub(
            receiver,
            PushFormat.DINGTALK,
            id="south",
            filters=Filters(regions=("华南",), tiers=(1,)),
        ),
        _robot_sub(receiver, PushFormat.WECOM, id="off", enabled=False),
    ]
    records: list[Delivery] = []
    before = REGISTRY.get_sample_value("kesu_push_not_routed_total", {"reason": "REGION"}) or 0.0
    results = await notify(
        subs,
        make_alert_event(),
        client=client,
        clock=now_utc,
        links_for=lambda event, sub, now: make_links(
            event, sub, base_url=receiver.base, callback_secret=CALLBACK_SECRET, issued_at=now
        ),
        sleep=RecordingSleep(),
        on_record=records.append,
    )
    assert [(r.subscription_id, r.outcome, r.filtered_by) for r in results] == [
        ("ops-json", DeliveryOutcome.DELIVERED, None),
        ("east", DeliveryOutcome.FILTERED, NotRouted.REGION.value),
        ("south", DeliveryOutcome.DELIVERED, None),
        ("off", DeliveryOutcome.FILTERED, NotRouted.DISABLED.value),
    ]
    assert len(records) == 4
    assert (
        REGISTRY.get_sample_value("kesu_push_not_routed_total", {"reason": "REGION"}) == before + 1
    )
    assert receiver.posts(f"/robot/feishu/{FEISHU_HOOK}") == []


# -- the callback path: a button click back into the lifecycle -------------------------------------


@pytest.mark.asyncio
async def test_card_button_becomes_one_alert_action(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """Click 确认 on a delivered DingTalk card: the callback yields one acknowledge action, however often clicked."""
    event = make_alert_event(Transition.OPENED)
    receiver.alerts[event.alert_id] = event.alert.case_key
    sub = _robot_sub(receiver, PushFormat.DINGTALK)
    await _deliver(sub, event, client, base_url=receiver.base)
    buttons = {
        b["title"]: b["actionURL"]
        for b in receiver.posts("/robot/dingtalk")[0].json()["actionCard"]["btns"]
    }
    ack = buttons["确认"]
    assert ack.startswith(f"{receiver.base}/v1/callbacks/actions/")

    first = await client.post(ack)
    again = await client.post(ack)  # double click
    assert first.status_code == again.status_code == 200
    assert first.json()["action_id"] == again.json()["action_id"]
    action = first.json()
    assert (action["kind"], action["alert_id"], action["case_key"], action["actor"]) == (
        ActionKind.ACKNOWLEDGE.value,
        event.alert_id,
        event.alert.case_key,
        "card:sub-dingtalk",
    )
    assert len(receiver.actions) == 1

    resolve = await client.post(buttons["解决"])
    assert resolve.json()["kind"] == "resolve" and len(receiver.actions) == 2

    # The acknowledge link's MAC under the resolve link's payload: tampering is refused.
    version, _, ack_mac = ack.rsplit("/", 1)[1].split(".")
    resolve_payload = buttons["解决"].rsplit("/", 1)[1].split(".")[1]
    forged = f"{receiver.base}/v1/callbacks/actions/{version}.{resolve_payload}.{ack_mac}"
    refused = await client.post(forged)
    assert (refused.status_code, refused.text) == (404, "BAD_SIGNATURE")
    receiver.alerts.clear()
    gone = await client.post(ack)
    assert (gone.status_code, gone.text) == (404, "UNKNOWN_ALERT")


# -- where the notifier may connect (SSRF) -----------------------------------------------------


def _names(**answers: str):  # type: ignore[no-untyped-def]
    """A resolver that answers from a table, as a DNS server the attacker controls could."""

    async def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(answers[host])]

    return resolve


@pytest.mark.asyncio
async def test_a_connection_goes_to_the_address_that_was_checked(receiver: Receiver) -> None:
    """The URL's host name is resolved and checked once per attempt; the connection goes to
    that address, with the name kept for the Host header (and TLS)."""
    port = receiver.server.server_address[1]
    transport = GuardedTransport(
        EgressPolicy.parse("127.0.0.0/8"),
        limits=httpx.Limits(max_connections=2),
        trust_env=False,
        resolver=_names(**{"robot.test": "127.0.0.1"}),
    )
    async with httpx.AsyncClient(transport=transport, trust_env=False) as http:
        answer = await http.post(f"http://robot.test:{port}/robot/wecom?key={WECOM_KEY}", json={})
    assert answer.status_code == 200
    [request] = receiver.requests
    assert request.headers["Host"] == f"robot.test:{port}"


@pytest.mark.asyncio
async def test_a_name_that_now_points_at_a_metadata_address_is_never_called(
    receiver: Receiver,
) -> None:
    """DNS changed after the subscription was checked: the attempt is refused before any
    connection and dead-lettered, not retried."""
    client = httpx.AsyncClient(
        transport=GuardedTransport(
            EgressPolicy.parse("127.0.0.0/8"),
            limits=httpx.Limits(max_connections=2),
            trust_env=False,
            resolver=_names(**{"robot.test": "169.254.169.254"}),
        ),
        trust_env=False,
    )
    sub = subscription(PushFormat.JSON, url="http://robot.test/hook")
    async with client:
        result = await _deliver(sub, make_alert_event(), client)
    assert (result.outcome, result.attempts, result.failure) == (
        DeliveryOutcome.DEAD_LETTERED,
        1,
        Failure.DESTINATION_REFUSED,
    )
    assert receiver.requests == []


@pytest.mark.asyncio
async def test_the_default_client_refuses_loopback() -> None:
    """make_client() without an allow-list: a loopback receiver is refused, never reached."""
    local = Receiver()
    local.thread.start()
    try:
        async with make_client(trust_env=False) as http:
            result = await _deliver(_json_sub(local), make_alert_event(), http)
        assert result.failure is Failure.DESTINATION_REFUSED and local.requests == []
    finally:
        local.server.shutdown()
        local.server.server_close()
