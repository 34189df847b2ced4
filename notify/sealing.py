"""Subscription credentials encrypted at rest on the subscriptions topic.

A robot URL carries the robot's key and a subscription's secret signs what we send: anyone who
can read `kesu.push.subscriptions` could post into an on-call group. So the stored record
holds the URL and the secret sealed with AES-256-GCM under a key derived (HKDF-SHA256, its own
`info`) from the callback secret every API replica and the notifier already share; the
subscription id is the associated data, so a sealed value cannot be moved to another record.

Sealed values read `sealed:v1:<base64url(nonce | ciphertext)>`. Records written before sealing
(plain values) still read. Rotating the callback secret makes sealed subscriptions unreadable:
they are skipped with a warning and must be created again (card links break then, too).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from notify.models import Subscription

__all__ = ["SEALED_FIELDS", "Sealer", "UnreadableSubscription"]

PREFIX = "sealed:v1:"
#: The fields of a stored subscription that are credentials.
SEALED_FIELDS = ("url", "secret")
_NONCE = 12


class UnreadableSubscription(ValueError):
    """A stored subscription that cannot be opened (another key, or altered) or parsed."""


class Sealer:
    """Seals and opens the credential fields of stored subscription records."""

    def __init__(self, callback_secret: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"kesu push subscriptions v1"
        ).derive(callback_secret)
        self._aead = AESGCM(key)

    def stored(self, subscription: Subscription) -> bytes:
        """The topic record of `subscription`: its config with the credentials sealed."""
        config = subscription.to_config()
        for name in SEALED_FIELDS:
            if config.get(name) is not None:
                config[name] = self._seal(str(config[name]), subscription.id)
        return json.dumps(config, ensure_ascii=False).encode("utf-8")

    def read(self, subscription_id: str, value: bytes) -> Subscription:
        """The subscription a topic record holds (sealed or, from before sealing, plain)."""
        try:
            config: Any = json.loads(value)
            if not isinstance(config, dict):
                raise UnreadableSubscription("not a JSON object")
            for name in SEALED_FIELDS:
                field = config.get(name)
                if isinstance(field, str) and field.startswith(PREFIX):
                    config[name] = self._open(field, subscription_id)
            return Subscription.model_validate(config)
        except UnreadableSubscription:
            raise
        except ValueError as exc:  # JSON and pydantic errors; their text may quote the value
            raise UnreadableSubscription(type(exc).__name__) from None

    def _seal(self, text: str, subscription_id: str) -> str:
        nonce = os.urandom(_NONCE)
        box = self._aead.encrypt(nonce, text.encode("utf-8"), subscription_id.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + box).decode("ascii")

    def _open(self, sealed: str, subscription_id: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(sealed.removeprefix(PREFIX).encode("ascii"))
            text = self._aead.decrypt(
                raw[:_NONCE], raw[_NONCE:], subscription_id.encode("utf-8")
            ).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise UnreadableSubscription(
                "sealed under another key (was the callback secret rotated?) or altered"
            ) from exc
        return text
