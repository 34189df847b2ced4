"""API keys and roles: who may read, act, administer, or publish events.

Keys are random tokens shown once; only their SHA-256 is stored (a key is 256 random bits,
so a fast hash is enough — there is nothing to brute-force). Presented keys are compared in
constant time against every stored hash. The keys file is JSON so operators can version it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

_PREFIX = "kesu_"


class Role(StrEnum):
    VIEWER = "viewer"  # read alerts, status, the stream, the dashboard
    OPERATOR = "operator"  # + acknowledge, assign, comment, resolve, follow up
    ADMIN = "admin"  # + manage subscriptions and keys; may also publish events
    INGEST = "ingest"  # upstream systems: POST /v1/events only


ROLE_LABELS: dict[Role, str] = {
    Role.VIEWER: "只读",
    Role.OPERATOR: "值班处理",
    Role.ADMIN: "管理员",
    Role.INGEST: "上游接入",
}

#: What each role may do, by the role a route requires.
_GRANTS: dict[Role, frozenset[Role]] = {
    Role.VIEWER: frozenset({Role.VIEWER, Role.OPERATOR, Role.ADMIN}),
    Role.OPERATOR: frozenset({Role.OPERATOR, Role.ADMIN}),
    Role.ADMIN: frozenset({Role.ADMIN}),
    Role.INGEST: frozenset({Role.INGEST, Role.ADMIN}),
}


class ApiKey(BaseModel):
    """One stored key: a name people recognise (used as the actor), a role, and the hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[\w.@-]+$")
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class KeyRing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    keys: tuple[ApiKey, ...] = ()


def new_key() -> str:
    """A fresh random key (shown to its owner once)."""
    return _PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def permits(have: Role, needed: Role) -> bool:
    return have in _GRANTS[needed]


def authenticate(presented: str, ring: KeyRing) -> ApiKey | None:
    """The key's record, or None. Every stored hash is compared, in constant time each."""
    digest = hash_key(presented)
    found = None
    for key in ring.keys:
        if hmac.compare_digest(digest, key.sha256):
            found = key
    return found


def load_ring(path: Path | None) -> KeyRing:
    if path is None or not path.exists():
        return KeyRing()
    return KeyRing.model_validate_json(path.read_text(encoding="utf-8"))


def add_key(path: Path, name: str, role: Role) -> str:
    """Create a key named `name`, store its hash in `path`, and return the key itself."""
    ring = load_ring(path)
    if any(key.name == name for key in ring.keys):
        raise ValueError(f"a key named {name!r} already exists in {path}")
    key = new_key()
    updated = KeyRing(keys=(*ring.keys, ApiKey(name=name, role=role, sha256=hash_key(key))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(updated.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return key


def remove_key(path: Path, name: str) -> bool:
    ring = load_ring(path)
    kept = tuple(key for key in ring.keys if key.name != name)
    if len(kept) == len(ring.keys):
        return False
    path.write_text(
        json.dumps(KeyRing(keys=kept).model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    return True
