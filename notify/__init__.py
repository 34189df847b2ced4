"""The notifier: alert events to on-call people and systems, by signed webhook and chat robot.

The notification path as small pure stages with time as an argument (shared/style.md §3,
after Alertmanager's), composed by `pipeline.Pipeline`: `routing` (filters) → `inhibit`
(rules.yaml inhibit_rules, incident members) → `silencing` (maintenance windows) → `grouping`
(group_by, group_wait, group_interval, repeat_interval; `policy`) → `budget` and `planner`
(the platforms' documented rate limits; fold into digests) → `retry` (transient failures
retried, rate limits deferred to the budget). Around them: `formats` and `signing` (the exact
request each platform expects), `delivery` (the one module that sends), `egress` (public
destinations only), `oncall` (who is on duty), `links` and `callbacks` (card buttons), `books`
(subscriptions and the delivery log), and `notifier`, the thin process (`kesu notifier`).
"""

from __future__ import annotations

from notify.callbacks import action_from_token, action_id_for
from notify.delivery import RetryPolicy, attempt, deliver, make_client
from notify.dispatch import LinksFor, filtered, notify
from notify.egress import EgressPolicy
from notify.formats import OutgoingRequest, render
from notify.inhibit import Inhibitor, inhibited_by
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
from notify.oncall import on_duty
from notify.outcomes import judge
from notify.pipeline import Pipeline
from notify.policy import PLATFORM_LIMITS, Policy
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
from notify.silencing import silenced_by

__all__ = [
    "CARD_ACTIONS",
    "DEFAULT_TOKEN_TTL",
    "DEFAULT_TRANSITIONS",
    "PLATFORM_LIMITS",
    "ActionClaims",
    "Delivery",
    "DeliveryOutcome",
    "EgressPolicy",
    "Failure",
    "Filters",
    "Inhibitor",
    "InvalidSignature",
    "InvalidToken",
    "Links",
    "LinksFor",
    "Mention",
    "NotRouted",
    "OutgoingRequest",
    "Pipeline",
    "Policy",
    "PushFormat",
    "RetryPolicy",
    "SignatureFailure",
    "Subscription",
    "SubscriptionPublic",
    "TokenFailure",
    "action_from_token",
    "action_id_for",
    "attempt",
    "deliver",
    "delivery_id_for",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "explain",
    "feishu_sign",
    "filtered",
    "inhibited_by",
    "judge",
    "make_action_token",
    "make_client",
    "make_links",
    "matches",
    "notify",
    "on_duty",
    "render",
    "route",
    "sign_webhook",
    "silenced_by",
    "unverified_alert_id",
    "verify_action_token",
    "verify_webhook",
    "webhook_headers",
    "why_not",
]
