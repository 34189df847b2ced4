"""Liveness and readiness, for process supervisors and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PublisherDep, ViewDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="Kafka is reachable and the alert view has caught up", response_model=None
)
async def readyz(publisher: PublisherDep, view: ViewDep) -> JSONResponse:
    if await publisher.ready() and view.ready:
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        status_code=503,
        content={
            "error": {
                "reason": "NOT_READY",
                "message": "Kafka is not reachable or the alert view is still loading",
            },
            "rejected": [],
        },
        headers={"Retry-After": "5"},
    )
