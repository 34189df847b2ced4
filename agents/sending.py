"""Publish one record and wait until Kafka has acknowledged it (acks=all), retrying until it has.

Agents call this before they advance: Faust commits a source offset once the event is
acked, and an output that was only buffered when the worker crashed would be lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import faust
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from faust.exceptions import ProducerSendError

from kesu.metrics import KAFKA_SEND_REFUSED, KAFKA_SEND_RETRIES

log = logging.getLogger(__name__)

_FIRST_DELAY = 0.2
_MAX_DELAY = 5.0
#: Answers that no retry can change: the record itself is too large for the topic.
PERMANENT = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)


class RecordRefused(Exception):
    """Kafka will never take this record (it is too large for the topic); retrying would block
    the partition for good, so the caller must send something else (a dead letter instead of
    the output, a smaller dead letter instead of a large one)."""

    def __init__(self, topic: str, error: BaseException) -> None:
        super().__init__(f"{topic} refused the record: {type(error).__name__}")
        self.topic = topic


def cause_of(exc: BaseException) -> BaseException:
    """Faust wraps the client's error in ProducerSendError; the client's is what tells."""
    return exc.__cause__ if isinstance(exc, ProducerSendError) and exc.__cause__ else exc


async def send_confirmed(
    app: faust.App,
    topic: str,
    *,
    key: bytes | None,
    value: bytes | None,
    headers: Mapping[str, bytes] | None = None,
) -> None:
    """Send and wait for the broker's acknowledgement; on failure back off and try again.

    Blocking here is deliberate: while Kafka cannot take the output, the input must not be
    committed. Shutdown cancels the wait, and the unacknowledged input is read again later.
    A record Kafka can never take raises RecordRefused instead of blocking forever.
    A None value is a tombstone (it deletes the key from a compacted topic).
    """
    delay = _FIRST_DELAY
    header_list = list(headers.items()) if headers else None
    while True:
        try:
            await app.producer.send_and_wait(
                topic, key, value, partition=None, timestamp=None, headers=header_list
            )
            return
        except (KafkaError, ProducerSendError) as exc:
            if isinstance(cause_of(exc), PERMANENT):
                KAFKA_SEND_REFUSED.labels(topic).inc()
                raise RecordRefused(topic, cause_of(exc)) from exc
            KAFKA_SEND_RETRIES.labels(topic).inc()
            log.warning(
                "send to %s failed (%s); retrying in %.1f s", topic, type(exc).__name__, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY)
