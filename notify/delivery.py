"""Stage 9b, send: POST one alert event to one subscriber, retry with backoff, dead-letter.

The only module of push that does network I/O. Time, sleep and jitter are injected, so tests
drive retries without waiting. Each attempt is rendered and signed afresh (fresh timestamps)
under the same delivery id, which is the `webhook-id` receivers dedupe on.

Retry policy: 2xx is delivered (for robots only when the body's code is 0); 5xx, 408, 429,
timeouts, connection errors and the robots' rate-limit/busy codes are retried after
min(max_delay, base_delay * 2**(n-1)) seconds ± jitter, at least Retry-After (capped at
max_retry_after) and at least robot_rate_limit_delay after a robot's rate-limit code (their
limits count per minute, so a quick retry only burns an attempt); other 4xx, 1xx/3xx
(redirects are not followed: a redirect could carry a signed body to another host) and other
robot codes are final. After max_attempts the delivery is dead-lettered.

Never logged: URLs (robot keys live in them), secrets, request or response bodies.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from notify.formats import OutgoingRequest, render
from notify.links import Links
from notify.metrics import WEBHOOK_DELIVERIES, WEBHOOK_FAILURES
from notify.models import (
    Delivery,
    DeliveryOutcome,
    Failure,
    PushFormat,
    Subscription,
    delivery_id_for,
)
from notify.outcomes import Verdict, judge, parse_retry_after
from streams.records import AlertEvent

__all__ = ["Clock", "OnRecord", "RetryPolicy", "Sleep", "deliver", "make_client", "record_delivery"]

log = logging.getLogger(__name__)

_URL = re.compile(r"(https?://)([^/\s\"'<>]+)[^\s\"'<>]*")


class _HideUrlPaths(logging.Filter):
    """httpx logs every request's full URL at INFO: robot keys live in those URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _URL.sub(lambda m: f"{m.group(1)}{m.group(2).rpartition('@')[2]}/***", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


# Installed once, on httpx's own logger only: every URL it logs keeps its host and loses the rest.
logging.getLogger("httpx").addFilter(_HideUrlPaths())


def make_client(*, max_connections: int = 20, trust_env: bool = True) -> httpx.AsyncClient:
    """An HTTP client fit for pushing: no redirects, a bounded pool.

    Args:
        trust_env: honour HTTPS_PROXY/NO_PROXY (egress to the robots often needs a proxy).
    Timeouts are set per attempt by `deliver` (RetryPolicy.timeout).
    """
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=trust_env,
        limits=httpx.Limits(max_connections=max_connections),
        headers={"user-agent": "kesu-push/1"},
    )


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Called with every delivery-log record produced (retrying ones and the final one): persist it.
OnRecord = Callable[[Delivery], Awaitable[None] | None]

_MAX_ANSWER_BYTES = 64 * 1024  # enough for any robot's verdict; a hostile receiver gets no more


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Durations in seconds."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.1  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    timeout: float = 10.0  # per attempt: connect, write and read
    max_retry_after: float = 300.0
    robot_rate_limit_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need max_attempts >= 1 and 0 <= base_delay <= max_delay")
        if not 0 <= self.jitter < 1 or self.timeout <= 0:
            raise ValueError("need 0 <= jitter < 1 and timeout > 0")

    def delay(
        self,
        retry: int,
        rng: random.Random,
        *,
        failure: Failure | None = None,
        retry_after: float | None = None,
    ) -> float:
        """Seconds to wait before retry number `retry` (1 = the first retry)."""
        wait = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        if self.jitter:
            wait = min(self.max_delay, wait * (1 + self.jitter * (2 * rng.random() - 1)))
        if failure is Failure.ROBOT_RATE_LIMITED:
            wait = max(wait, self.robot_rate_limit_delay)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


@dataclass(frozen=True)
class _Answer:
    verdict: Verdict
    status: int | None = None
    retry_after: str | None = None


async def _post(
    client: httpx.AsyncClient, request: OutgoingRequest, fmt: PushFormat, timeout: float
) -> _Answer:
    """One attempt; never raises for network trouble, and reads at most 64 KiB of the answer."""
    try:
        async with client.stream(
            "POST",
            request.url,
            content=request.body,
            headers=request.headers,
            timeout=timeout,
            follow_redirects=False,
        ) as response:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= _MAX_ANSWER_BYTES:
                    break
    except httpx.TimeoutException:
        return _Answer(Verdict(False, Failure.TIMEOUT, retryable=True))
    except httpx.TransportError:
        return _Answer(Verdict(False, Failure.CONNECTION, retryable=True))
    verdict = judge(fmt, response.status_code, body)
    return _Answer(verdict, response.status_code, response.headers.get("retry-after"))


async def record_delivery(on_record: OnRecord | None, record: Delivery) -> None:
    """Count a delivery-log record by format and outcome, and hand it to `on_record`."""
    WEBHOOK_DELIVERIES.labels(record.format.value, record.outcome.value).inc()
    if on_record is not None:
        result = on_record(record)
        if inspect.isawaitable(result):
            await result


async def deliver(
    subscription: Subscription,
    event: AlertEvent,
    *,
    client: httpx.AsyncClient,
    clock: Clock,
    links: Links | None = None,
    sleep: Sleep = asyncio.sleep,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    on_record: OnRecord | None = None,
) -> Delivery:
    """Send `event` to `subscription` until it is delivered or dead-lettered; the final record.

    Args:
        clock: the time of each attempt (aware UTC datetime); signatures and countdowns use it.
        links: dashboard and signed action URLs for the message (make_links); none by default.
        sleep: awaited between attempts with the delay in seconds.
        rng: jitter source; seed it for reproducible delays.
        on_record: called with each `retrying` record and the final one (upsert by delivery_id).
    """
    policy = policy or RetryPolicy()
    rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    links = links or Links()
    fmt = subscription.format
    delivery_id = delivery_id_for(subscription.id, event.record_id)
    where = f"subscription {subscription.id} ({fmt.value}, {subscription.masked_url()})"
    created_at: datetime | None = None

    def entry(outcome: DeliveryOutcome, attempt: int, now: datetime, answer: _Answer) -> Delivery:
        verdict = answer.verdict
        return Delivery(
            delivery_id=delivery_id,
            subscription_id=subscription.id,
            format=fmt,
            record_id=event.record_id,
            alert_id=event.alert_id,
            transition=event.transition,
            outcome=outcome,
            attempts=attempt,
            last_status=answer.status,
            last_error=verdict.error,
            failure=verdict.failure,
            robot_code=verdict.robot_code,
            created_at=created_at or now,
            updated_at=now,
        )

    for attempt in range(1, policy.max_attempts + 1):
        now = clock()
        created_at = created_at or now
        try:
            request = render(subscription, event, links, now=now)
        except Exception as exc:  # a poison record must not stall the consumer: dead-letter it
            log.error("webhook %s to %s not rendered (%s)", delivery_id, where, type(exc).__name__)
            answer = _Answer(Verdict(False, Failure.RENDER_FAILED))
        else:
            answer = await _post(client, request, fmt, policy.timeout)
        verdict = answer.verdict
        if verdict.delivered:
            log.info("webhook %s delivered to %s, attempt %d", delivery_id, where, attempt)
            record = entry(DeliveryOutcome.DELIVERED, attempt, now, answer)
            await record_delivery(on_record, record)
            return record
        failure = verdict.failure or Failure.UNEXPECTED_STATUS
        WEBHOOK_FAILURES.labels(fmt.value, failure.value).inc()
        if not verdict.retryable or attempt == policy.max_attempts:
            log.error(
                "webhook %s to %s dead-lettered after %d attempt(s): %s",
                delivery_id,
                where,
                attempt,
                verdict.error,
            )
            record = entry(DeliveryOutcome.DEAD_LETTERED, attempt, now, answer)
            await record_delivery(on_record, record)
            return record
        retry_after = parse_retry_after(answer.retry_after, now)
        wait = policy.delay(attempt, rng, failure=failure, retry_after=retry_after)
        log.warning(
            "webhook %s to %s failed, attempt %d: %s; retrying in %.2f s",
            delivery_id,
            where,
            attempt,
            verdict.error,
            wait,
        )
        record = entry(DeliveryOutcome.RETRYING, attempt, now, answer)
        record = record.model_copy(update={"next_attempt_at": now + timedelta(seconds=wait)})
        await record_delivery(on_record, record)
        await sleep(wait)
    raise AssertionError("unreachable: the last attempt always returns")  # pragma: no cover
