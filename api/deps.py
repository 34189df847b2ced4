"""What routes depend on, as annotated types: settings, the Kafka publisher, the alert view,
the current time, and `require(role)` — the API key of the caller, checked against the role
the route needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import ApiKey, Role, authenticate, permits
from api.errors import ApiError
from api.keystore import KeyStore
from api.publisher import EventPublisher
from api.push_view import PushView
from api.view import AlertView
from kesu.settings import Settings

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="kesu"'}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


def _view(request: Request) -> AlertView:
    view: AlertView = request.app.state.view
    return view


def _push_view(request: Request) -> PushView:
    view: PushView = request.app.state.push_view
    return view


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def api_clock() -> Clock:
    """The API's clock, the one place routes read the time; tests override this dependency."""
    return _utc_now


ClockDep = Annotated[Clock, Depends(api_clock)]


def _current_time(clock: ClockDep) -> datetime:
    return clock()


#: The time of the request, from the API's clock.
NowDep = Annotated[datetime, Depends(_current_time)]
SettingsDep = Annotated[Settings, Depends(_settings)]
PushViewDep = Annotated[PushView, Depends(_push_view)]
PublisherDep = Annotated[EventPublisher, Depends(_publisher)]
ViewDep = Annotated[AlertView, Depends(_view)]


#: Declares the API key in the OpenAPI document (clients and schemathesis send it from there);
#: checking it is api.guard's and `require`'s.
_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made with `kesu keys add NAME --role ROLE`: Authorization: Bearer <key>.",
)


def require(role: Role) -> Any:
    """A dependency yielding the caller's ApiKey if it holds `role` (401/403 with a reason otherwise)."""

    async def caller(
        request: Request,
        _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> ApiKey:
        found = getattr(request.state, "api_key", None)  # authenticated by api.guard already
        if isinstance(found, ApiKey):
            return _permitted(found, role)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "send an API key: Authorization: Bearer <key>",
                headers=_CHALLENGE,
            )
        store: KeyStore = request.app.state.keys
        key = authenticate(token.strip(), store.ring())
        if key is None:
            raise ApiError(401, "INVALID_KEY", "the API key is not recognised", headers=_CHALLENGE)
        return _permitted(key, role)

    return Depends(caller)


def _permitted(key: ApiKey, role: Role) -> ApiKey:
    if not permits(key.role, role):
        raise ApiError(
            403,
            "FORBIDDEN",
            f"this needs the {role.value} role; key '{key.name}' has {key.role.value}",
        )
    return key


Viewer = Annotated[ApiKey, require(Role.VIEWER)]
Operator = Annotated[ApiKey, require(Role.OPERATOR)]
Admin = Annotated[ApiKey, require(Role.ADMIN)]
Ingester = Annotated[ApiKey, require(Role.INGEST)]
