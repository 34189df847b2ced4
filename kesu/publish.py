"""Publishing JSON-lines files to kesu's raw topics with kafka-python (what upstream teams run).

Lines are sent exactly as they are — the worker validates and dead-letters — keyed by their
event_id when one can be read. `check_only` validates locally instead, publishing nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kafka import KafkaProducer

from kesu.kafka_config import kafka_python_options
from kesu.settings import Settings
from streams.codec import Rejection, decode_event
from streams.records import Source
from streams.topics import RAW


@dataclass
class PublishReport:
    """What happened to each line: how many were sent and acknowledged, which failed and why."""

    sent: int = 0
    acknowledged: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason: message)
    failed: list[tuple[int, str]] = field(default_factory=list)


def read_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines with their 1-based numbers, line endings stripped."""
    for number, line in enumerate(lines, start=1):
        stripped = line.rstrip(b"\r\n")
        if stripped.strip():
            yield number, stripped


def event_key(value: bytes) -> bytes | None:
    """The event_id of a line as the Kafka key (so retries land together), if it has one."""
    try:
        event_id = json.loads(value).get("event_id")
    except (ValueError, AttributeError):
        return None
    return event_id.encode() if isinstance(event_id, str) and event_id else None


def check_lines(source: Source, lines: Iterable[bytes], settings: Settings) -> PublishReport:
    """Validate every line as the worker would, publishing nothing."""
    report = PublishReport()
    limits, now = settings.limits(), datetime.now(UTC)
    for number, value in read_lines(lines):
        result = decode_event(source, value, now, limits)
        if isinstance(result, Rejection):
            report.invalid.append((number, f"{result.reason.value}: {result.message}"))
        else:
            report.acknowledged += 1
    return report


def publish_lines(
    source: Source,
    lines: Iterable[bytes],
    settings: Settings,
    progress: Callable[[int], None] = lambda sent: None,
) -> PublishReport:
    """Send each line to the source's raw topic and wait for Kafka to acknowledge all of them."""
    report = PublishReport()
    topic = RAW[source].name(settings.namespace)
    producer = KafkaProducer(
        **kafka_python_options(settings),
        client_id=f"{settings.namespace}-publish",
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        max_request_size=2 * 1024 * 1024,
    )
    pending = []
    last_progress = time.monotonic()
    try:
        for number, value in read_lines(lines):
            pending.append((number, producer.send(topic, key=event_key(value), value=value)))
            report.sent += 1
            if time.monotonic() - last_progress > 1.0:
                progress(report.sent)
                last_progress = time.monotonic()
        producer.flush()
        for number, future in pending:
            try:
                future.get(timeout=30)
                report.acknowledged += 1
            except Exception as exc:  # each failure is reported with its line number
                report.failed.append((number, type(exc).__name__))
    finally:
        producer.close()
    return report
