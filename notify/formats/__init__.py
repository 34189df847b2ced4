"""Stage 9a, sign and format: one alert event as the exact HTTP request a subscriber expects.

Pure. `now` is the attempt's time: it feeds the signatures' timestamps and the card's
countdown, so each retry is rendered (and signed) afresh while its delivery id stays the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from notify.formats.card import Card, build_card
from notify.formats.dingtalk import dingtalk_body
from notify.formats.envelope import SCHEMA, envelope, render_json
from notify.formats.feishu import feishu_message
from notify.formats.wecom import MAX_MARKDOWN_BYTES, wecom_body
from notify.links import Links
from notify.models import PushFormat, Subscription, delivery_id_for
from notify.signing import dingtalk_signed_url, feishu_sign, webhook_headers
from streams.records import AlertEvent

__all__ = [
    "MAX_MARKDOWN_BYTES",
    "SCHEMA",
    "Card",
    "OutgoingRequest",
    "build_card",
    "envelope",
    "render",
]

USER_AGENT = "kesu-push/1"


@dataclass(frozen=True)
class OutgoingRequest:
    """One POST to make. `url` may hold a robot's key and `body` customer context: not in repr."""

    url: str = field(repr=False)
    headers: dict[str, str]
    body: bytes = field(repr=False)


def render(
    subscription: Subscription, event: AlertEvent, links: Links, *, now: datetime
) -> OutgoingRequest:
    """The signed request for `subscription`'s format, as of the attempt time `now`."""
    url = subscription.url.get_secret_value()
    secret = subscription.secret.get_secret_value() if subscription.secret else None
    headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT}
    fmt = subscription.format
    if fmt is PushFormat.JSON:
        body = render_json(subscription, event, links)
        msg_id = delivery_id_for(subscription.id, event.record_id)
        if secret:  # required by Subscription's validation; checked again for the type checker
            headers |= webhook_headers(msg_id, int(now.timestamp()), body, secret)
        return OutgoingRequest(url, headers, body)

    card = build_card(event, now)
    if fmt is PushFormat.WECOM:
        return OutgoingRequest(url, headers, wecom_body(card, links, subscription.mention))
    if fmt is PushFormat.DINGTALK:
        body = dingtalk_body(card, links, subscription.mention)
        if secret:
            url = dingtalk_signed_url(url, secret, int(now.timestamp() * 1000))
        return OutgoingRequest(url, headers, body)
    message = feishu_message(card, links, subscription.mention)
    if secret:
        timestamp = int(now.timestamp())
        message = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp)} | message
    return OutgoingRequest(url, headers, json.dumps(message, ensure_ascii=False).encode("utf-8"))
