"""The delay map for dashboards: delayed, exception and lost orders per region x carrier."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.delay_view import DelayView
from api.deps import Viewer
from api.models import ErrorResponse

router = APIRouter(tags=["logistics"])


def _delays(request: Request) -> DelayView:
    view: DelayView = request.app.state.delays
    return view


DelaysDep = Annotated[DelayView, Depends(_delays)]


class DelayCellPublic(BaseModel):
    region: str
    carrier: str
    delayed: int = Field(description="Orders that will miss (or missed) their promise.")
    exception: int = Field(description="Orders with a carrier exception.")
    lost: int = Field(description="Orders reported lost.")
    mean_delay_hours: float | None = Field(
        description="Mean hours past the promise of the orders with a known delay."
    )


class DelayMapPublic(BaseModel):
    items: list[DelayCellPublic]
    totals: dict[str, int] = Field(description="delayed, exception, lost over all cells.")
    ready: bool = Field(description="False while the API is still reading the map's history.")


@router.get(
    "/v1/logistics/delays",
    response_model=DelayMapPublic,
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
)
async def delay_map(_: Viewer, delays: DelaysDep) -> DelayMapPublic:
    """The live delay map (物流延误地图): the most affected region x carrier first."""
    cells = [DelayCellPublic(**asdict(cell)) for cell in delays.cells()]
    totals = {
        "delayed": sum(c.delayed for c in cells),
        "exception": sum(c.exception for c in cells),
        "lost": sum(c.lost for c in cells),
    }
    return DelayMapPublic(items=cells, totals=totals, ready=delays.ready)
