"""Webhook and chat-robot subscriptions (admin only), kept in a compacted Kafka topic; and
the page behind a message's "查看全部" link (every alert one message carried; viewers).

A write is answered once Kafka has it *and* this replica has read it back, so a GET right
after a POST or DELETE sees it. Secrets never come back: answers are SubscriptionPublic
(URL reduced to scheme and host, secret replaced by `signed`), and nothing here logs a body.
A destination must resolve to public addresses only, unless KESU_PUSH_ALLOWED_DESTINATIONS
allows it (notify/egress.py; the notifier checks again at every connection).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from api.deps import Admin, NowDep, PublisherDep, PushViewDep, SettingsDep, ViewDep, Viewer
from api.errors import ApiError
from api.models import AlertPublic, ErrorResponse
from api.present import present_alert
from api.push_view import write_through
from notify.egress import EgressPolicy, refusal
from notify.models import Delivery, Subscription, SubscriptionPublic
from streams.topics import SUBSCRIPTIONS


async def _loaded(push_view: PushViewDep, _caller: Admin) -> None:
    """Until the topic is read, "no such id" and the list would be guesses: answer 503
    (after the key check, so an unauthenticated caller learns nothing)."""
    if not push_view.ready:
        raise ApiError(
            503, "NOT_READY", "subscriptions are still loading", headers={"Retry-After": "5"}
        )


router = APIRouter(tags=["subscriptions"], dependencies=[Depends(_loaded)])

_SUBSCRIPTION_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
SubscriptionId = Annotated[str, Path(pattern=_SUBSCRIPTION_ID, description="The subscription id.")]

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No or unknown API key."},
    403: {"model": ErrorResponse, "description": "Subscriptions need the admin role."},
    503: {
        "model": ErrorResponse,
        "description": "Still loading, or Kafka did not take the change; retry.",
    },
}
_UNKNOWN: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No such subscription."}
}


class SubscriptionRequest(Subscription):
    """A new subscription; `id` may be left out (one is made up)."""

    id: str | None = Field(  # type: ignore[assignment]
        default=None, pattern=_SUBSCRIPTION_ID, description="Letters, digits, '.', '_', '-'."
    )


@router.post(
    "/v1/subscriptions",
    status_code=201,
    response_model=SubscriptionPublic,
    responses={
        **_ERRORS,
        409: {"model": ErrorResponse, "description": "A subscription with this id exists."},
        422: {
            "model": ErrorResponse,
            "description": "The subscription is not valid, or its URL resolves to a private, "
            "loopback, link-local or metadata address (DESTINATION_NOT_ALLOWED).",
        },
    },
    summary="Subscribe a webhook or chat robot to alert events",
)
async def create_subscription(
    request: SubscriptionRequest,
    publisher: PublisherDep,
    push_view: PushViewDep,
    settings: SettingsDep,
    _caller: Admin,
) -> SubscriptionPublic:
    subscription_id = request.id or f"sub-{secrets.token_hex(6)}"
    if push_view.subscriptions.get(subscription_id) is not None:
        raise ApiError(
            409, "SUBSCRIPTION_EXISTS", f"subscription {subscription_id} exists; delete it first"
        )
    try:  # validated already; this only fills in the id
        subscription = Subscription.model_validate({**request.to_config(), "id": subscription_id})
    except PydanticValidationError as exc:  # pragma: no cover - same rules as the request
        raise ApiError(422, "INVALID_SUBSCRIPTION", exc.errors()[0]["msg"]) from None
    egress = EgressPolicy.parse(settings.push_allowed_destinations)
    problem = await refusal(subscription.url.get_secret_value(), egress)
    if problem is not None:
        raise ApiError(422, "DESTINATION_NOT_ALLOWED", problem)
    stored = push_view.sealer.stored(subscription)
    await write_through(publisher, push_view, settings, SUBSCRIPTIONS, subscription_id, stored)
    return subscription.public()


@router.get(
    "/v1/subscriptions",
    response_model=list[SubscriptionPublic],
    responses=_ERRORS,
    summary="Every subscription (URLs masked, secrets never shown)",
)
async def list_subscriptions(push_view: PushViewDep, _caller: Admin) -> list[SubscriptionPublic]:
    return [s.public() for s in push_view.subscriptions.all()]


@router.get(
    "/v1/subscriptions/{subscription_id}",
    response_model=SubscriptionPublic,
    responses={**_ERRORS, **_UNKNOWN},
    summary="One subscription (URL masked, secret never shown)",
)
async def get_subscription(
    subscription_id: SubscriptionId, push_view: PushViewDep, _caller: Admin
) -> SubscriptionPublic:
    subscription = push_view.subscriptions.get(subscription_id)
    if subscription is None:
        raise ApiError(404, "UNKNOWN_SUBSCRIPTION", f"no subscription {subscription_id}")
    return subscription.public()


@router.delete(
    "/v1/subscriptions/{subscription_id}",
    status_code=204,
    response_class=Response,
    responses={**_ERRORS, **_UNKNOWN},
    summary="Stop pushing to a subscription",
)
async def delete_subscription(
    subscription_id: SubscriptionId,
    publisher: PublisherDep,
    push_view: PushViewDep,
    settings: SettingsDep,
    _caller: Admin,
) -> Response:
    if push_view.subscriptions.get(subscription_id) is None:
        raise ApiError(404, "UNKNOWN_SUBSCRIPTION", f"no subscription {subscription_id}")
    await write_through(publisher, push_view, settings, SUBSCRIPTIONS, subscription_id, None)
    return Response(status_code=204)


@router.get(
    "/v1/subscriptions/{subscription_id}/deliveries",
    response_model=list[Delivery],
    responses={**_ERRORS, **_UNKNOWN},
    summary="The delivery log of a subscription, newest first: every attempt and outcome",
)
async def list_deliveries(
    subscription_id: SubscriptionId,
    push_view: PushViewDep,
    _caller: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Delivery]:
    if push_view.subscriptions.get(subscription_id) is None:
        raise ApiError(404, "UNKNOWN_SUBSCRIPTION", f"no subscription {subscription_id}")
    return push_view.deliveries.entries(subscription_id)[:limit]


#: Routes for viewers, outside the admin-only router above.
messages = APIRouter(tags=["subscriptions"])


class MessageContent(BaseModel):
    """What one message carried: its delivery-log entry and every alert, listed or not."""

    delivery: Delivery
    alerts: list[AlertPublic] = Field(description="Alerts still known, in the message's order.")


@messages.get(
    "/v1/messages/{delivery_id}",
    response_model=MessageContent,
    responses={
        401: {"model": ErrorResponse, "description": "No or unknown API key."},
        404: {"model": ErrorResponse, "description": "No such message (or no longer kept)."},
    },
    summary="Every alert one message carried (the page behind its 查看全部 link)",
)
async def message_content(
    delivery_id: Annotated[str, Path(pattern=r"^msg_[0-9a-f]{32}$")],
    push_view: PushViewDep,
    view: ViewDep,
    _caller: Viewer,
    now: NowDep,
) -> MessageContent:
    delivery = push_view.deliveries.find(delivery_id)
    if delivery is None:
        raise ApiError(404, "UNKNOWN_MESSAGE", f"no message {delivery_id}")
    alert_ids = delivery.alert_ids or (delivery.alert_id,)
    alerts = [view.alerts[a] for a in alert_ids if a in view.alerts]
    return MessageContent(delivery=delivery, alerts=[present_alert(a, now) for a in alerts])
