"""The FastAPI application factory: routes, error shape, and the Kafka producer's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.delay_view import DelayView
from api.errors import install_error_handlers
from api.gauges import refresh_forever
from api.guard import RequestGuard
from api.keystore import KeyStore
from api.openapi import install_openapi
from api.publisher import EventPublisher
from api.push_view import PushView
from api.routes import (
    alerts,
    callbacks,
    dashboard,
    health,
    ingest,
    logistics,
    silences,
    stream,
    subscriptions,
    surges,
)
from api.view import AlertView
from kesu.local_keys import ensure_callback_secret, pseudonym_key
from kesu.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """An API bound to `settings`; Kafka is connected lazily, so it starts even when Kafka is down."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.publisher = EventPublisher(settings)
        app.state.keys = KeyStore(settings.api_keys_path)
        app.state.view = AlertView(settings)
        app.state.push_view = PushView(settings)
        app.state.callback_secret = ensure_callback_secret(settings).encode()
        app.state.pseudonym_key = pseudonym_key(settings)
        await app.state.view.start()
        app.state.delays = DelayView(settings)
        await app.state.delays.start()
        await app.state.push_view.start()
        gauges = asyncio.create_task(refresh_forever(settings, app.state.view), name="gauges")
        try:
            yield
        finally:
            gauges.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gauges
            await app.state.push_view.stop()
            await app.state.delays.stop()
            await app.state.view.stop()
            await app.state.publisher.stop()

    app = FastAPI(
        title="kesu 客诉 API",
        version="0.1.0",
        summary="Real-time complaint monitoring: ingestion, alerts and status.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestGuard, settings=settings)
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(stream.router)  # before /v1/alerts/{alert_id}
    app.include_router(alerts.router)
    app.include_router(surges.router)
    app.include_router(logistics.router)
    app.include_router(subscriptions.router)
    app.include_router(subscriptions.messages)
    app.include_router(silences.router)
    app.include_router(callbacks.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=dashboard.STATIC), name="static")

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    return app
