"""Active surges for the dashboard: which keys are far above their baseline, and about what.

A surge is an alert of kind `surge` (the engine keeps its lifecycle); this is a narrower,
ranked view of the open ones, in the shape the dashboard's surge panel reads.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ViewDep, Viewer
from api.models import ErrorResponse
from complaints.masking import mask_personal_data
from complaints.surge_sample import DIMENSION_LABELS
from streams.records import TIER_LABELS, Alert, AlertKind, AlertStatus, SurgeDetail

router = APIRouter(tags=["surges"])

_OPEN = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.WAITING)


class SurgeItem(BaseModel):
    alert_id: str
    key: str = Field(description="dimension:value, e.g. batch:B2511-07.")
    dimension: str
    value: str
    label: str = Field(description="For people: 批次 B2511-07.")
    count: int = Field(description="Negative contacts in the scan that decided.")
    expected: float = Field(description="What the key's baseline expected for that scan.")
    ratio: float
    window_minutes: int
    new_key: bool
    keywords: list[str]
    examples: list[str] = Field(description="Masked example texts.")
    tier: int
    tier_label: str
    status: str
    opened_at: datetime
    updated_at: datetime


class SurgePage(BaseModel):
    items: list[SurgeItem]
    total: int


def active_surges(alerts: list[Alert]) -> list[Alert]:
    """Open surge alerts, the most pronounced first."""
    chosen = [a for a in alerts if a.kind is AlertKind.SURGE and a.surge and a.status in _OPEN]
    return sorted(chosen, key=lambda a: (-(a.surge.ratio if a.surge else 0), a.alert_id))


def _item(alert: Alert, surge: SurgeDetail) -> SurgeItem:
    label = DIMENSION_LABELS.get(surge.dimension, surge.dimension)
    return SurgeItem(
        alert_id=alert.alert_id,
        key=f"{surge.dimension}:{surge.value}",
        dimension=surge.dimension,
        value=surge.value,
        label=f"{label} {surge.value}",
        count=surge.count,
        expected=round(surge.expected, 1),
        ratio=round(surge.ratio, 1),
        window_minutes=surge.window_minutes,
        new_key=surge.new_key,
        keywords=list(surge.keywords),
        examples=[mask_personal_data(t).text for t in surge.examples],
        tier=alert.tier,
        tier_label=TIER_LABELS[alert.tier],
        status=alert.status.value,
        opened_at=alert.opened_at,
        updated_at=alert.updated_at,
    )


@router.get(
    "/v1/surges",
    response_model=SurgePage,
    responses={
        401: {"model": ErrorResponse, "description": "No or unknown API key."},
        403: {"model": ErrorResponse, "description": "The key's role may not do this."},
    },
    summary="Active surges of negative contacts, most pronounced first",
)
async def list_surges(view: ViewDep, _caller: Viewer) -> SurgePage:
    surges = active_surges(list(view.alerts.values()))
    return SurgePage(items=[_item(a, a.surge) for a in surges if a.surge], total=len(surges))
