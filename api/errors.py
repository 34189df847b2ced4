"""One error shape for every failure the API reports, and the handlers that produce it."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.models import ErrorResponse, ItemRejection, ProblemDetail


class ApiError(Exception):
    """An answer other than success: status, reason code, message, and per-event rejections."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        rejected: list[ItemRejection] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorResponse(
            error=ProblemDetail(reason=reason, message=message), rejected=rejected or []
        )
        self.headers = headers


def _respond(
    status: int, body: ErrorResponse, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Make framework errors (404, 405, request validation) answer in the same shape as ours."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _respond(exc.status, exc.body, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        body = ErrorResponse(error=ProblemDetail(reason=reason, message=str(exc.detail)))
        return _respond(exc.status_code, body, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = "; ".join(
            ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in exc.errors()[:5]
        )
        body = ErrorResponse(
            error=ProblemDetail(reason="INVALID_REQUEST", message=fields or "invalid request")
        )
        return _respond(422, body)
