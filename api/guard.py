"""The API's front door, before any route reads a body: size, identity, rate; and no-store after.

A pure ASGI middleware, so it acts on the request line and headers alone:
- authentication first: a `/v1/` route (except the card callbacks, whose token is their
  credential) is refused with 401 before a byte of its body is read — an unauthenticated
  caller learns nothing about validation and cannot make the API parse 300 MB;
- every body is bounded (ingestion by `http_max_body_bytes`, everything else by
  `http_max_request_bytes`): 413 from Content-Length alone, or as soon as a chunked body
  passes the limit;
- a token bucket per API key, and per client address for anonymous calls (callbacks and
  failed logins, which also slows key guessing): 429 with Retry-After;
- `/v1/` answers carry customer data: `Cache-Control: no-store` unless the route set one.
Roles stay with the routes (`api.deps.require`), which reuse the key found here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.auth import ApiKey, authenticate
from api.ratelimit import Rate, RateLimiter, retry_after
from kesu.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CHALLENGE = (b"www-authenticate", b'Bearer realm="kesu"')
_INGEST_PREFIX = "/v1/events/"
_OPEN_PREFIXES = ("/v1/callbacks/",)
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def needs_key(path: str) -> bool:
    """Routes under /v1/ need an API key, except the card callbacks (the token is the key)."""
    return path.startswith("/v1/") and not path.startswith(_OPEN_PREFIXES)


class RequestGuard:
    """Wraps the app; `settings` and the key store are read from the app's state per request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.keyed = (
            RateLimiter(Rate(settings.http_rate_limit, settings.http_rate_burst))
            if settings.http_rate_limit
            else None
        )
        self.anonymous = (
            RateLimiter(
                Rate(settings.http_anonymous_rate_limit, settings.http_anonymous_rate_burst)
            )
            if settings.http_anonymous_rate_limit
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        refusal = self._admit(scope, path)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        if scope["method"] in _BODY_METHODS:
            limit = (
                self.settings.http_max_body_bytes
                if path.startswith(_INGEST_PREFIX)
                else self.settings.http_max_request_bytes
            )
            bounded = await _bounded_receive(scope, receive, limit)
            if isinstance(bounded, tuple):
                await _answer(send, *bounded)
                return
            receive = bounded
        if path.startswith("/v1/"):
            send = _no_store(send)
        await self.app(scope, receive, send)

    def _admit(
        self, scope: Scope, path: str
    ) -> tuple[int, str, str, list[tuple[bytes, bytes]]] | None:
        """None to go ahead, or the refusal (status, reason, message, headers)."""
        now = time.monotonic()
        client = scope.get("client")
        address = f"ip:{client[0]}" if client else "ip:-"
        if not needs_key(path):
            if path.startswith(_OPEN_PREFIXES):
                return _limited(self.anonymous, address, now)
            return None
        key = self._key(scope)
        if key is None:
            limited = _limited(self.anonymous, address, now)
            if limited is not None:
                return limited
            presented = _bearer(scope) is not None
            return (
                401,
                "INVALID_KEY" if presented else "UNAUTHENTICATED",
                "the API key is not recognised"
                if presented
                else "send an API key: Authorization: Bearer <key>",
                [CHALLENGE],
            )
        scope.setdefault("state", {})["api_key"] = key
        return _limited(self.keyed, f"key:{key.name}", now)

    def _key(self, scope: Scope) -> ApiKey | None:
        token = _bearer(scope)
        store = getattr(scope["app"].state, "keys", None) if "app" in scope else None
        if token is None or store is None:
            return None
        return authenticate(token, store.ring())


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _limited(
    limiter: RateLimiter | None, caller: str, now: float
) -> tuple[int, str, str, list[tuple[bytes, bytes]]] | None:
    if limiter is None:
        return None
    wait = limiter.take(caller, now)
    if wait <= 0:
        return None
    return (
        429,
        "RATE_LIMITED",
        f"too many requests; retry in {retry_after(wait)} s",
        [(b"retry-after", retry_after(wait).encode())],
    )


async def _bounded_receive(
    scope: Scope, receive: Receive, limit: int
) -> Receive | tuple[int, str, str, list[tuple[bytes, bytes]]]:
    """A receive that replays a body known to fit `limit`, or the 413 refusal."""
    declared = next((v for n, v in scope.get("headers", ()) if n == b"content-length"), None)
    if declared is not None:
        if declared.isdigit() and int(declared) > limit:
            return _too_large(f"body is {int(declared)} bytes; the limit is {limit} bytes")
        return receive  # the server holds the body to its declared length
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > limit:
            return _too_large(f"body exceeds the limit of {limit} bytes")
        if not message.get("more_body", False):
            break
    pending = iter(messages)

    async def replay() -> Message:
        return next(pending, None) or await receive()

    return replay


def _too_large(message: str) -> tuple[int, str, str, list[tuple[bytes, bytes]]]:
    return 413, "TOO_LARGE", message, []


def _no_store(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", b"no-store"))
            message["headers"] = headers
        await send(message)

    return sending


async def _answer(
    send: Send, status: int, reason: str, message: str, headers: list[tuple[bytes, bytes]]
) -> None:
    """The API's error shape (api.errors), sent without reading the request body."""
    body = json.dumps(
        {"error": {"reason": reason, "message": message}, "rejected": []}, ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
