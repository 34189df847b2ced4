"""The OpenAPI document: FastAPI's, plus the upstream records' schemas the ingestion body
refers to (the route reads its body by hand, so FastAPI cannot describe it by itself)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from streams.records import RECORD_FOR_SOURCE


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` include every upstream record's JSON Schema under components."""

    def document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in RECORD_FOR_SOURCE.values():
            record = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(record.pop("$defs", {}))
            components[model.__name__] = record
        app.openapi_schema = schema
        return schema

    app.openapi = document  # type: ignore[method-assign]
