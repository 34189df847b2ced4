"""Liveness and readiness, for process supervisors and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PublisherDep, PushViewDep, ViewDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Kafka is reachable and the alert and push views have caught up",
    response_model=None,
)
async def readyz(publisher: PublisherDep, view: ViewDep, push_view: PushViewDep) -> JSONResponse:
    if await publisher.ready() and view.ready and push_view.ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        status_code=503,
        content={
            "error": {
                "reason": "NOT_READY",
                "message": "Kafka is not reachable or the views are still loading",
            },
            "rejected": [],
        },
        headers={"Retry-After": "5"},
    )
