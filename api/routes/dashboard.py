"""The operations dashboard (a static page at /) and /v1/whoami, which the page asks first."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.auth import ROLE_LABELS
from api.deps import Viewer

STATIC = Path(__file__).resolve().parent.parent / "static"

#: The page loads only its own script and style; data only from this origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter()


@router.get("/", include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)


@router.get("/v1/whoami", tags=["auth"], summary="The caller's key name and role")
async def whoami(caller: Viewer) -> dict[str, str]:
    return {"name": caller.name, "role": caller.role.value, "role_label": ROLE_LABELS[caller.role]}
