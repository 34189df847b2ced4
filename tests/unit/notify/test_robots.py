"""The local robots of tests/robots.py enforce what the platforms document (they are the
yardstick of bench/noise.py, so they are tested too)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest

from notify.signing import dingtalk_signed_url, feishu_sign, webhook_headers
from tests.robots import Robot, RobotServer

DING = Robot("dingtalk", "ding", secret="SECding", token="tok")
WECOM = Robot("wecom", "wecom", token="key")
FEISHU = Robot("feishu", "feishu", secret="fs")
HOOK = Robot("json", "hook", secret="whsec_c2VjcmV0")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _post(server: RobotServer, robot: Robot, n: int = 0, *, signed: bool = True) -> bytes:
    url = robot.url("http://x")
    body: dict[str, object] = {"msgtype": "markdown", "markdown": {"content": f"#{n}"}}
    headers: dict[str, str] = {}
    if robot.kind == "dingtalk" and signed:
        url = dingtalk_signed_url(url, robot.secret, int(time.time() * 1000))
    if robot.kind == "feishu":
        stamp = int(time.time())
        body = {
            "timestamp": str(stamp),
            "sign": feishu_sign(robot.secret if signed else "x", stamp),
        }
    raw = json.dumps(body).encode()
    if robot.kind == "json":
        headers = webhook_headers(
            f"msg_{n}", int(time.time()), raw, robot.secret if signed else "no"
        )
    parts = urlsplit(url)
    _, answer = server.handle(f"{parts.path}?{parts.query}", headers, raw)
    return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> RobotServer:
    return RobotServer([DING, WECOM, FEISHU, HOOK], clock=clock)


def test_dingtalk_takes_20_a_minute_then_blocks_10_minutes(
    server: RobotServer, clock: FakeClock
) -> None:
    answers = [_post(server, DING, n) for n in range(21)]
    assert [b"130101" in a for a in answers] == [False] * 20 + [True]
    clock.now += 61  # a new minute, but still blocked
    assert b"130101" in _post(server, DING)
    clock.now += 600
    assert b'"errcode":0' in _post(server, DING)
    assert [t.reason for t in server.of("ding")].count("rate") == 2


def test_wecom_refuses_the_21st_for_a_minute(server: RobotServer, clock: FakeClock) -> None:
    for n in range(20):
        _post(server, WECOM, n)
    assert b"45009" in _post(server, WECOM)
    clock.now += 61
    assert b'"errcode":0' in _post(server, WECOM)


def test_feishu_takes_5_a_second(server: RobotServer, clock: FakeClock) -> None:
    answers = [_post(server, FEISHU, n) for n in range(6)]
    assert [b"11232" in a for a in answers] == [False] * 5 + [True]
    clock.now += 1.5
    assert b'"code":0' in _post(server, FEISHU)


@pytest.mark.parametrize("robot", [DING, FEISHU, HOOK], ids=lambda r: r.kind)
def test_a_wrong_signature_is_refused(server: RobotServer, robot: Robot) -> None:
    _post(server, robot, signed=False)
    [taken] = server.of(robot.name)
    assert (taken.accepted, taken.reason) == (False, "sign")


def test_a_webhook_id_counts_once(server: RobotServer) -> None:
    _post(server, HOOK, 1)
    _post(server, HOOK, 1)
    assert [t.reason for t in server.of("hook")] == ["ok", "duplicate"]
