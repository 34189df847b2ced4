"""Local stand-ins for the chat robots and a webhook receiver that behave as documented:
each checks its signature (or key) and enforces the platform's rate limit with its own
error code, and counts what it took.

| robot | checks | limit | over the limit |
|---|---|---|---|
| DingTalk | access_token, 加签 timestamp (±1 h) and sign | 20 per minute | errcode 130101, then every request refused for 10 minutes |
| WeCom | key | 20 per minute | errcode 45009, refused for 60 s |
| Feishu | 签名校验 timestamp (±1 h) and sign; body ≤ 20 KB | 100 per minute and 5 per second | code 11232 |
| JSON webhook | Standard Webhooks signature (±5 min), dedupe by webhook-id | none | — |

Limits as notify/policy.py cites them; signature recipes re-implemented here from the
platforms' documentation, independently of notify/signing.py, so a wrong signature in kesu
fails here. Used by the integration tests and by bench/noise.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Robot", "RobotServer", "Taken"]

_ALERT_LINK = re.compile(r"#alert=([^)\s\"'<>&]+)")
_DIGEST_LINK = re.compile(r"#digest=(msg_[0-9a-f]+)")

#: kind -> (per minute, per second, block seconds after the limit, rate-limit body)
_LIMITS: dict[str, tuple[int | None, int | None, float, bytes]] = {
    "dingtalk": (
        20,
        None,
        600.0,
        b'{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}',
    ),
    "wecom": (20, None, 60.0, b'{"errcode":45009,"errmsg":"api freq out of limit"}'),
    "feishu": (100, 5, 0.0, b'{"code":11232,"msg":"frequency limited psm"}'),
    "json": (None, None, 0.0, b""),
}
_OK = {
    "dingtalk": b'{"errcode":0,"errmsg":"ok"}',
    "wecom": b'{"errcode":0,"errmsg":"ok"}',
    "feishu": b'{"code":0,"msg":"success","data":{}}',
}


@dataclass(frozen=True)
class Robot:
    """One robot (or webhook endpoint) and its credentials."""

    kind: str  # dingtalk, wecom, feishu, json
    name: str
    secret: str = ""  # DingTalk SEC…, Feishu signing secret, JSON whsec_…
    token: str = ""  # DingTalk access_token, WeCom key (Feishu: the hook id is the name)

    def url(self, base: str) -> str:
        if self.kind == "dingtalk":
            return f"{base}/robot/dingtalk/{self.name}?access_token={self.token}"
        if self.kind == "wecom":
            return f"{base}/robot/wecom/{self.name}?key={self.token}"
        if self.kind == "feishu":
            return f"{base}/robot/feishu/{self.name}"
        return f"{base}/hook/{self.name}"


@dataclass
class Taken:
    """One request as the robot saw it."""

    at: float  # time.monotonic()
    robot: str
    accepted: bool
    reason: str  # ok, rate, sign, key, size, duplicate
    body: dict[str, Any]
    webhook_id: str | None = None
    wall: float = 0.0  # time.time(), to compare with Kafka timestamps

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)

    def alert_ids(self) -> set[str]:
        """Alerts the message names: JSON ids, or the dashboard links of a chat message."""
        if "items" in self.body:
            return {item["alert_id"] for item in self.body["items"]}
        if "alert_id" in self.body:
            return {self.body["alert_id"]}
        return {unquote(m) for m in _ALERT_LINK.findall(self.text)}

    def digest_ids(self) -> set[str]:
        """Messages whose full list is behind a "查看全部" link (resolved by the delivery log)."""
        return set(_DIGEST_LINK.findall(self.text))


@dataclass
class _State:
    accepted: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class RobotServer:
    """The robots on one loopback port; `taken` records every request in arrival order."""

    def __init__(self, robots: list[Robot], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.robots = {r.name: r for r in robots}
        self.taken: list[Taken] = []
        self._state = {r.name: _State() for r in robots}
        self._seen_ids: set[str] = set()
        self._lock = threading.Lock()
        self._clock = clock
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, answer = server.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, name: str) -> str:
        return self.robots[name].url(self.base)

    def start(self) -> RobotServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the platforms --------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        name = segments[-1]
        robot = self.robots.get(name)
        if robot is None:
            return 404, b""
        query = parse_qs(parts.query)
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, b'{"errcode":40001,"errmsg":"invalid json"}'
        with self._lock:
            now = self._clock()
            reason, webhook_id = self._check(robot, query, headers, raw, body, now)
            if reason == "ok":
                reason = self._spend(robot, now)
            taken = Taken(now, robot.name, reason == "ok", reason, body, webhook_id, time.time())
            self.taken.append(taken)
        return self._answer(robot, reason)

    def _check(
        self,
        robot: Robot,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw: bytes,
        body: dict[str, Any],
        now: float,
    ) -> tuple[str, str | None]:
        wall = time.time()
        if robot.kind == "dingtalk":
            if query.get("access_token") != [robot.token]:
                return "key", None
            return ("ok" if _dingtalk_sign_ok(query, robot.secret, wall) else "sign"), None
        if robot.kind == "wecom":
            if query.get("key") != [robot.token]:
                return "key", None
            content = body.get("markdown", {}).get("content", "")
            return ("ok" if len(content.encode()) <= 4096 else "size"), None
        if robot.kind == "feishu":
            if len(raw) > 20 * 1024:
                return "size", None
            return ("ok" if _feishu_sign_ok(body, robot.secret, wall) else "sign"), None
        lowered = {k.lower(): v for k, v in headers.items()}
        webhook_id = lowered.get("webhook-id")
        if not _webhook_ok(lowered, raw, robot.secret, wall):
            return "sign", webhook_id
        if webhook_id in self._seen_ids:
            return "duplicate", webhook_id
        self._seen_ids.add(webhook_id or "")
        return "ok", webhook_id

    def _spend(self, robot: Robot, now: float) -> str:
        per_minute, per_second, block, _ = _LIMITS[robot.kind]
        state = self._state[robot.name]
        if now < state.blocked_until:
            return "rate"
        while state.accepted and state.accepted[0] <= now - 60:
            state.accepted.popleft()
        in_second = sum(1 for t in state.accepted if t > now - 1)
        if (per_minute is not None and len(state.accepted) >= per_minute) or (
            per_second is not None and in_second >= per_second
        ):
            state.blocked_until = now + block
            return "rate"
        state.accepted.append(now)
        return "ok"

    def _answer(self, robot: Robot, reason: str) -> tuple[int, bytes]:
        if robot.kind == "json":
            return {"ok": (204, b""), "duplicate": (204, b"")}.get(reason, (401, b"BAD_SIGNATURE"))
        if reason == "ok":
            return 200, _OK[robot.kind]
        if reason == "rate":
            return 200, _LIMITS[robot.kind][3]
        codes = {
            "dingtalk": b'{"errcode":310000,"errmsg":"sign not match"}',
            "wecom": b'{"errcode":93000,"errmsg":"invalid webhook url"}',
            "feishu": b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}',
        }
        if reason == "size":
            return 200, b'{"errcode":40058,"code":9499,"msg":"Bad Request: too large"}'
        return 200, codes[robot.kind]

    # -- what the robots took -------------------------------------------------------------

    def of(self, name: str) -> list[Taken]:
        with self._lock:
            return [t for t in self.taken if t.robot == name]

    def most_in_a_minute(self, name: str, *, accepted_only: bool = False) -> int:
        """The most requests that reached `name` in any 60 s."""
        times = [t.at for t in self.of(name) if t.accepted or not accepted_only]
        return max((sum(1 for u in times if s <= u < s + 60) for s in times), default=0)


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def _dingtalk_sign_ok(query: dict[str, list[str]], secret: str, wall: float) -> bool:
    """钉钉加签: sign = base64(HmacSHA256(secret, f"{timestamp}\\n{secret}")), timestamp in ms."""
    timestamp = query.get("timestamp", [""])[0]
    if not timestamp.isdigit() or abs(int(timestamp) - wall * 1000) > 3600_000:
        return False
    expected = _b64_hmac(secret.encode(), f"{timestamp}\n{secret}".encode())
    return hmac.compare_digest(query.get("sign", [""])[0], expected)


def _feishu_sign_ok(body: dict[str, Any], secret: str, wall: float) -> bool:
    """飞书签名校验: sign = base64(HmacSHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    if not secret:
        return True
    timestamp = str(body.get("timestamp", ""))
    if not timestamp.isdigit() or abs(int(timestamp) - wall) > 3600:
        return False
    expected = _b64_hmac(f"{timestamp}\n{secret}".encode(), b"")
    return hmac.compare_digest(str(body.get("sign", "")), expected)


def _webhook_ok(headers: dict[str, str], body: bytes, secret: str, wall: float) -> bool:
    """Standard Webhooks: v1,base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), ±5 min."""
    msg_id, timestamp = headers.get("webhook-id"), headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or abs(int(timestamp) - wall) > 300:
        return False
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    expected = "v1," + _b64_hmac(key, f"{msg_id}.{timestamp}.".encode() + body)
    return any(
        hmac.compare_digest(candidate, expected)
        for candidate in headers.get("webhook-signature", "").split()
    )
