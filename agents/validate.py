"""Raw upstream topics -> validated, de-duplicated clean topics; everything else -> dead letters.

Two agents, because upstreams key their records as they like:
  validate: raw record -> DeadLetter, or the record re-keyed by `source:event_id`;
  dedupe:   first delivery of each key -> clean topic, recorded in a table co-partitioned
            with its input (so it holds with several workers and across restarts).
An id is marked seen only after Kafka acknowledged its clean record: a crash in between
re-sends the record (at-least-once), it never loses it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import faust

from agents.kafka_io import (
    bytes_topic,
    dead_letter_message,
    expiring_changelog,
    log_failure,
    message_time,
    processing_failed,
)
from agents.sending import send_confirmed
from complaints.identifiers import without_personal_identifiers
from kesu.local_keys import pseudonym_key
from kesu.metrics import EVENTS_IN
from kesu.settings import Settings
from streams.codec import Limits, Rejection, decode_event, decode_valid, encode_record
from streams.records import RejectReason, Source
from streams.topics import CLEAN, DLQ, RAW, VALID, source_of_raw_topic

log = logging.getLogger(__name__)

ORIGIN_HEADER = "kesu-origin"


def register(app: faust.App, settings: Settings, clock: Callable[[], datetime]) -> None:
    """Add the validate and dedupe agents (and the seen-ids table) to `app`."""
    namespace = settings.namespace
    limits = worker_limits(settings)
    identifiers_key = pseudonym_key(settings)

    raw = bytes_topic(app, *(RAW[source].name(namespace) for source in Source), allow_empty=True)
    valid = bytes_topic(app, VALID.name(namespace), partitions=VALID.partitions)
    clean_names = {source: CLEAN[source].name(namespace) for source in Source}
    dlq_name = DLQ.name(namespace)
    seen = app.Table(
        "seen-events",
        partitions=VALID.partitions,
        key_type=str,
        value_type=int,
        help="First-seen event ids (source:event_id -> occurred_at epoch seconds).",
        extra_topic_configs=seen_changelog_config(settings),
    )

    async def reject(
        rejection: Rejection, message: faust.types.Message, source: Source | None
    ) -> None:
        await dead_letter_message(app, dlq_name, rejection, message, clock(), source)
        EVENTS_IN.labels(source.value if source else "unknown", "dead_letter").inc()

    @app.agent(raw, name="validate", concurrency=1)
    async def validate(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            source = source_of_raw_topic(message.topic, namespace)
            try:
                if source is None:
                    await reject(
                        Rejection(
                            RejectReason.UNKNOWN_SOURCE,
                            f"topic {message.topic} is not a kesu raw topic",
                        ),
                        message,
                        None,
                    )
                    continue
                result = decode_event(source, message.value, judged_at(message, clock()), limits)
                if isinstance(result, Rejection):
                    await reject(result, message, source)
                    continue
                result = without_personal_identifiers(result, identifiers_key)
                await send_confirmed(
                    app,
                    VALID.name(namespace),
                    key=result.dedupe_key.encode(),
                    value=encode_record(result),
                    headers={ORIGIN_HEADER: _origin_text(message).encode()},
                )
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("validate", message, exc)
                await reject(processing_failed(exc), message, source)

    @app.agent(valid, name="dedupe", concurrency=1)
    async def dedupe(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                key = (message.key or b"").decode("utf-8")
                record = decode_valid(message.value or b"")
                if key in seen:
                    EVENTS_IN.labels(record.SOURCE.value, "duplicate").inc()
                    continue
                await send_confirmed(
                    app,
                    clean_names[record.SOURCE],
                    key=record.event_id.encode(),
                    value=message.value or b"",
                    headers=_headers(message),
                )
                seen[key] = int(record.occurred_at.timestamp())
                EVENTS_IN.labels(record.SOURCE.value, "clean").inc()
            except Exception as exc:
                log_failure("dedupe", message, exc)
                await reject(processing_failed(exc), message, None)


#: The worker judges an event's age a little more leniently than the API did: an event the API
#: accepted at the 30-day edge must not be dead-lettered as stale a moment later.
AGE_GRACE = timedelta(minutes=1)


def worker_limits(settings: Settings) -> Limits:
    """The ingestion limits, with the worker's grace on the age and clock-skew bounds."""
    limits = settings.limits()
    return replace(
        limits,
        max_age=limits.max_age + AGE_GRACE,
        max_future_skew=limits.max_future_skew + AGE_GRACE,
    )


def judged_at(message: faust.types.Message, now: datetime) -> datetime:
    """The moment an event's age is judged at: when it was published (the API's decision time,
    or an upstream's), unless that lies in the future. A backlog read days later is judged as
    it was when it arrived, not as stale."""
    published = message_time(message)
    return min(published, now) if published is not None else now


def seen_changelog_config(settings: Settings) -> dict[str, str]:
    """The seen-ids changelog forgets what can no longer come back as a duplicate.

    An event older than `max_event_age` (plus the clock-skew allowance) is dead-lettered by
    validation before dedupe ever sees it, so a seen id is needed that long after it was
    written, not forever: the changelog is compacted and also deleted after that (plus a day of
    margin), which bounds its size and the time a new worker spends recovering it. Faust sets
    this when it creates the topic; an existing one is altered by hand (README).
    """
    return expiring_changelog(settings.max_event_age + settings.max_future_skew + timedelta(days=1))


def _origin_text(message: faust.types.Message) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


def _headers(message: faust.types.Message) -> dict[str, bytes]:
    """The message's headers as a dict (Faust gives a list of pairs or a mapping)."""
    headers: Any = message.headers or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {str(name): value for name, value in pairs if isinstance(value, bytes)}
