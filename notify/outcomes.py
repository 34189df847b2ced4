"""What an HTTP answer means for a delivery: delivered, worth retrying, or not.

Pure. No I/O. The chat robots answer HTTP 200 even when they refuse a message and put the
verdict in the JSON body, so for them a 2xx is read further:

| robot | field | retryable codes (rate limit / busy) | typical non-retryable codes |
|---|---|---|---|
| WeCom 企业微信 | `errcode` | 45009 api freq out of limit (20 msgs/min per robot); -1 系统繁忙 | 93000 invalid webhook url, 40008 invalid message type, 44004 empty content |
| DingTalk 钉钉 | `errcode` | 130101 send too fast, exceed 20 times per minute; 410100 发送速度太快而限流 (*); -1 系统繁忙 | 310000 keyword / sign / ip check failed, 300001 and 400101 token invalid, 400013 群已解散 |
| Feishu 飞书 | `code` (older bots: `StatusCode`) | 11232 frequency limited (100/min, 5/s per bot) | 19021 sign or timestamp invalid, 19022 ip not allowed, 19024 keywords not found, 9499 bad request |

Sources: each platform's robot documentation and error-code pages as we know them, and the
public issue threads quoting them (e.g. 130101 "send too fast, exceed 20 times per minute" in
ccfos/nightingale#369). (*) 410100 is less certain; retrying it costs at most a few attempts.
Any unknown non-zero code is treated as not retryable: a refusal we do not understand will
not start working by itself, and retrying a robot that accepted the message would post it twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from notify.models import Failure, PushFormat

__all__ = [
    "ROBOT_BUSY_CODES",
    "ROBOT_RATE_LIMIT_CODES",
    "Answer",
    "Verdict",
    "judge",
    "parse_retry_after",
]

ROBOT_RATE_LIMIT_CODES: dict[PushFormat, frozenset[int]] = {
    PushFormat.WECOM: frozenset({45009}),
    PushFormat.DINGTALK: frozenset({130101, 410100}),
    PushFormat.FEISHU: frozenset({11232}),
}
ROBOT_BUSY_CODES: dict[PushFormat, frozenset[int]] = {
    PushFormat.WECOM: frozenset({-1}),
    PushFormat.DINGTALK: frozenset({-1}),
    PushFormat.FEISHU: frozenset(),
}


@dataclass(frozen=True)
class Verdict:
    """The meaning of one attempt's answer."""

    delivered: bool
    failure: Failure | None = None
    retryable: bool = False
    robot_code: int | None = None

    @property
    def error(self) -> str | None:
        """A short description for the delivery log: no URL, secret or body."""
        if self.delivered or self.failure is None:
            return None
        if self.robot_code is not None:
            return f"{self.failure.value}: robot code {self.robot_code}"
        return self.failure.value


_DELIVERED = Verdict(delivered=True)


@dataclass(frozen=True)
class Answer:
    """What one attempt got back: its verdict, the HTTP status and the Retry-After header."""

    verdict: Verdict
    status: int | None = None
    retry_after: str | None = None

    def retry_after_seconds(self, now: datetime) -> float | None:
        return parse_retry_after(self.retry_after, now)


def _robot_code(fmt: PushFormat, body: bytes) -> int | None:
    """The robot's error code, 0 on success, None when the body says nothing we understand."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    keys = (
        ("errcode",) if fmt in (PushFormat.WECOM, PushFormat.DINGTALK) else ("code", "StatusCode")
    )
    for key in keys:
        code = answer.get(key)
        if type(code) is int:
            return code
    return None


def judge(fmt: PushFormat, status: int, body: bytes) -> Verdict:
    """Delivered, retryable failure or final failure, from a status code and the answer's body."""
    if 200 <= status < 300:
        if fmt is PushFormat.JSON:
            return _DELIVERED
        code = _robot_code(fmt, body)
        if not code:  # 0, or no code at all: the robot took it
            return _DELIVERED
        if code in ROBOT_RATE_LIMIT_CODES[fmt]:
            return Verdict(False, Failure.ROBOT_RATE_LIMITED, retryable=True, robot_code=code)
        if code in ROBOT_BUSY_CODES[fmt]:
            return Verdict(False, Failure.ROBOT_BUSY, retryable=True, robot_code=code)
        return Verdict(False, Failure.ROBOT_REJECTED, retryable=False, robot_code=code)
    if status == 429:
        return Verdict(False, Failure.RATE_LIMITED, retryable=True)
    if status == 408:
        return Verdict(False, Failure.REQUEST_TIMEOUT, retryable=True)
    if status >= 500:
        return Verdict(False, Failure.SERVER_ERROR, retryable=True)
    if 400 <= status < 500:
        return Verdict(False, Failure.CLIENT_ERROR, retryable=False)
    return Verdict(False, Failure.UNEXPECTED_STATUS, retryable=False)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max((when - now).total_seconds(), 0.0)
