"""Stage 9a, sign and format: one alert event as the exact HTTP request a subscriber expects.

Pure. `now` is the attempt's time: it feeds the signatures' timestamps and the card's
countdown, so each retry is rendered (and signed) afresh while its delivery id stays the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notify.formats.card import Card, build_card
from notify.formats.digest import Digest, build_digest
from notify.formats.digest_layouts import (
    dingtalk_digest_body,
    feishu_digest_body,
    wecom_digest_body,
)
from notify.formats.dingtalk import dingtalk_body
from notify.formats.envelope import DIGEST_SCHEMA, SCHEMA, digest_envelope, envelope, render_json
from notify.formats.feishu import feishu_message
from notify.formats.wecom import MAX_MARKDOWN_BYTES, wecom_body
from notify.links import Links
from notify.models import Mention, PushFormat, Subscription, delivery_id_for
from notify.signing import dingtalk_signed_url, feishu_sign, webhook_headers
from streams.records import AlertEvent

__all__ = [
    "DIGEST_SCHEMA",
    "MAX_MARKDOWN_BYTES",
    "SCHEMA",
    "Card",
    "Digest",
    "DigestItem",
    "OutgoingRequest",
    "build_card",
    "build_digest",
    "envelope",
    "render",
    "render_digest",
]

USER_AGENT = "kesu-push/1"


@dataclass(frozen=True)
class OutgoingRequest:
    """One POST to make. `url` may hold a robot's key and `body` customer context: not in repr."""

    url: str = field(repr=False)
    headers: dict[str, str]
    body: bytes = field(repr=False)


def _headers() -> dict[str, str]:
    return {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}


def _signed(subscription: Subscription, body: bytes, msg_id: str, now: datetime) -> OutgoingRequest:
    """JSON, WeCom or DingTalk: Standard Webhooks headers, or DingTalk's signed URL."""
    url = subscription.url.get_secret_value()
    secret = subscription.secret.get_secret_value() if subscription.secret else None
    headers = _headers()
    if subscription.format is PushFormat.JSON and secret:  # required by Subscription's validation
        headers |= webhook_headers(msg_id, int(now.timestamp()), body, secret)
    if subscription.format is PushFormat.DINGTALK and secret:
        url = dingtalk_signed_url(url, secret, int(now.timestamp() * 1000))
    return OutgoingRequest(url, headers, body)


def _signed_feishu(
    subscription: Subscription, message: dict[str, Any], now: datetime
) -> OutgoingRequest:
    """Feishu: timestamp and sign go first in the body (签名校验)."""
    secret = subscription.secret.get_secret_value() if subscription.secret else None
    if secret:
        timestamp = int(now.timestamp())
        message = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp)} | message
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    return OutgoingRequest(subscription.url.get_secret_value(), _headers(), body)


def render(
    subscription: Subscription,
    event: AlertEvent,
    links: Links,
    *,
    now: datetime,
    mention: Mention | None = None,
    delivery_id: str | None = None,
) -> OutgoingRequest:
    """The signed request for one alert event in `subscription`'s format, as of the attempt
    time `now`; `mention` replaces the subscription's own (e.g. with the person on duty)."""
    mention = mention or subscription.mention
    msg_id = delivery_id or delivery_id_for(subscription.id, event.record_id)
    fmt = subscription.format
    if fmt is PushFormat.JSON:
        body = render_json(subscription, event, links, mention=mention, delivery_id=msg_id)
        return _signed(subscription, body, msg_id, now)
    card = build_card(event, now)
    if fmt is PushFormat.WECOM:
        return _signed(subscription, wecom_body(card, links, mention), msg_id, now)
    if fmt is PushFormat.DINGTALK:
        return _signed(subscription, dingtalk_body(card, links, mention), msg_id, now)
    return _signed_feishu(subscription, feishu_message(card, links, mention), now)


@dataclass(frozen=True)
class DigestItem:
    """One alert in a message about several: its latest record, the records it stands for,
    and whether it is announced again (unacknowledged past repeat_interval)."""

    event: AlertEvent
    record_ids: tuple[str, ...]
    reminder: bool = False


def render_digest(
    subscription: Subscription,
    items: Sequence[DigestItem],
    *,
    now: datetime,
    delivery_id: str,
    groups: Sequence[str],
    alert_link: Callable[[str], str | None],
    more_link: str | None,
    mention: Mention | None = None,
) -> OutgoingRequest:
    """The signed request for a message about several alerts (in priority order)."""
    mention = mention or subscription.mention
    digest = build_digest(
        [(i.event, i.reminder) for i in items],
        groups=groups,
        max_items=subscription.policy.max_items,
        alert_link=alert_link,
        more_link=more_link,
    )
    fmt = subscription.format
    if fmt is PushFormat.FEISHU:
        return _signed_feishu(subscription, feishu_digest_body(digest, mention), now)
    if fmt is PushFormat.JSON:
        body = digest_envelope(
            subscription,
            [(i.event, i.record_ids, i.reminder) for i in items],
            delivery_id=delivery_id,
            title=digest.title,
            groups=groups,
            alert_link=alert_link,
            more_link=more_link,
            mention=mention,
        )
    elif fmt is PushFormat.WECOM:
        body = wecom_digest_body(digest, mention)
    else:
        body = dingtalk_digest_body(digest, mention)
    return _signed(subscription, body, delivery_id, now)
