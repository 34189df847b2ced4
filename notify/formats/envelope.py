"""The generic JSON webhook body: one lifecycle record in a stable, versioned envelope.

Pure. Deterministic: the same record and links give the same bytes, on every retry, so a
receiver may hash bodies as well as dedupe by `webhook-id`. Text is masked again; the customer
id is shown masked, as in chat (a receiver that needs more asks the authenticated API).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from notify.formats.card import title_for
from notify.formats.text import mask, mask_customer
from notify.links import Links
from notify.models import Mention, Subscription, delivery_id_for
from streams.records import (
    ALERT_STATUS_LABELS,
    CATEGORY_LABELS,
    EMOTION_LABELS,
    TIER_LABELS,
    TRANSITION_LABELS,
    AlertEvent,
)

__all__ = ["DIGEST_SCHEMA", "SCHEMA", "digest_envelope", "envelope", "render_json"]

#: Bumped on any incompatible change; receivers should check it.
SCHEMA = "kesu.alert-event/v1"
#: A message about several alerts (a group or a digest): every alert, not only the listed ones.
DIGEST_SCHEMA = "kesu.alert-digest/v1"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def envelope(
    subscription: Subscription,
    event: AlertEvent,
    links: Links,
    *,
    mention: Mention | None = None,
    delivery_id: str | None = None,
) -> dict[str, Any]:
    """The envelope as a dict, keys in a fixed order."""
    mention = mention or subscription.mention
    alert = event.alert
    running = [c for c in alert.clocks if c.stopped_at is None and c.due_at is not None]
    due_at = min((c.due_at for c in running if c.due_at is not None), default=None)
    comp = alert.compensation
    return {
        "schema": SCHEMA,
        "type": f"alert.{event.transition.value}",
        "delivery_id": delivery_id or delivery_id_for(subscription.id, event.record_id),
        "record_id": event.record_id,
        "alert_id": event.alert_id,
        "version": event.version,
        "transition": event.transition.value,
        "transition_label": TRANSITION_LABELS[event.transition],
        "summary": title_for(event, escape=mask),
        "at": _iso(event.at),
        "actor": mask(event.actor) or None,
        "detail": mask(event.detail),
        "alert": {
            "tier": alert.tier,
            "tier_label": TIER_LABELS[alert.tier],
            "status": alert.status.value,
            "status_label": ALERT_STATUS_LABELS[alert.status],
            "rule_id": alert.rule_id,
            "rules_version": alert.rules_version,
            "category": alert.category.value if alert.category else None,
            "category_label": CATEGORY_LABELS[alert.category] if alert.category else None,
            "emotion": alert.emotion.value if alert.emotion else None,
            "emotion_label": EMOTION_LABELS[alert.emotion] if alert.emotion else None,
            "intensity": alert.intensity,
            "threats": [mask(t) for t in alert.threats],
            "keywords": [mask(k) for k in alert.keywords],
            "cues": [mask(c.term) for c in alert.why],
            "excerpt": mask(alert.excerpt),
            "customer": mask_customer(alert.customer_id),
            "region": mask(alert.region) or None,
            "carrier": mask(alert.carrier) or None,
            "product": mask(alert.product) or None,
            "sku": mask(alert.sku) or None,
            "batch": mask(alert.batch) or None,
            "contacts": alert.contacts,
            "opened_at": _iso(alert.opened_at),
            "updated_at": _iso(alert.updated_at),
            "due_at": _iso(due_at),
            "escalation_level": alert.escalation_level,
            "escalated_to": mask(alert.escalated_to) or None,
            "assignee": mask(alert.assignee) or None,
            "compensation": {
                "rung": comp.rung,
                "label": mask(comp.label),
                "actions": [mask(a) for a in comp.actions],
                "amount_yuan": comp.amount_yuan,
                "needs_approval": comp.needs_approval,
            }
            if comp
            else None,
        },
        "links": {
            "alert": links.alert,
            "actions": {kind.value: url for kind, url in links.actions.items()},
        },
        "mention": _mention(mention),
    }


def _mention(mention: Mention) -> dict[str, Any]:
    return {
        "mobiles": list(mention.mobiles),
        "user_ids": list(mention.user_ids),
        "everyone": mention.everyone,
    }


def render_json(
    subscription: Subscription,
    event: AlertEvent,
    links: Links,
    *,
    mention: Mention | None = None,
    delivery_id: str | None = None,
) -> bytes:
    """The envelope as compact UTF-8 JSON (Chinese kept as characters, not \\u escapes)."""
    body = envelope(subscription, event, links, mention=mention, delivery_id=delivery_id)
    return _compact(body)


def _compact(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def digest_envelope(
    subscription: Subscription,
    items: Sequence[tuple[AlertEvent, tuple[str, ...], bool]],
    *,
    delivery_id: str,
    title: str,
    groups: Sequence[str],
    alert_link: Callable[[str], str | None],
    more_link: str | None,
    mention: Mention,
) -> bytes:
    """Every alert of a group or digest message ((latest record, record ids, reminder) each),
    in priority order, each as the alert part of `envelope`."""
    body = {
        "schema": DIGEST_SCHEMA,
        "type": "alert.digest",
        "delivery_id": delivery_id,
        "summary": mask(title),
        "groups": list(groups),
        "counts": {str(t): sum(1 for e, _, _ in items if e.alert.tier == t) for t in (1, 2, 3)},
        "items": [
            {
                "record_ids": list(record_ids),
                "reminder": reminder,
                **{
                    k: v
                    for k, v in envelope(
                        subscription,
                        event,
                        Links(alert=alert_link(event.alert_id)),
                        mention=mention,
                        delivery_id=delivery_id,
                    ).items()
                    if k not in ("schema", "delivery_id", "mention")
                },
            }
            for event, record_ids, reminder in items
        ],
        "links": {"digest": more_link},
        "mention": _mention(mention),
    }
    return _compact(body)
