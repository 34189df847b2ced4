"""One alert event to every subscription at once: route, then deliver each with its retries.

For one-off sends and tests; the notifier process groups, inhibits, silences and budgets
through notify/pipeline.py instead. Records a `filtered` entry (with its reason) for each
subscription that does not want the event, and delivers to the others concurrently.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from datetime import datetime

import httpx

from notify.delivery import Clock, OnRecord, RetryPolicy, Sleep, deliver, record_delivery
from notify.links import Links
from notify.metrics import WEBHOOK_NOT_ROUTED
from notify.models import Delivery, DeliveryOutcome, Subscription, delivery_id_for
from notify.routing import NotRouted, explain
from streams.records import AlertEvent

__all__ = ["LinksFor", "filtered", "notify"]

#: Builds the links of one message sent at a time, e.g.
#: lambda event, sub, now: make_links(event, sub, base_url=…, callback_secret=…, issued_at=now).
LinksFor = Callable[[AlertEvent, Subscription, datetime], Links]


def filtered(
    subscription: Subscription, event: AlertEvent, reason: NotRouted, now: datetime
) -> Delivery:
    """The delivery-log entry for a subscription that routing left out, with the reason."""
    return Delivery(
        delivery_id=delivery_id_for(subscription.id, event.record_id),
        subscription_id=subscription.id,
        format=subscription.format,
        record_id=event.record_id,
        alert_id=event.alert_id,
        transition=event.transition,
        outcome=DeliveryOutcome.FILTERED,
        attempts=0,
        filtered_by=reason.value,
        created_at=now,
        updated_at=now,
    )


async def notify(
    subscriptions: Iterable[Subscription],
    event: AlertEvent,
    *,
    client: httpx.AsyncClient,
    clock: Clock,
    links_for: LinksFor | None = None,
    sleep: Sleep = asyncio.sleep,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    on_record: OnRecord | None = None,
) -> list[Delivery]:
    """Route `event` and deliver it; one final Delivery per subscription, in the given order.

    Returns only when every delivery is delivered or dead-lettered, so a consumer that commits
    its offset afterwards never loses an event (and at worst re-sends one, under the same
    webhook-id, after a crash).
    """
    decisions = explain(subscriptions, event)
    now = clock()
    results: dict[int, Delivery] = {}
    tasks: dict[int, asyncio.Task[Delivery]] = {}
    async with asyncio.TaskGroup() as group:
        for index, (subscription, reason) in enumerate(decisions):
            if reason is not None:
                WEBHOOK_NOT_ROUTED.labels(reason.value).inc()
                results[index] = filtered(subscription, event, reason, now)
                await record_delivery(on_record, results[index])
                continue
            links = links_for(event, subscription, now) if links_for else None
            tasks[index] = group.create_task(
                deliver(
                    subscription,
                    event,
                    client=client,
                    clock=clock,
                    links=links,
                    sleep=sleep,
                    policy=policy,
                    rng=rng,
                    on_record=on_record,
                )
            )
    results |= {index: task.result() for index, task in tasks.items()}
    return [results[index] for index in range(len(decisions))]
