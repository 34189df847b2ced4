"""What routes depend on, as annotated types: settings and the Kafka publisher of this process."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.publisher import EventPublisher
from kesu.settings import Settings


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


SettingsDep = Annotated[Settings, Depends(_settings)]
PublisherDep = Annotated[EventPublisher, Depends(_publisher)]
