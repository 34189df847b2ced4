"""What the push topics say now: current subscriptions and the delivery log, rebuilt from records.

Pure. No Kafka: `kesu/follower.py` feeds these with (key, value, timestamp) records, so
every API replica and the notifier hold the same books after reading the same topics.
Subscription records are opened with the shared Sealer (notify/sealing.py).
"""

from __future__ import annotations

import logging
from collections import deque

from pydantic import ValidationError

from notify.models import Delivery, DeliveryOutcome, Subscription
from notify.sealing import Sealer, UnreadableSubscription

__all__ = ["FINAL_OUTCOMES", "DeliveryBook", "SubscriptionBook"]

log = logging.getLogger(__name__)

#: Outcomes after which a delivery is never attempted again (retrying ones are not final).
FINAL_OUTCOMES = frozenset(
    {DeliveryOutcome.DELIVERED, DeliveryOutcome.DEAD_LETTERED, DeliveryOutcome.FILTERED}
)


class SubscriptionBook:
    """Subscriptions by id, from the compacted subscriptions topic (a tombstone deletes one)."""

    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer
        self._by_id: dict[str, Subscription] = {}
        self._since: dict[str, int] = {}

    def apply(self, key: bytes | None, value: bytes | None, timestamp_ms: int) -> None:
        """Apply one record of the topic; unreadable ones are skipped (and never logged whole)."""
        if not key:
            return
        subscription_id = key.decode("utf-8", "replace")
        if value is None:
            self._by_id.pop(subscription_id, None)
            self._since.pop(subscription_id, None)
            return
        try:
            subscription = self._sealer.read(subscription_id, value)
        except UnreadableSubscription as exc:
            log.warning("unreadable subscription record %.64s skipped: %s", subscription_id, exc)
            return
        self._by_id[subscription_id] = subscription
        self._since.setdefault(subscription_id, timestamp_ms)

    def get(self, subscription_id: str) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def all(self) -> list[Subscription]:
        """Every subscription, by id."""
        return [self._by_id[k] for k in sorted(self._by_id)]

    def since_ms(self, subscription_id: str) -> int:
        """When the subscription was first seen (Kafka timestamp, ms): it gets events from then on."""
        return self._since.get(subscription_id, 0)


class DeliveryBook:
    """The delivery log: the latest entries per subscription, and which (subscription,
    lifecycle record) pairs are done (delivered, dead-lettered or filtered: never again)."""

    def __init__(self, *, keep_per_subscription: int = 1000) -> None:
        self.done: set[str] = set()
        self.covered: set[tuple[str, str]] = set()
        self._recent: dict[str, deque[Delivery]] = {}
        self._keep = keep_per_subscription

    def apply(self, value: bytes | None) -> Delivery | None:
        """Apply one record of the deliveries topic; returns it parsed (None when unreadable)."""
        try:
            entry = Delivery.model_validate_json(value or b"")
        except ValidationError:
            log.warning("unreadable delivery-log record skipped")
            return None
        self.note(entry)
        return entry

    def note(self, entry: Delivery) -> None:
        """Record an entry (the notifier calls this for its own, once Kafka has them)."""
        if entry.outcome in FINAL_OUTCOMES:
            self.done.add(entry.delivery_id)
            self.covered.update((entry.subscription_id, r) for r in entry.covered())
        if self._keep:
            recent = self._recent.setdefault(entry.subscription_id, deque(maxlen=self._keep))
            recent.append(entry)

    def is_covered(self, subscription_id: str, record_id: str) -> bool:
        """Whether the log already settled this record for this subscription."""
        return (subscription_id, record_id) in self.covered

    def find(self, delivery_id: str) -> Delivery | None:
        """The latest kept entry of one message (e.g. for the page behind a digest's link)."""
        for recent in self._recent.values():
            for entry in reversed(recent):
                if entry.delivery_id == delivery_id:
                    return entry
        return None

    def entries(self, subscription_id: str) -> list[Delivery]:
        """The kept entries of one subscription, newest first."""
        return list(reversed(self._recent.get(subscription_id, ())))
