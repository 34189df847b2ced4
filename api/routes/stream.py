"""GET /v1/alerts/stream: every alert change as Server-Sent Events, resumable.

The event id is the view's position (next offset per lifecycle partition); a dashboard that
reconnects with Last-Event-ID receives exactly what it missed, from any API replica. If it
was away longer than the history kept, it gets a `reset` event and reloads the list.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Clock, ClockDep, PushViewDep, ViewDep, Viewer
from api.present import present_alert, present_entry, present_suppression
from api.push_view import PushView
from api.view import AlertView, StreamItem
from streams.records import Category

router = APIRouter(tags=["alerts"])

KEEPALIVE_SECONDS = 15.0


def _wanted(
    item: StreamItem, tier: int | None, category: Category | None, region: str | None
) -> bool:
    alert = item.record.alert
    return (
        (tier is None or alert.tier == tier)
        and (category is None or alert.category is category)
        and (region is None or alert.region == region)
    )


def _event(item: StreamItem, clock: Clock, view: AlertView, push_view: PushView) -> str:
    now = clock()
    alert = item.record.alert
    held = push_view.suppressor(view.alerts.values(), now, version=view.position())
    suppressed = present_suppression(held(alert), view.alerts, push_view.silences)
    payload = {
        "entry": present_entry(item.record).model_dump(mode="json"),
        "alert": present_alert(alert, now, suppressed).model_dump(mode="json"),
    }
    return f"id: {item.position}\nevent: alert\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


@router.get(
    "/v1/alerts/stream",
    summary="Live alert changes (Server-Sent Events, resumable with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`event: alert` with entry + alert.",
        }
    },
)
async def alert_stream(
    request: Request,
    view: ViewDep,
    push_view: PushViewDep,
    _caller: Viewer,
    clock: ClockDep,
    tier: Annotated[int | None, Query(ge=1, le=3)] = None,
    category: Category | None = None,
    region: str | None = None,
    last_event_id: Annotated[str | None, Header(max_length=500)] = None,
) -> StreamingResponse:
    queue, backlog, reset = view.subscribe(last_event_id)

    async def events() -> AsyncIterator[str]:
        try:
            position = view.position()
            yield f"retry: 3000\nid: {position}\nevent: hello\ndata: {json.dumps({'position': position})}\n\n"
            if reset:
                yield "event: reset\ndata: {}\n\n"
            for item in backlog:
                if _wanted(item, tier, category, region):
                    yield _event(item, clock, view, push_view)
            while not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if _wanted(item, tier, category, region):
                    yield _event(item, clock, view, push_view)
        finally:
            view.unsubscribe(queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
