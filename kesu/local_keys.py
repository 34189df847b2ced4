"""First-run conveniences for the embedded service: local API keys and a callback secret.

Only for `kesu run` on a developer's machine: when no keys file exists yet, an admin and an
ingest key are created; their hashes go into the keys file like any other key, and the keys
themselves into <data_dir>/local-keys.json (mode 0600) so `kesu demo --via http` and the
printed dashboard link work. Production deployments manage keys with `kesu keys`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from api.auth import Role, add_key
from kesu.settings import Settings

LOCAL_KEYS = "local-keys.json"
CALLBACK_SECRET_FILE = "callback-secret"  # noqa: S105 - a file name, not a secret


def ensure_local_keys(settings: Settings) -> dict[str, str] | None:
    """The local keys by role, creating them on first run; None if keys are managed elsewhere."""
    stored = settings.data_dir / LOCAL_KEYS
    if stored.exists():
        loaded: dict[str, str] = json.loads(stored.read_text(encoding="utf-8"))
        return loaded
    if settings.api_keys_path.exists():
        return None
    keys = {
        Role.ADMIN.value: add_key(settings.api_keys_path, "local-admin", Role.ADMIN),
        Role.INGEST.value: add_key(settings.api_keys_path, "local-ingest", Role.INGEST),
    }
    _write_private(stored, json.dumps(keys, indent=2) + "\n")
    return keys


def local_key(settings: Settings, role: Role) -> str | None:
    stored = settings.data_dir / LOCAL_KEYS
    if not stored.exists():
        return None
    keys: dict[str, str] = json.loads(stored.read_text(encoding="utf-8"))
    return keys.get(role.value)


def ensure_callback_secret(settings: Settings) -> str:
    """The configured callback secret, or one generated once into the data dir."""
    if settings.callback_secret is not None:
        return settings.callback_secret.get_secret_value()
    path = settings.data_dir / CALLBACK_SECRET_FILE
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(32))
    return path.read_text(encoding="utf-8").strip()


def pseudonym_key(settings: Settings) -> bytes:
    """The key of the pseudonyms that replace personal data in identifiers
    (complaints/identifiers.py), derived from the callback secret every process shares."""
    secret = ensure_callback_secret(settings).encode()
    return hmac.new(secret, b"kesu identifier pseudonyms v1", hashlib.sha256).digest()


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")
