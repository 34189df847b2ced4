"""Signatures for everything push sends or receives: webhooks, robot URLs, card action tokens.

Pure. No I/O, no clock reads: every timestamp is an argument. Comparisons of secrets and MACs
use `hmac.compare_digest` (constant time).

Schemes, exactly as implemented, and where they come from:

- Generic JSON webhooks follow Standard Webhooks (https://www.standardwebhooks.com/, spec
  "Signature scheme"): headers `webhook-id`, `webhook-timestamp` (integer Unix seconds) and
  `webhook-signature: v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))>`; the header
  may hold several space-separated signatures (key rotation), one match suffices. A secret
  `whsec_<base64>` is base64-decoded to the key bytes (the spec's form); any other secret is
  used as its UTF-8 bytes. Receivers reject timestamps more than 5 minutes off their clock.
- DingTalk custom robot 加签 (open.dingtalk.com, 自定义机器人安全设置): string_to_sign =
  f"{timestamp}\\n{secret}" with timestamp in milliseconds; sign =
  urlEncode(base64(HmacSHA256(key=secret, msg=string_to_sign))); both appended to the webhook
  URL as `&timestamp=…&sign=…`. DingTalk refuses timestamps more than 1 hour off.
- Feishu/Lark custom bot 签名校验 (open.feishu.cn, 自定义机器人使用指南): the *key* is
  f"{timestamp}\\n{secret}" with timestamp in seconds and the *message is empty*; sign =
  base64(HmacSHA256(key, b"")), sent as "timestamp" (string) and "sign" in the JSON body. Note
  the order differs from DingTalk (there the secret is the key and the string is the message).
- Card action tokens are ours: `v1.<payload>.<mac>` in base64url without padding, where the
  payload is compact JSON {a: alert_id, k: action kind, s: subject, e: expiry (Unix seconds)}
  and mac = HMAC-SHA256(callback secret, "kesu-action-token/v1\\0" + payload + "\\0" +
  case_key). The case key is bound by the MAC but not written into the URL (it names the
  customer, and the link is posted in a group chat): the verifier supplies it from the alert.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit, urlunsplit

from streams.records import ActionKind

__all__ = [
    "CARD_ACTIONS",
    "DEFAULT_TOLERANCE_SECONDS",
    "ActionClaims",
    "InvalidSignature",
    "InvalidToken",
    "SignatureFailure",
    "TokenFailure",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "feishu_sign",
    "make_action_token",
    "sign_webhook",
    "unverified_alert_id",
    "verify_action_token",
    "verify_webhook",
    "webhook_headers",
    "webhook_key",
]

#: Standard Webhooks' recommended replay window.
DEFAULT_TOLERANCE_SECONDS = 5 * 60

#: What a chat card may do: the two actions that stop SLA clocks. Anything needing input
#: (assign, comment, follow-up score) belongs in the dashboard.
CARD_ACTIONS: frozenset[ActionKind] = frozenset({ActionKind.ACKNOWLEDGE, ActionKind.RESOLVE})


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# -- Standard Webhooks ------------------------------------------------------------------------


class SignatureFailure(StrEnum):
    """Why `verify_webhook` refused a request."""

    MISSING_HEADER = "MISSING_HEADER"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"  # not an integer
    STALE_TIMESTAMP = "STALE_TIMESTAMP"  # older than the tolerance: a replay, or a slow queue
    FUTURE_TIMESTAMP = "FUTURE_TIMESTAMP"  # newer than the tolerance: clocks disagree
    BAD_SIGNATURE = "BAD_SIGNATURE"


class InvalidSignature(ValueError):
    """A webhook failed verification; `reason` says why (safe to log, holds no secret)."""

    def __init__(self, reason: SignatureFailure) -> None:
        super().__init__(reason.value)
        self.reason = reason


def webhook_key(secret: str) -> bytes:
    """The HMAC key for a subscription secret: `whsec_<base64>` decoded, else the UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from None
    return secret.encode("utf-8")


def sign_webhook(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """The `webhook-signature` value: "v1," + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + _b64(_hmac_sha256(webhook_key(secret), signed))


def webhook_headers(msg_id: str, timestamp: int, body: bytes, secret: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(msg_id, timestamp, body, secret),
    }


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a received webhook; return its `webhook-id` (the dedupe key) or raise InvalidSignature.

    Args:
        headers: the request headers (any capitalisation).
        body: the raw body bytes, exactly as received (not re-serialised JSON).
        now: the receiver's clock, Unix seconds.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and raw_timestamp and signatures):
        raise InvalidSignature(SignatureFailure.MISSING_HEADER)
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise InvalidSignature(SignatureFailure.BAD_TIMESTAMP) from None
    if timestamp < now - tolerance:
        raise InvalidSignature(SignatureFailure.STALE_TIMESTAMP)
    if timestamp > now + tolerance:
        raise InvalidSignature(SignatureFailure.FUTURE_TIMESTAMP)
    expected = sign_webhook(msg_id, timestamp, body, secret).encode()
    # Compare every candidate without stopping early, so timing says nothing about which matched.
    found = False
    for candidate in signatures.split():
        found |= hmac.compare_digest(candidate.encode(), expected)
    if not found:
        raise InvalidSignature(SignatureFailure.BAD_SIGNATURE)
    return msg_id


# -- Chat robots ------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}")), not yet URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    return _b64(_hmac_sha256(secret.encode("utf-8"), string_to_sign))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with `timestamp` and the URL-encoded `sign` appended to its query."""
    parts = urlsplit(url)
    extra = urlencode({"timestamp": timestamp_ms, "sign": dingtalk_sign(secret, timestamp_ms)})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return _b64(_hmac_sha256(key, b""))


# -- Card action tokens -----------------------------------------------------------------------

_TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a password
_TOKEN_DOMAIN = b"kesu-action-token/v1\x00"  # keeps these MACs apart from any other use of the key
_MAX_TOKEN = 1024


class TokenFailure(StrEnum):
    """Why a card action token was refused."""

    MALFORMED = "MALFORMED"
    BAD_SIGNATURE = "BAD_SIGNATURE"  # forged, tampered, other secret, or another alert's case
    EXPIRED = "EXPIRED"
    WRONG_ACTION = "WRONG_ACTION"  # not the action the endpoint expected
    UNKNOWN_ALERT = "UNKNOWN_ALERT"  # the alert it names is not (or no longer) known


class InvalidToken(ValueError):
    """A card action token failed verification; `reason` says why."""

    def __init__(self, reason: TokenFailure) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class ActionClaims:
    """What a verified token allows: `kind` on `alert_id`, on behalf of `subject`, until `expires_at`."""

    alert_id: str
    case_key: str
    kind: ActionKind
    subject: str
    expires_at: int  # Unix seconds


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise binascii.Error("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token_mac(secret: bytes, payload: str, case_key: str) -> bytes:
    return _hmac_sha256(secret, _TOKEN_DOMAIN + payload.encode() + b"\x00" + case_key.encode())


def make_action_token(
    *,
    alert_id: str,
    case_key: str,
    kind: ActionKind,
    subject: str,
    expires_at: datetime,
    secret: bytes,
) -> str:
    """A URL-safe token that lets whoever holds it perform `kind` on one alert until `expires_at`.

    Args:
        subject: who the link was issued to, e.g. "card:<subscription id>"; recorded as the actor
            unless the confirmation page knows the person.
        secret: the service's callback secret (not a subscription's secret).
    """
    if kind not in CARD_ACTIONS:
        raise ValueError(
            f"a card cannot {kind.value}; only {sorted(a.value for a in CARD_ACTIONS)}"
        )
    claims = {"a": alert_id, "k": kind.value, "s": subject, "e": int(expires_at.timestamp())}
    payload = _b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    mac = _b64url(_token_mac(secret, payload, case_key))
    return f"{_TOKEN_VERSION}.{payload}.{mac}"


def _split(token: str) -> tuple[str, bytes]:
    parts = token.split(".") if len(token) <= _MAX_TOKEN else []
    if len(parts) != 3 or parts[0] != _TOKEN_VERSION:
        raise InvalidToken(TokenFailure.MALFORMED)
    try:
        return parts[1], _unb64url(parts[2])
    except (binascii.Error, ValueError):
        raise InvalidToken(TokenFailure.MALFORMED) from None


class _Payload(NamedTuple):
    alert_id: str
    kind: str
    subject: str
    expires_at: int


def _claims(payload: str) -> _Payload:
    try:
        claims = json.loads(_unb64url(payload))
    except (binascii.Error, ValueError):
        raise InvalidToken(TokenFailure.MALFORMED) from None
    if not isinstance(claims, dict):
        raise InvalidToken(TokenFailure.MALFORMED)
    alert_id, kind, subject, expires_at = (claims.get(k) for k in "akse")
    if not (
        isinstance(alert_id, str)
        and isinstance(kind, str)
        and isinstance(subject, str)
        and type(expires_at) is int
    ):
        raise InvalidToken(TokenFailure.MALFORMED)
    return _Payload(alert_id, kind, subject, expires_at)


def unverified_alert_id(token: str) -> str:
    """The alert id a token names, NOT verified: only to look up the case key for verification."""
    payload, _ = _split(token)
    return _claims(payload).alert_id


def verify_action_token(
    token: str,
    *,
    secret: bytes,
    case_key: str,
    now: datetime,
    expected_kind: ActionKind | None = None,
) -> ActionClaims:
    """The claims of a genuine, unexpired token for the alert whose case is `case_key`.

    Raises InvalidToken: MALFORMED, BAD_SIGNATURE (checked before anything in the payload is
    believed), EXPIRED, or WRONG_ACTION (not `expected_kind`, or not a card action at all).
    """
    payload, mac = _split(token)
    if not hmac.compare_digest(mac, _token_mac(secret, payload, case_key)):
        raise InvalidToken(TokenFailure.BAD_SIGNATURE)
    claims = _claims(payload)
    if now.timestamp() >= claims.expires_at:
        raise InvalidToken(TokenFailure.EXPIRED)
    try:
        kind = ActionKind(claims.kind)
    except ValueError:
        raise InvalidToken(TokenFailure.WRONG_ACTION) from None
    if kind not in CARD_ACTIONS or (expected_kind is not None and kind is not expected_kind):
        raise InvalidToken(TokenFailure.WRONG_ACTION)
    return ActionClaims(claims.alert_id, case_key, kind, claims.subject, claims.expires_at)
