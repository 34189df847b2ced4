"""Alerts for people: list, detail with timeline, actions, KPIs and the live stream.

Reads come from the view (rebuilt from Kafka); actions are published to the actions topic
and answered only after Kafka has them — the engine applies them, and the timeline shows it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import AwareDatetime

from api.deps import (
    NowDep,
    Operator,
    PublisherDep,
    PushViewDep,
    SettingsDep,
    ViewDep,
    Viewer,
)
from api.errors import ApiError
from api.models import ActionAccepted, ActionRequest, AlertDetail, AlertPage, ErrorResponse
from api.present import present_alert, present_entry, present_suppression
from api.publisher import KafkaUnavailable
from api.routes.surges import active_surges
from complaints.identifiers import pseudonym
from complaints.kpis import alert_kpis, contact_kpis
from streams.codec import encode_record
from streams.records import (
    ActionKind,
    Alert,
    AlertAction,
    AlertKind,
    AlertStatus,
    Category,
    Source,
)
from streams.topics import ACTIONS

router = APIRouter(tags=["alerts"])

#: URL verbs -> engine actions.
ACTION_VERBS: dict[str, ActionKind] = {
    "ack": ActionKind.ACKNOWLEDGE,
    "assign": ActionKind.ASSIGN,
    "comment": ActionKind.COMMENT,
    "wait": ActionKind.WAIT_ON_CUSTOMER,
    "resume": ActionKind.RESUME,
    "resolve": ActionKind.RESOLVE,
    "follow-up": ActionKind.FOLLOW_UP,
    "close": ActionKind.CLOSE,
}
_READ_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No or unknown API key."},
    403: {"model": ErrorResponse, "description": "The key's role may not do this."},
}


def _matches(
    alert: Alert,
    kind: AlertKind | None,
    tier: int | None,
    status: str | None,
    category: Category | None,
    region: str | None,
    channel: Source | None,
    customer: str | None,
    since: datetime | None,
    until: datetime | None,
) -> bool:
    if status == "active" and alert.status in (AlertStatus.RESOLVED, AlertStatus.CLOSED):
        return False
    if status not in (None, "active") and alert.status.value != status:
        return False
    return (
        (kind is None or alert.kind is kind)
        and (tier is None or alert.tier == tier)
        and (category is None or alert.category is category)
        and (region is None or alert.region == region)
        and (channel is None or channel in alert.sources)
        and (customer is None or alert.customer_id == customer)
        and (since is None or alert.opened_at >= since)
        and (until is None or alert.opened_at < until)
    )


def _cursor(alert: Alert) -> str:
    return base64.urlsafe_b64encode(
        f"{alert.updated_at.isoformat()}|{alert.alert_id}".encode()
    ).decode()


def _after_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        moment, alert_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        when = datetime.fromisoformat(moment)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BAD_CURSOR", "cursor is not one this API returned") from exc
    if when.tzinfo is None:  # ours always carry their offset
        raise ApiError(400, "BAD_CURSOR", "cursor is not one this API returned")
    return when, alert_id


@router.get(
    "/v1/alerts",
    response_model=AlertPage,
    responses=_READ_ERRORS,
    summary="List alerts (newest change first)",
)
async def list_alerts(
    request: Request,
    view: ViewDep,
    push_view: PushViewDep,
    _caller: Viewer,
    now: NowDep,
    kind: Annotated[
        AlertKind | None,
        Query(description="complaint, surge, logistics_delay or churn."),
    ] = None,
    tier: Annotated[int | None, Query(ge=1, le=3)] = None,
    status: Annotated[
        Literal["active", "open", "acknowledged", "waiting_on_customer", "resolved", "closed"]
        | None,
        Query(description="'active' = not resolved or closed."),
    ] = None,
    category: Category | None = None,
    region: str | None = None,
    channel: Source | None = None,
    customer: Annotated[str | None, Query(description="customer_id")] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(
            description="opened at or after (ISO 8601 with offset, e.g. 2026-12-01T00:00:00+08:00)"
        ),
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="opened before (ISO 8601 with offset)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> AlertPage:
    # Personal data in ids is stored as its pseudonym (complaints/identifiers.py): a filter
    # written with the raw value finds the same alerts.
    key: bytes = request.app.state.pseudonym_key
    if customer is not None:
        customer = pseudonym(customer, key, max_length=128)
    if region is not None:
        region = pseudonym(region, key, max_length=64)
    chosen = [
        a
        for a in view.alerts.values()
        if _matches(a, kind, tier, status, category, region, channel, customer, since, until)
    ]
    chosen.sort(key=lambda a: (a.updated_at, a.alert_id), reverse=True)
    if cursor:
        moment, alert_id = _after_cursor(cursor)
        chosen_after = [a for a in chosen if (a.updated_at, a.alert_id) < (moment, alert_id)]
    else:
        chosen_after = chosen
    page = chosen_after[:limit]
    more = len(chosen_after) > limit
    held = push_view.suppressor(view.alerts.values(), now, version=view.position())
    return AlertPage(
        items=[
            present_alert(a, now, present_suppression(held(a), view.alerts, push_view.silences))
            for a in page
        ],
        total=len(chosen),
        next_cursor=_cursor(page[-1]) if more and page else None,
    )


@router.get("/v1/status", responses=_READ_ERRORS, summary="KPIs for the operations dashboard")
async def status(
    view: ViewDep,
    _caller: Viewer,
    now: NowDep,
    window_hours: Annotated[
        float, Query(gt=0, le=24 * 7, description="Look-back for counts and means.")
    ] = 24,
) -> dict[str, object]:
    window = timedelta(hours=window_hours)
    return {
        "generated_at": now.isoformat(),
        "window_hours": window_hours,
        "ready": view.ready,
        **contact_kpis(view.contacts, now, window),
        "alerts": alert_kpis(list(view.alerts.values()), view.times, now, window),
        "active_surges": len(active_surges(list(view.alerts.values()))),
    }


@router.get(
    "/v1/alerts/{alert_id}",
    response_model=AlertDetail,
    responses={**_READ_ERRORS, 404: {"model": ErrorResponse, "description": "No such alert."}},
    summary="One alert with its full timeline",
)
async def get_alert(
    alert_id: str, view: ViewDep, push_view: PushViewDep, _caller: Viewer, now: NowDep
) -> AlertDetail:
    alert = view.alerts.get(alert_id)
    if alert is None:
        raise ApiError(404, "UNKNOWN_ALERT", f"no alert {alert_id[:40]}")
    held = push_view.suppressor(view.alerts.values(), now, version=view.position())
    suppressed = present_suppression(held(alert), view.alerts, push_view.silences)
    return AlertDetail(
        alert=present_alert(alert, now, suppressed),
        timeline=[present_entry(r) for r in view.timelines.get(alert_id, [])],
    )


def action_id_for(alert_id: str, kind: ActionKind, idempotency_key: str) -> str:
    """The same Idempotency-Key for the same alert and action is the same action."""
    digest = hashlib.sha256(f"{alert_id}|{kind.value}|{idempotency_key}".encode()).hexdigest()
    return f"act-{digest[:24]}"


@router.post(
    "/v1/alerts/{alert_id}/{verb}",
    status_code=202,
    response_model=ActionAccepted,
    responses={
        **_READ_ERRORS,
        404: {"model": ErrorResponse, "description": "No such alert, or no such action."},
        409: {"model": ErrorResponse, "description": "The alert is closed."},
        422: {"model": ErrorResponse, "description": "The action needs a detail it lacks."},
        503: {
            "model": ErrorResponse,
            "description": "Kafka did not take the action; retry with the same key.",
        },
    },
    summary="Act on an alert: ack, assign, comment, wait, resume, resolve, follow-up, close",
)
async def act_on_alert(
    alert_id: str,
    verb: Annotated[str, Path(description=", ".join(ACTION_VERBS))],
    view: ViewDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    caller: Operator,
    now: NowDep,
    request: ActionRequest | None = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Send the same value when retrying: the action is then applied once.",
        ),
    ] = None,
) -> ActionAccepted:
    kind = ACTION_VERBS.get(verb)
    if kind is None:
        raise ApiError(404, "UNKNOWN_ACTION", f"actions: {', '.join(ACTION_VERBS)}")
    alert = view.alerts.get(alert_id)
    if alert is None:
        raise ApiError(404, "UNKNOWN_ALERT", f"no alert {alert_id[:40]}")
    if alert.status is AlertStatus.CLOSED:
        raise ApiError(409, "ALERT_CLOSED", "the alert is closed")
    details = request or ActionRequest()
    if kind is ActionKind.ASSIGN and not details.assignee:
        raise ApiError(422, "MISSING_ASSIGNEE", 'assign needs {"assignee": "…"}')
    if kind is ActionKind.COMMENT and not details.comment:
        raise ApiError(422, "MISSING_COMMENT", 'comment needs {"comment": "…"}')
    if kind is ActionKind.FOLLOW_UP and details.satisfied is None and details.score is None:
        raise ApiError(422, "MISSING_RESULT", 'follow-up needs "satisfied" and/or "score" (1-5)')
    action = AlertAction(
        action_id=action_id_for(alert_id, kind, idempotency_key or secrets.token_hex(16)),
        alert_id=alert_id,
        case_key=alert.case_key,
        kind=kind,
        actor=caller.name,
        at=now,
        assignee=details.assignee,
        comment=details.comment,
        satisfied=details.satisfied,
        score=details.score,
    )
    topic = ACTIONS.name(settings.namespace)
    try:
        await publisher.publish(topic, [(alert.case_key.encode(), encode_record(action))])
    except KafkaUnavailable as exc:
        raise ApiError(
            503,
            "KAFKA_UNAVAILABLE",
            f"{exc}; retry with the same Idempotency-Key",
            headers={"Retry-After": "5"},
        ) from exc
    return ActionAccepted(
        action_id=action.action_id, alert_id=alert_id, kind=kind.value, topic=topic
    )
