"""The links a message carries: the alert's dashboard page and signed action callbacks.

Pure. Tokens expire a fixed time after the message is first sent (`issued_at`, not the event:
a card for an event days old must still arrive with buttons that work); the dispatcher renders
the links once per delivery, so every retry of it carries the same links and a JSON body is
byte-identical across retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from notify.models import Subscription
from notify.signing import make_action_token
from streams.records import ActionKind, AlertEvent, AlertStatus

__all__ = ["ACTION_LABELS", "DEFAULT_TOKEN_TTL", "Links", "make_links"]

#: Long enough for a weekend on-call rotation to still act from the card; a stale link is
#: harmless: acting on an alert that moved on is a no-op or a clear error in the API.
DEFAULT_TOKEN_TTL = timedelta(hours=72)

#: Button texts, in the order cards show them.
ACTION_LABELS: dict[ActionKind, str] = {ActionKind.ACKNOWLEDGE: "确认", ActionKind.RESOLVE: "解决"}

#: Which card actions still make sense in each status (presentation: the API decides).
_OFFERED: dict[AlertStatus, tuple[ActionKind, ...]] = {
    AlertStatus.OPEN: (ActionKind.ACKNOWLEDGE, ActionKind.RESOLVE),
    AlertStatus.ACKNOWLEDGED: (ActionKind.RESOLVE,),
    AlertStatus.WAITING: (ActionKind.RESOLVE,),
}


@dataclass(frozen=True)
class Links:
    """URLs to put in one message; empty when the service has no public address configured."""

    alert: str | None = None
    actions: dict[ActionKind, str] = field(default_factory=dict)


def make_links(
    event: AlertEvent,
    subscription: Subscription,
    *,
    base_url: str,
    callback_secret: bytes,
    issued_at: datetime,
    ttl: timedelta = DEFAULT_TOKEN_TTL,
    alert_path: str = "/#alert={alert_id}",
) -> Links:
    """Dashboard link and one signed `…/v1/callbacks/actions/{token}` URL per offered action.

    Args:
        issued_at: when the message is first sent; the buttons work for `ttl` after it.
        base_url: the service's public address as on-call phones reach it, e.g.
            "https://kesu.example.com".
        alert_path: where the dashboard shows one alert (the page reads `#alert=<id>`);
            `{alert_id}` is filled in.
    """
    base = base_url.rstrip("/")
    alert = event.alert
    expires_at = issued_at + ttl
    actions = {
        kind: base
        + "/v1/callbacks/actions/"
        + make_action_token(
            alert_id=alert.alert_id,
            case_key=alert.case_key,
            kind=kind,
            subject=f"card:{subscription.id}",
            expires_at=expires_at,
            secret=callback_secret,
        )
        for kind in _OFFERED.get(alert.status, ())
    }
    return Links(
        alert=base + alert_path.format(alert_id=quote(alert.alert_id, safe="")), actions=actions
    )
