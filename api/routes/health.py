"""Liveness and readiness, for process supervisors and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PublisherDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Kafka is reachable, so accepted events can be published",
    response_model=None,
)
async def readyz(publisher: PublisherDep) -> JSONResponse:
    if await publisher.ready():
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        status_code=503,
        content={
            "error": {"reason": "KAFKA_UNAVAILABLE", "message": "Kafka is not reachable"},
            "rejected": [],
        },
        headers={"Retry-After": "5"},
    )
