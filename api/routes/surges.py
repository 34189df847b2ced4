"""Active surges for the dashboard: which keys are far above their baseline, and about what;
and the emerging issues (新问题): many customers describing the same problem, with or without a
shared key.

Both are alerts of kind `surge` (the engine keeps their lifecycle); this is a narrower, ranked
view of the open ones, in the shape the dashboard's surge panel reads. An emerging issue has
no baseline, so its `expected`, `ratio` and `window_minutes` are null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ViewDep, Viewer
from api.models import ErrorResponse
from complaints.masking import mask_personal_data
from complaints.surge_sample import DIMENSION_LABELS
from streams.records import TIER_LABELS, Alert, AlertKind, AlertStatus, GroupDetail, SurgeDetail

router = APIRouter(tags=["surges"])

_OPEN = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.WAITING)


class SurgeItem(BaseModel):
    alert_id: str
    kind: Literal["key", "emerging_issue"] = Field(
        description="key: a key far above its baseline; emerging_issue: customers describing "
        "the same problem (semantic grouping), no baseline."
    )
    key: str = Field(description="dimension:value, e.g. batch:B2511-07; issue:<terms>.")
    dimension: str = Field(
        description="product, sku, batch, category, region, carrier, channel; issue."
    )
    value: str
    label: str = Field(description="For people: 批次 B2511-07; 新问题 左侧 耳机 无声.")
    count: int = Field(
        description="Negative contacts in the scan that decided; for an issue, its customers."
    )
    expected: float | None = Field(
        description="What the key's baseline expected for that scan (null for an issue)."
    )
    ratio: float | None
    window_minutes: int | None
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


def _is_issue(alert: Alert) -> bool:
    """An emerging-issue parent: a surge-kind parent named by no key."""
    return alert.surge is None and alert.group is not None


def active_surges(alerts: list[Alert]) -> list[Alert]:
    """Open surges, the most pronounced first, then open emerging issues, the largest first."""
    chosen = [
        a
        for a in alerts
        if a.kind is AlertKind.SURGE and (a.surge or _is_issue(a)) and a.status in _OPEN
    ]

    def rank(alert: Alert) -> tuple[int, float, str]:
        if alert.surge is not None:
            return (0, -alert.surge.ratio, alert.alert_id)
        return (1, -(alert.group.member_count if alert.group else 0), alert.alert_id)

    return sorted(chosen, key=rank)


def _alert_fields(alert: Alert) -> dict[str, Any]:
    """What every item says about its alert: which, how urgent, where it stands."""
    return {
        "alert_id": alert.alert_id,
        "tier": alert.tier,
        "tier_label": TIER_LABELS[alert.tier],
        "status": alert.status.value,
        "opened_at": alert.opened_at,
        "updated_at": alert.updated_at,
    }


def _issue_item(alert: Alert, group: GroupDetail) -> SurgeItem:
    keywords = [mask_personal_data(t).text for t in group.keywords]  # from masked texts; again
    terms = " ".join(keywords[:4]) or alert.alert_id
    return SurgeItem(
        kind="emerging_issue",
        key=f"issue:{terms}",
        dimension="issue",
        value=terms,
        label=f"新问题 {terms}",
        count=group.member_count,
        expected=None,
        ratio=None,
        window_minutes=None,
        new_key=True,
        keywords=keywords,
        examples=[mask_personal_data(t).text for t in group.examples],
        **_alert_fields(alert),
    )


def _item(alert: Alert, surge: SurgeDetail) -> SurgeItem:
    label = DIMENSION_LABELS.get(surge.dimension, surge.dimension)
    return SurgeItem(
        kind="key",
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
        **_alert_fields(alert),
    )


@router.get(
    "/v1/surges",
    response_model=SurgePage,
    responses={
        401: {"model": ErrorResponse, "description": "No or unknown API key."},
        403: {"model": ErrorResponse, "description": "The key's role may not do this."},
    },
    summary="Active surges of negative contacts (most pronounced first), then emerging issues",
)
async def list_surges(view: ViewDep, _caller: Viewer) -> SurgePage:
    surges = active_surges(list(view.alerts.values()))
    items = []
    for alert in surges:
        if alert.surge is not None:
            items.append(_item(alert, alert.surge))
        elif alert.group is not None:
            items.append(_issue_item(alert, alert.group))
    return SurgePage(items=items, total=len(items))
