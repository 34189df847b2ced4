"""Stage 8, route: which subscriptions an alert event goes to, and why the others do not.

Pure. No I/O. Every "no" has a `NotRouted` reason so that drops can be counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from notify.models import Subscription
from streams.records import AlertEvent

__all__ = ["NotRouted", "explain", "matches", "route", "why_not"]


class NotRouted(StrEnum):
    """Why a subscription does not receive an event (checked in this order)."""

    DISABLED = "DISABLED"
    TRANSITION = "TRANSITION"
    TIER = "TIER"
    CATEGORY = "CATEGORY"
    REGION = "REGION"


def _region_matches(wanted: Iterable[str], region: str | None) -> bool:
    """'华南' matches '华南' and its sub-regions '华南-广州'; an alert without region matches none."""
    if region is None:
        return False
    return any(region == w or region.startswith(f"{w}-") for w in wanted)


def why_not(subscription: Subscription, event: AlertEvent) -> NotRouted | None:
    """The first filter that rejects `event` for `subscription`, or None when it should be sent."""
    filters, alert = subscription.filters, event.alert
    if not subscription.enabled:
        return NotRouted.DISABLED
    if filters.transitions and event.transition not in filters.transitions:
        return NotRouted.TRANSITION
    if filters.tiers and alert.tier not in filters.tiers:
        return NotRouted.TIER
    if filters.categories and alert.category not in filters.categories:
        return NotRouted.CATEGORY
    if filters.regions and not _region_matches(filters.regions, alert.region):
        return NotRouted.REGION
    return None


def matches(subscription: Subscription, event: AlertEvent) -> bool:
    """Whether `subscription` should receive `event`."""
    return why_not(subscription, event) is None


def explain(
    subscriptions: Iterable[Subscription], event: AlertEvent
) -> list[tuple[Subscription, NotRouted | None]]:
    """Every subscription with its reason for not receiving `event` (None: it receives it)."""
    return [(s, why_not(s, event)) for s in subscriptions]


def route(subscriptions: Iterable[Subscription], event: AlertEvent) -> list[Subscription]:
    """The subscriptions that receive `event`, in the given order."""
    return [s for s in subscriptions if why_not(s, event) is None]
