"""Webhook subscriptions and the delivery log: what people configure and what we record.

A subscription's URL and secret are credentials: a WeCom or Feishu robot URL carries its key in
the query or path, so both are `SecretStr` and only `masked_url()` is ever shown or logged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from notify.policy import Policy
from streams.records import Category, Identifier, TierNumber, Transition

__all__ = [
    "DEFAULT_TRANSITIONS",
    "Delivery",
    "DeliveryOutcome",
    "Failure",
    "Filters",
    "Mention",
    "PushFormat",
    "Subscription",
    "SubscriptionPublic",
    "delivery_id_for",
    "message_id_for",
]


class _Frozen(BaseModel):
    """Immutable, unknown fields rejected; lax types, since subscriptions come from JSON/YAML."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PushFormat(StrEnum):
    """How a subscription wants its messages: generic signed JSON or one of the chat robots."""

    JSON = "json"
    WECOM = "wecom"  # 企业微信群机器人
    DINGTALK = "dingtalk"  # 钉钉自定义机器人
    FEISHU = "feishu"  # 飞书 / Lark 自定义机器人


#: What on-call people must hear about by default: a new alert, a raised tier, and the SLA
#: clock's warnings, breaches, escalations and due follow-ups. Acks, comments and contacts are
#: dashboard news, not pages.
DEFAULT_TRANSITIONS: tuple[Transition, ...] = (
    Transition.OPENED,
    Transition.TIER_RAISED,
    Transition.WARNED,
    Transition.BREACHED,
    Transition.ESCALATED,
    Transition.FOLLOW_UP_DUE,
)

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # MIIT plan, as complaints/masking.py
RegionName = Annotated[str, Field(min_length=1, max_length=64)]
UserId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@:-]+$")]


class Filters(_Frozen):
    """Which alert events a subscription receives; an empty list means "any"."""

    tiers: tuple[TierNumber, ...] = ()
    categories: tuple[Category, ...] = ()
    regions: tuple[RegionName, ...] = Field(
        default=(),
        description="Region names; '华南' also matches its sub-regions such as '华南-广州'.",
    )
    transitions: tuple[Transition, ...] = Field(
        default=DEFAULT_TRANSITIONS,
        description="Lifecycle transitions to send; [] sends every transition.",
    )


class Mention(_Frozen):
    """On-call people to @ in the message. What each robot can do with them:

    - DingTalk: `atMobiles` (phone numbers) and `atUserIds`; the text must contain "@<phone>"
      or "@<userid>" for the mention to light up, so the formatter writes it there too.
    - WeCom group robot: mentions only by userid inside markdown (`<@userid>`);
      `mentioned_mobile_list` exists only for `text` messages, which we do not send, so mobiles
      are ignored for WeCom.
    - Feishu custom bot: `<at id=...></at>` with an open_id/user_id in the card's markdown;
      it cannot @ by phone number, so mobiles are ignored for Feishu.
    - JSON: passed through as `mention` for the receiver to use.

    These phone numbers are staff numbers from configuration, the one deliberate exception to
    "no phone number in a body" (DingTalk cannot @ by phone without it); customer data is
    always masked.
    """

    mobiles: tuple[str, ...] = ()
    user_ids: tuple[UserId, ...] = ()
    everyone: bool = Field(default=False, description="@所有人 (DingTalk isAtAll, Feishu all).")

    @field_validator("mobiles")
    @classmethod
    def _mobiles_valid(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for mobile in value:
            if not _MOBILE.match(mobile):
                raise ValueError("mobiles must be 11-digit mainland mobile numbers")
        return value

    @property
    def empty(self) -> bool:
        return not (self.mobiles or self.user_ids or self.everyone)


def _mask_url(url: str) -> str:
    """Scheme and host only: robot keys live in the query (WeCom, DingTalk) or path (Feishu)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/***"


class Subscription(_Frozen):
    """One receiver of alert events: where, in which format, for which alerts, signed how.

    `secret` means, per format: json — the HMAC key of the Standard Webhooks signature (a
    `whsec_<base64>` value is base64-decoded as the spec says, anything else is used as UTF-8
    bytes); dingtalk — the robot's 加签 secret (`SEC…`); feishu — the robot's 签名校验 secret;
    wecom — must be empty (the robot has no signing; its key is in the URL).
    """

    id: Identifier
    name: str = Field(min_length=1, max_length=64)
    format: PushFormat
    url: SecretStr = Field(description="http(s) URL; a credential for robots, never logged.")
    secret: SecretStr | None = None
    filters: Filters = Filters()
    mention: Mention = Mention()
    enabled: bool = True
    policy: Policy = Field(
        default=Policy(),
        description="Grouping, timers and rate budget (defaults: group by tier and kind, "
        "30 s / 5 min / 4 h, tier 1 at once, the platform's documented limit).",
    )

    @field_validator("url")
    @classmethod
    def _url_http(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        try:
            parts = urlsplit(raw)
        except ValueError:
            raise ValueError("url is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        if any(c.isspace() for c in raw) or len(raw) > 2048:
            raise ValueError("url must be at most 2048 characters without spaces")
        return value

    @model_validator(mode="after")
    def _secret_fits_format(self) -> Subscription:
        secret = self.secret.get_secret_value() if self.secret else ""
        if self.format is PushFormat.JSON and not secret:
            raise ValueError("a json subscription needs a secret: receivers must verify")
        if self.format is PushFormat.WECOM and secret:
            raise ValueError("WeCom group robots have no signing: leave secret empty")
        if self.format is PushFormat.DINGTALK and secret and not secret.startswith("SEC"):
            raise ValueError("a DingTalk 加签 secret starts with 'SEC'")
        return self

    def masked_url(self) -> str:
        """The URL as logs and the API may show it: scheme and host only."""
        return _mask_url(self.url.get_secret_value())

    def to_config(self) -> dict[str, Any]:
        """Everything, secrets included, as JSON-ready values: for the subscription store only.

        `model_dump_json()` writes "**********" for the URL and secret, which is right for
        logs and wrong for storage; `Subscription.model_validate(sub.to_config()) == sub`.
        """
        data = self.model_dump(mode="json")
        data["url"] = self.url.get_secret_value()
        data["secret"] = self.secret.get_secret_value() if self.secret else None
        return data

    def public(self) -> SubscriptionPublic:
        """What the API returns: no secret, URL masked."""
        return SubscriptionPublic(
            id=self.id,
            name=self.name,
            format=self.format,
            url=self.masked_url(),
            signed=self.secret is not None,
            filters=self.filters,
            mention=self.mention,
            enabled=self.enabled,
            policy=self.policy,
        )


class SubscriptionPublic(_Frozen):
    """A subscription as the API shows it: the URL masked, the secret replaced by a flag."""

    id: str
    name: str
    format: PushFormat
    url: str
    signed: bool
    filters: Filters
    mention: Mention
    enabled: bool
    policy: Policy


class DeliveryOutcome(StrEnum):
    """Where a delivery stands; the `outcome` label of kesu_push_deliveries_total."""

    DELIVERED = "delivered"
    RETRYING = "retrying"  # an attempt failed and another is scheduled
    DEAD_LETTERED = (
        "dead_lettered"  # given up: last attempt failed, or a failure not worth retrying
    )
    FILTERED = "filtered"  # not pushed: routing, inhibition or a silence; `filtered_by` says why
    DEFERRED = "deferred"  # refused for rate: its alerts wait for the budget, in a later message


class Failure(StrEnum):
    """Why an attempt failed: the reason code of a retry or a dead letter."""

    TIMEOUT = "TIMEOUT"
    CONNECTION = "CONNECTION"
    SERVER_ERROR = "SERVER_ERROR"  # 5xx
    RATE_LIMITED = "RATE_LIMITED"  # 429
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"  # 408
    CLIENT_ERROR = "CLIENT_ERROR"  # other 4xx: our request is wrong, retrying will not help
    UNEXPECTED_STATUS = "UNEXPECTED_STATUS"  # 1xx/3xx: redirects are not followed
    ROBOT_RATE_LIMITED = "ROBOT_RATE_LIMITED"  # HTTP 200 with a robot's frequency-limit code
    ROBOT_BUSY = "ROBOT_BUSY"  # HTTP 200 with a robot's "system busy, try later" (-1)
    ROBOT_REJECTED = "ROBOT_REJECTED"  # HTTP 200 with any other robot error code
    RENDER_FAILED = "RENDER_FAILED"  # a bug or an impossible record: nothing was sent
    DESTINATION_REFUSED = "DESTINATION_REFUSED"  # resolves to a private/loopback/metadata address


def delivery_id_for(subscription_id: str, record_id: str) -> str:
    """The delivery's id, also the `webhook-id` header: one per (subscription, lifecycle record).

    Derived, never random, so every retry and every replay of the same record carries the same
    id and a receiver that remembers ids sees each (alert_id, transition) once.
    """
    digest = hashlib.sha256(f"{subscription_id}\n{record_id}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def message_id_for(subscription_id: str, record_ids: Sequence[str], extra: str = "") -> str:
    """The id of one message carrying `record_ids` (any order): for one record exactly
    `delivery_id_for`, so a single-alert message keeps the id receivers already dedupe on."""
    if len(record_ids) == 1 and not extra:
        return delivery_id_for(subscription_id, record_ids[0])
    text = "\n".join([subscription_id, *sorted(record_ids), extra])
    return f"msg_{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class Delivery(_Frozen):
    """One entry of the delivery log: the state of sending one lifecycle record to one subscriber.

    Never holds a URL, a secret, a request or a response body.
    """

    delivery_id: str
    subscription_id: str
    format: PushFormat
    record_id: str
    alert_id: str
    transition: Transition
    outcome: DeliveryOutcome
    attempts: int = Field(ge=0, description="HTTP attempts made so far (0 when filtered).")
    last_status: int | None = Field(default=None, description="HTTP status of the last attempt.")
    last_error: str | None = Field(
        default=None, max_length=200, description="Short reason, no URL, secret or body."
    )
    failure: Failure | None = None
    filtered_by: str | None = Field(default=None, description="Routing reason when filtered.")
    robot_code: int | None = Field(default=None, description="errcode/code a robot answered.")
    created_at: datetime = Field(description="When the first attempt (or the filtering) happened.")
    updated_at: datetime
    next_attempt_at: datetime | None = Field(
        default=None, description="Set while retrying (or deferred: when the budget reopens)."
    )
    record_ids: tuple[str, ...] = Field(
        default=(),
        description="Every lifecycle record the message covered (empty: just record_id).",
    )
    alert_ids: tuple[str, ...] = Field(
        default=(), description="Every alert the message carried, listed or behind its link."
    )
    groups: tuple[str, ...] = Field(
        default=(),
        description="The groups it carried (group_by values, e.g. tier=1,kind=complaint).",
    )
    folded: int = Field(
        default=0,
        ge=0,
        description="Alerts of other groups folded in because the budget was short.",
    )
    listed: int = Field(default=0, ge=0, description="Alerts listed in full in the message body.")
    suppressed_by: str | None = Field(
        default=None, description="Filtered as INHIBITED or SILENCED: the alert or silence id."
    )

    def covered(self) -> tuple[str, ...]:
        """The lifecycle record ids this entry speaks for."""
        return self.record_ids or (self.record_id,)
