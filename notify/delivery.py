"""Stage 9b, send: POST one rendered message, and (for single sends) retry until settled.

The only module of notify that does network I/O. `attempt` makes one POST and judges the
answer (notify/outcomes.py); the notifier's pipeline decides what follows with
`notify.retry.next_step` and the subscription's budget. `deliver` is the same decision in a
loop for one event and one subscription (used by tests and one-off sends): it sleeps between
attempts, and after a rate-limit answer waits out the block instead of retrying into it.
Each attempt is rendered and signed afresh (fresh timestamps) under the same delivery id, the
`webhook-id` receivers dedupe on.

Redirects are not followed: a redirect could carry a signed body to another host.

Never logged: URLs (robot keys live in them), secrets, request or response bodies.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from notify.egress import DestinationRefused, EgressPolicy, GuardedTransport
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
from notify.outcomes import Answer, Verdict, judge
from notify.policy import PLATFORM_LIMITS
from notify.retry import Next, RetryPolicy, next_step
from streams.records import AlertEvent

__all__ = [
    "Clock",
    "OnRecord",
    "RetryPolicy",
    "Sleep",
    "attempt",
    "deliver",
    "make_client",
    "record_delivery",
]

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


def make_client(
    *,
    egress: EgressPolicy | None = None,
    max_connections: int = 20,
    trust_env: bool = True,
) -> httpx.AsyncClient:
    """An HTTP client fit for pushing: no redirects, a bounded pool, and every connection
    checked against `egress` (default: public addresses only; notify/egress.py).

    Args:
        trust_env: honour HTTPS_PROXY/NO_PROXY (egress to the robots often needs a proxy).
    Timeouts are set per attempt by `deliver` (RetryPolicy.timeout).
    """
    limits = httpx.Limits(max_connections=max_connections)
    return httpx.AsyncClient(
        transport=GuardedTransport(egress or EgressPolicy(), limits=limits, trust_env=trust_env),
        follow_redirects=False,
        trust_env=False,  # the guarded transport applies the proxy settings itself
        headers={"user-agent": "kesu-push/1"},
    )


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Called with every delivery-log record produced (retrying ones and the final one): persist it.
OnRecord = Callable[[Delivery], Awaitable[None] | None]

_MAX_ANSWER_BYTES = 64 * 1024  # enough for any robot's verdict; a hostile receiver gets no more


async def attempt(
    client: httpx.AsyncClient, request: OutgoingRequest, fmt: PushFormat, timeout: float
) -> Answer:
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
    except DestinationRefused:
        return Answer(Verdict(False, Failure.DESTINATION_REFUSED))
    except httpx.TimeoutException:
        return Answer(Verdict(False, Failure.TIMEOUT, retryable=True))
    except httpx.TransportError:
        return Answer(Verdict(False, Failure.CONNECTION, retryable=True))
    verdict = judge(fmt, response.status_code, body)
    return Answer(verdict, response.status_code, response.headers.get("retry-after"))


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

    def entry(outcome: DeliveryOutcome, attempt: int, now: datetime, answer: Answer) -> Delivery:
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

    block = PLATFORM_LIMITS[fmt.value].block
    for number in range(1, policy.max_attempts + 1):
        now = clock()
        created_at = created_at or now
        try:
            request = render(subscription, event, links, now=now)
        except Exception as exc:  # a poison record must not stall the consumer: dead-letter it
            log.error("webhook %s to %s not rendered (%s)", delivery_id, where, type(exc).__name__)
            answer = Answer(Verdict(False, Failure.RENDER_FAILED))
        else:
            answer = await attempt(client, request, fmt, policy.timeout)
        verdict = answer.verdict
        step = next_step(answer, number, now, policy, rng, block=block)
        if step.next is Next.DELIVERED:
            log.info("webhook %s delivered to %s, attempt %d", delivery_id, where, number)
            record = entry(DeliveryOutcome.DELIVERED, number, now, answer)
            await record_delivery(on_record, record)
            return record
        failure = verdict.failure or Failure.UNEXPECTED_STATUS
        WEBHOOK_FAILURES.labels(fmt.value, failure.value).inc()
        if step.next is Next.GIVE_UP or step.at is None or number == policy.max_attempts:
            log.error(
                "webhook %s to %s dead-lettered after %d attempt(s): %s",
                delivery_id,
                where,
                number,
                verdict.error,
            )
            record = entry(DeliveryOutcome.DEAD_LETTERED, number, now, answer)
            await record_delivery(on_record, record)
            return record
        wait = max((step.at - now).total_seconds(), 0.0)
        deferred = step.next is Next.DEFER
        log.warning(
            "webhook %s to %s %s, attempt %d: %s; next attempt in %.2f s",
            delivery_id,
            where,
            "refused for rate (waiting out the block)" if deferred else "failed",
            number,
            verdict.error,
            wait,
        )
        outcome = DeliveryOutcome.DEFERRED if deferred else DeliveryOutcome.RETRYING
        record = entry(outcome, number, now, answer).model_copy(update={"next_attempt_at": step.at})
        await record_delivery(on_record, record)
        await sleep(wait)
    raise AssertionError("unreachable: the last attempt always returns")  # pragma: no cover
