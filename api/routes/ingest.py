"""POST /v1/events/{source}: events from upstreams that cannot speak Kafka.

Same records and limits as the Kafka path; a request is accepted whole or not at all, and
202 is answered only after Kafka acknowledged every event (acks=all).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from api.body import read_bounded, require_json
from api.deps import Ingester, NowDep, PublisherDep, SettingsDep
from api.errors import ApiError
from api.models import ErrorResponse, IngestAccepted, ItemRejection
from api.publisher import EventPublisher, KafkaUnavailable
from kesu.metrics import HTTP_INGEST, HTTP_INGEST_REQUESTS, PUBLISH_SECONDS
from kesu.settings import Settings
from streams.codec import Rejection, check_batch, encode_record, parse_json
from streams.records import RECORD_FOR_SOURCE, RejectReason, Source
from streams.topics import RAW

router = APIRouter(tags=["ingestion"])

#: Request-level reasons that mean "this is not well-formed JSON we can read".
_MALFORMED = {
    RejectReason.EMPTY,
    RejectReason.NOT_UTF8,
    RejectReason.NOT_JSON,
    RejectReason.UNSAFE_NUMBER,
    RejectReason.TOO_DEEP,
    RejectReason.DUPLICATE_KEY,
    RejectReason.NOT_AN_OBJECT,
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorResponse,
        "description": "Body is not UTF-8 JSON (an object or an array of objects).",
    },
    413: {
        "model": ErrorResponse,
        "description": "Body, batch or a single event is over its limit.",
    },
    401: {
        "model": ErrorResponse,
        "description": "No or unknown API key (upstreams use an `ingest` key).",
    },
    403: {"model": ErrorResponse, "description": "The key's role may not publish events."},
    415: {"model": ErrorResponse, "description": "Content-Type is not application/json (UTF-8)."},
    422: {
        "model": ErrorResponse,
        "description": "Unknown source, or events that fail validation (one entry each).",
    },
    503: {
        "model": ErrorResponse,
        "description": "Kafka did not acknowledge in time; retry later (same event ids).",
    },
}


#: The body as the route reads it (by hand, bounded, before parsing): one event of the path's
#: source or an array of them. The records' schemas are in components (api.openapi).
INGEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "One event, or an array of up to KESU_HTTP_MAX_BATCH events, of the source "
    "named in the path (see the record schemas: CallUtterance, SocialPost, LogisticsChange, "
    "CustomerActivity).",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    *(
                        {"$ref": f"#/components/schemas/{model.__name__}"}
                        for model in RECORD_FOR_SOURCE.values()
                    ),
                    {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "anyOf": [
                                {"$ref": f"#/components/schemas/{model.__name__}"}
                                for model in RECORD_FOR_SOURCE.values()
                            ]
                        },
                    },
                ]
            }
        }
    },
}


def _status_for(rejection: Rejection) -> int:
    if rejection.reason == RejectReason.TOO_LARGE:
        return 413
    return 400 if rejection.reason in _MALFORMED else 422


def _item(index: int, rejection: Rejection) -> ItemRejection:
    return ItemRejection(
        index=index,
        event_id=rejection.event_id,
        reason=rejection.reason.value,
        message=rejection.message,
        field_errors=list(rejection.field_errors),
    )


@router.post(
    "/v1/events/{source}",
    status_code=202,
    response_model=IngestAccepted,
    responses=_ERRORS,
    summary="Publish events (one JSON object or an array)",
    openapi_extra={"requestBody": INGEST_BODY},
)
async def ingest_events(
    source: Annotated[str, Path(description="call, social, logistics or activity")],
    request: Request,
    settings: SettingsDep,
    publisher: PublisherDep,
    _caller: Ingester,
    now: NowDep,
) -> IngestAccepted:
    """Validate events of one source and publish them to its raw topic.

    The whole request is refused when any event is invalid (the answer lists each one by
    index), so a retry of the corrected request is always safe: event ids de-duplicate.
    """
    try:
        return await _ingest(source, request, settings, publisher, now)
    except ApiError as exc:
        HTTP_INGEST_REQUESTS.labels(str(exc.status)).inc()
        raise
    except Exception:
        HTTP_INGEST_REQUESTS.labels("500").inc()  # counted before the framework answers 500
        raise


async def _ingest(
    source_name: str,
    request: Request,
    settings: Settings,
    publisher: EventPublisher,
    now: datetime,
) -> IngestAccepted:
    if source_name not in Source._value2member_map_:
        raise ApiError(
            422,
            RejectReason.UNKNOWN_SOURCE.value,
            f"source must be one of {', '.join(s.value for s in Source)}",
        )
    source = Source(source_name)
    require_json(request)
    body = await read_bounded(request, settings.http_max_body_bytes)
    limits = settings.limits()
    value = parse_json(body, limits, max_bytes=settings.http_max_body_bytes)
    if isinstance(value, Rejection):
        raise ApiError(_status_for(value), value.reason.value, value.message)
    if isinstance(value, dict) and len(body) > limits.max_payload_bytes:
        raise ApiError(
            413,
            RejectReason.TOO_LARGE.value,
            f"the event is larger than {limits.max_payload_bytes} bytes",
        )
    if not isinstance(value, dict | list):
        raise ApiError(
            400, RejectReason.NOT_AN_OBJECT.value, "send a JSON object or an array of objects"
        )
    checked = check_batch(source, value, now, limits, settings.http_max_batch)
    if checked.problem is not None:
        raise ApiError(
            _status_for(checked.problem), checked.problem.reason.value, checked.problem.message
        )
    if checked.rejected:
        HTTP_INGEST.labels(source.value, "rejected").inc(len(checked.rejected))
        rejected = [_item(index, rejection) for index, rejection in checked.rejected]
        raise ApiError(
            422,
            "INVALID_EVENTS",
            f"{len(rejected)} of {len(checked.records) + len(rejected)} event(s) refused; nothing was published",
            rejected,
        )
    topic = RAW[source].name(settings.namespace)
    started = time.perf_counter()
    try:
        await publisher.publish(
            topic, [(r.event_id.encode(), encode_record(r)) for r in checked.records]
        )
    except KafkaUnavailable as exc:
        raise ApiError(
            503,
            "KAFKA_UNAVAILABLE",
            f"{exc}; nothing is confirmed, retry with the same ids",
            headers={"Retry-After": "5"},
        ) from exc
    PUBLISH_SECONDS.observe(time.perf_counter() - started)
    HTTP_INGEST.labels(source.value, "accepted").inc(len(checked.records))
    HTTP_INGEST_REQUESTS.labels("202").inc()
    ids = [r.event_id for r in checked.records]
    return IngestAccepted(accepted=ids, count=len(ids), topic=topic)
