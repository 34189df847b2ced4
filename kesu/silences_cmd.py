"""`kesu silence add|list|expire`: silences on kesu.push.silences, straight through Kafka.

The same records the API writes (streams.records.Silence); the creator is `--by` (default
"cli:<login name>"), so the record says who did it. Reading lists the compacted topic from the
beginning, the latest record per silence.
"""

from __future__ import annotations

import getpass
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from kesu.kafka_config import kafka_python_options
from kesu.settings import Settings
from notify.formats.text import beijing_time
from notify.silencing import expired, new_silence
from streams.records import Silence
from streams.topics import SILENCES

__all__ = ["add_silence", "default_actor", "describe", "expire_silence", "read_silences"]


def default_actor() -> str:
    """Who runs the CLI, as recorded on the silence."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


def read_silences(settings: Settings) -> dict[str, Silence]:
    """Every silence on the topic, the latest record of each."""
    consumer = KafkaConsumer(
        **kafka_python_options(settings), enable_auto_commit=False, consumer_timeout_ms=1000
    )
    topic = SILENCES.name(settings.namespace)
    try:
        partitions = [
            TopicPartition(topic, p)
            for p in range(SILENCES.partition_count(settings.pipeline_partitions))
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        found: dict[str, Silence] = {}
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    key = (record.key or b"").decode("utf-8", "replace")
                    if record.value is None:
                        found.pop(key, None)
                    else:
                        silence = Silence.model_validate_json(record.value)
                        found[silence.silence_id] = silence
        return found
    finally:
        consumer.close()


def _write(settings: Settings, silence: Silence) -> None:
    producer = KafkaProducer(**kafka_python_options(settings), acks="all", linger_ms=0)
    try:
        producer.send(
            SILENCES.name(settings.namespace),
            key=silence.silence_id.encode(),
            value=silence.model_dump_json().encode("utf-8"),
        ).get(timeout=settings.publish_timeout.total_seconds())
    finally:
        producer.close()


def add_silence(
    settings: Settings,
    matchers: Iterable[str],
    *,
    duration: timedelta,
    comment: str,
    by: str,
    now: datetime,
    starts_at: datetime | None = None,
) -> Silence:
    """Create one silence from `now` (or `starts_at`) for `duration`; raises ValueError."""
    starts = starts_at or now
    silence = new_silence(
        f"sil-{secrets.token_hex(6)}",
        matchers,
        starts_at=starts,
        ends_at=starts + duration,
        created_by=by,
        comment=comment,
        now=now,
    )
    _write(settings, silence)
    return silence


def expire_silence(settings: Settings, silence_id: str, *, by: str, now: datetime) -> Silence:
    """End one silence now; KeyError when there is no such silence."""
    silence = read_silences(settings)[silence_id]
    ended = expired(silence, by=by, now=now)
    if ended is not silence:
        _write(settings, ended)
    return ended


def describe(silence: Silence, now: datetime) -> str:
    """One line: id, state, matchers, span (Beijing time), who and why."""
    state = "生效中" if silence.active(now) else ("未开始" if now < silence.starts_at else "已结束")
    matchers = ", ".join(str(m) for m in silence.matchers)
    ended = (
        f"，{silence.expired_by} 于 {beijing_time(silence.expired_at)} 提前结束"
        if silence.expired_at
        else ""
    )
    return (
        f"{silence.silence_id}  {state}  {matchers}  "
        f"{beijing_time(silence.starts_at)} → {beijing_time(silence.ends_at)}  "
        f"{silence.created_by}：{silence.comment}{ended}"
    )
