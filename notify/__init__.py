"""The notifier: alert events to on-call people and systems, by signed webhook and chat robot.

Stages 8-9 of the alert pipeline (shared/style.md §3): route (`routing`), then sign and
format (`signing`, `formats`, `links`), send with retries and dead-letter (`delivery`), with
`dispatch.notify` composing them for a consumer of kesu.alerts.lifecycle; `callbacks` turns a
clicked card link back into an AlertAction.
"""

from __future__ import annotations

from notify.callbacks import action_from_token, action_id_for
from notify.delivery import RetryPolicy, deliver, make_client
from notify.dispatch import LinksFor, filtered, notify
from notify.formats import OutgoingRequest, render
from notify.links import DEFAULT_TOKEN_TTL, Links, make_links
from notify.models import (
    DEFAULT_TRANSITIONS,
    Delivery,
    DeliveryOutcome,
    Failure,
    Filters,
    Mention,
    PushFormat,
    Subscription,
    SubscriptionPublic,
    delivery_id_for,
)
from notify.outcomes import judge
from notify.routing import NotRouted, explain, matches, route, why_not
from notify.signing import (
    CARD_ACTIONS,
    ActionClaims,
    InvalidSignature,
    InvalidToken,
    SignatureFailure,
    TokenFailure,
    dingtalk_sign,
    dingtalk_signed_url,
    feishu_sign,
    make_action_token,
    sign_webhook,
    unverified_alert_id,
    verify_action_token,
    verify_webhook,
    webhook_headers,
)

__all__ = [
    "CARD_ACTIONS",
    "DEFAULT_TOKEN_TTL",
    "DEFAULT_TRANSITIONS",
    "ActionClaims",
    "Delivery",
    "DeliveryOutcome",
    "Failure",
    "Filters",
    "InvalidSignature",
    "InvalidToken",
    "Links",
    "LinksFor",
    "Mention",
    "NotRouted",
    "OutgoingRequest",
    "PushFormat",
    "RetryPolicy",
    "SignatureFailure",
    "Subscription",
    "SubscriptionPublic",
    "TokenFailure",
    "action_from_token",
    "action_id_for",
    "deliver",
    "delivery_id_for",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "explain",
    "feishu_sign",
    "filtered",
    "judge",
    "make_action_token",
    "make_client",
    "make_links",
    "matches",
    "notify",
    "render",
    "route",
    "sign_webhook",
    "unverified_alert_id",
    "verify_action_token",
    "verify_webhook",
    "webhook_headers",
    "why_not",
]
