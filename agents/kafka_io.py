"""What every agent does at its Kafka edges: declare raw-bytes topics, dead-letter a message."""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from agents.sending import RecordRefused, send_confirmed
from kesu.metrics import DEAD_LETTERS
from streams.codec import Rejection, dead_letter, encode_record, without_copies
from streams.records import EARLIEST, LATEST, KafkaOrigin, RejectReason, Source

log = logging.getLogger(__name__)


def bytes_topic(app: faust.App, *names: str, **extra: Any) -> faust.TopicT:
    """A topic whose keys and values reach the agent as the exact bytes (streams/codec parses)."""
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        **extra,
    )


def expiring_changelog(keep: timedelta) -> dict[str, str]:
    """Topic configs for a table changelog that is compacted and also forgets after `keep`
    (Faust applies them when it creates the topic)."""
    return {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(int(keep.total_seconds() * 1000)),
    }


def origin_of(message: faust.types.Message) -> KafkaOrigin:
    """Where `message` was read; a producer-set timestamp outside the calendar is left out."""
    timestamp = message_time(message)
    if timestamp is not None and not EARLIEST <= timestamp < LATEST:
        timestamp = None
    return KafkaOrigin(
        topic=message.topic, partition=message.partition, offset=message.offset, timestamp=timestamp
    )


def message_time(message: faust.types.Message) -> datetime | None:
    """The record's Kafka timestamp (the producer's clock, or the broker's), if it has one."""
    try:
        return datetime.fromtimestamp(message.timestamp, UTC) if message.timestamp else None
    except (OverflowError, OSError, ValueError):  # any 64-bit value can be set by a producer
        return None


def log_failure(agent: str, message: faust.types.Message, exc: Exception) -> None:
    """Log where processing failed — exception type and stack, never its message, which may quote
    the payload (pydantic's do)."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "%s failed on %s/%s/%s: %s\n%s",
        agent,
        message.topic,
        message.partition,
        message.offset,
        type(exc).__name__,
        stack,
    )


def processing_failed(exc: Exception) -> Rejection:
    # The exception text may quote the payload, so only its type is kept.
    return Rejection(RejectReason.PROCESSING_FAILED, f"processing raised {type(exc).__name__}")


async def dead_letter_message(
    app: faust.App,
    dlq_topic: str,
    rejection: Rejection,
    message: faust.types.Message,
    now: datetime,
    source: Source | None = None,
) -> None:
    """Publish `message` (exact bytes, origin, reason) to the dead-letter topic and count it.

    If the topic refuses the letter (its size limit was lowered below ours), the letter goes
    again without the copy of the original, which stays readable at its origin: a dead letter
    must never block the partition it came from.
    """
    letter = dead_letter(
        rejection,
        raw=message.value,
        key=message.key,
        now=now,
        source=source,
        origin=origin_of(message),
    )
    try:
        await send_confirmed(
            app, dlq_topic, key=letter.dead_letter_id.encode(), value=encode_record(letter)
        )
    except RecordRefused:
        letter = without_copies(letter)
        await send_confirmed(
            app, dlq_topic, key=letter.dead_letter_id.encode(), value=encode_record(letter)
        )
    DEAD_LETTERS.labels(rejection.reason.value).inc()
    log.info(
        "dead-lettered %s/%s/%s: %s",
        message.topic,
        message.partition,
        message.offset,
        rejection.reason.value,
    )
