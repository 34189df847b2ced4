"""Silences (maintenance windows: 大促, a known carrier outage): create, list, expire.

Operators create and expire them; anyone who may read alerts may list them (the dashboard
shows why an alert is not being pushed). Kept on the compacted topic kesu.push.silences; a
write is answered once Kafka has it and this replica has read it back. The record itself is
the audit trail: who created it and when, who ended it early and when. Silenced alerts are
still recorded and shown; only their pushes are held (by the notifier).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from api.deps import NowDep, Operator, PublisherDep, PushViewDep, SettingsDep, Viewer
from api.errors import ApiError
from api.models import ErrorResponse
from api.push_view import write_through
from complaints.durations import Duration
from notify.silencing import expired, new_silence
from streams.records import Silence
from streams.topics import SILENCES


async def _loaded(push_view: PushViewDep, _caller: Viewer) -> None:
    if not push_view.ready:
        raise ApiError(503, "NOT_READY", "silences are still loading", headers={"Retry-After": "5"})


router = APIRouter(tags=["silences"], dependencies=[Depends(_loaded)])

_ID = r"^sil-[A-Za-z0-9._-]{1,60}$"
SilenceId = Annotated[str, Path(pattern=_ID, description="The silence id.")]
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No or unknown API key."},
    403: {"model": ErrorResponse, "description": "Creating and expiring need the operator role."},
    503: {"model": ErrorResponse, "description": "Still loading, or Kafka did not take it; retry."},
}
_LONGEST = timedelta(days=30)


class SilenceRequest(BaseModel):
    """A new silence: which alerts, from when, until when (or for how long), and why."""

    model_config = ConfigDict(extra="forbid")

    matchers: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Label matchers, all must hold: region=华东-上海, tier!=1, carrier=~顺丰.*",
        examples=[["region=华东-上海", "carrier=顺丰"]],
    )
    comment: str = Field(min_length=1, max_length=500, description="Why, e.g. 顺丰中转站停运.")
    starts_at: datetime | None = Field(default=None, description="Default: now.")
    ends_at: datetime | None = Field(default=None, description="Give this or `duration`.")
    duration: Duration | None = Field(default=None, description="e.g. 2h; from starts_at.")


class SilencePublic(Silence):
    """A silence as the API shows it, with whether it holds pushes right now."""

    in_effect: bool = Field(description="It holds matching pushes right now.")


def _public(silence: Silence, now: datetime) -> SilencePublic:
    return SilencePublic.model_validate(
        {**silence.model_dump(), "in_effect": silence.active(now)}, strict=False
    )


@router.post(
    "/v1/silences",
    status_code=201,
    response_model=SilencePublic,
    responses={
        **_ERRORS,
        422: {"model": ErrorResponse, "description": "A matcher or the time span is not valid."},
    },
    summary="Hold the pushes of matching alerts for a while (they are still recorded)",
)
async def create_silence(
    request: SilenceRequest,
    publisher: PublisherDep,
    push_view: PushViewDep,
    settings: SettingsDep,
    caller: Operator,
    now: NowDep,
) -> SilencePublic:
    starts = request.starts_at or now
    if (request.ends_at is None) == (request.duration is None):
        raise ApiError(422, "INVALID_SILENCE", "give ends_at or duration (one of them)")
    if starts.tzinfo is None or (request.ends_at is not None and request.ends_at.tzinfo is None):
        raise ApiError(422, "INVALID_SILENCE", "times need an offset, e.g. +08:00")
    try:
        ends = request.ends_at or starts + (request.duration or timedelta(0))
        too_long = ends - max(starts, now) > _LONGEST or starts - now > _LONGEST
    except OverflowError:  # year 9999 and a duration: no calendar has that day
        raise ApiError(422, "INVALID_SILENCE", "the time span leaves the calendar") from None
    if too_long:
        raise ApiError(422, "INVALID_SILENCE", "a silence lasts (and starts within) 30 days")
    if ends <= now:
        raise ApiError(422, "INVALID_SILENCE", "ends_at is in the past")
    try:
        silence = new_silence(
            f"sil-{secrets.token_hex(6)}",
            request.matchers,
            starts_at=starts,
            ends_at=ends,
            created_by=caller.name,
            comment=request.comment,
            now=now,
        )
    except PydanticValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ApiError(422, "INVALID_SILENCE", f"{where}: {error['msg']}") from None
    await write_through(
        publisher,
        push_view,
        settings,
        SILENCES,
        silence.silence_id,
        silence.model_dump_json().encode(),
    )
    return _public(silence, now)


@router.get(
    "/v1/silences",
    response_model=list[SilencePublic],
    responses=_ERRORS,
    summary="Silences, the active ones first (ended ones stay listed: the audit trail)",
)
async def list_silences(
    push_view: PushViewDep,
    _caller: Viewer,
    now: NowDep,
    active: Annotated[bool | None, Query(description="Only active (true) or not (false).")] = None,
) -> list[SilencePublic]:
    shown = [_public(s, now) for s in push_view.silences.values()]
    if active is not None:
        shown = [s for s in shown if s.in_effect is active]
    return sorted(shown, key=lambda s: (not s.in_effect, -s.created_at.timestamp(), s.silence_id))


@router.delete(
    "/v1/silences/{silence_id}",
    response_model=SilencePublic,
    responses={**_ERRORS, 404: {"model": ErrorResponse, "description": "No such silence."}},
    summary="End a silence now (it stays listed, with who ended it and when)",
)
async def expire_silence(
    silence_id: SilenceId,
    publisher: PublisherDep,
    push_view: PushViewDep,
    settings: SettingsDep,
    caller: Operator,
    now: NowDep,
) -> SilencePublic:
    silence = push_view.silences.get(silence_id)
    if silence is None:
        raise ApiError(404, "UNKNOWN_SILENCE", f"no silence {silence_id}")
    ended = expired(silence, by=caller.name, now=now)
    if ended is not silence:
        await write_through(
            publisher,
            push_view,
            settings,
            SILENCES,
            ended.silence_id,
            ended.model_dump_json().encode(),
        )
    return _public(ended, now)
