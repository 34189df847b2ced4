"""Rungs L1-L3′ of the ladder: raw aiokafka loops over the same topics the worker reads.

    python -m bench.ladder.passthrough LEVEL --bootstrap HOST:PORT --namespace NS --group G

One consumer on the namespace's raw topics, one producer; per batch: `getmany(max_records=500)`,
`send` every output without awaiting it, wait for the batch's sends, commit the batch. No
auto-commit (an at-least-once loop, like the worker's). The producer is configured like the
worker's Faust producer (acks=all, linger 0, 16 KiB batches, no compression), so the only
difference from the worker is the work per record:

  L1   passthrough: each raw record as it is to `<ns>.valid.events` (same key)
  L2   L1 + kesu's decode and validation (streams/codec.py) + dead letters to `<ns>.dlq`
  L3   L2 + plain `SnowNLP(text).sentiments` on the texts kesu scores (customer utterances,
       posts); the polarity goes in a header of the validated record
  L3p  (L3′) L2 + kesu's own scorer: complaints.contacts.assess_contact, the contact to
       `<ns>.assessments` keyed by case (what the worker's assess stage writes), other
       records validated to `<ns>.valid.events`

Prints "ready" once its scorer is loaded and it is subscribed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from complaints.contacts import assess_contact, case_key_for
from kesu.settings import Settings
from streams.codec import Rejection, dead_letter, decode_event, encode_record
from streams.records import CallUtterance, KafkaOrigin, Speaker, UpstreamEvent
from streams.topics import ASSESSMENTS, DEAD_LETTER_MAX_BYTES, DLQ, RAW, VALID, source_of_raw_topic

LEVELS = ("L1", "L2", "L3", "L3p")
Output = tuple[str, bytes | None, bytes, list[tuple[str, bytes]] | None]


def _scored_text(record: UpstreamEvent) -> str | None:
    """The text assess_contact would score (a customer's utterance or a post), else None."""
    if case_key_for(record) is None:
        return None
    if isinstance(record, CallUtterance) and record.speaker is Speaker.AGENT:
        return None
    text = getattr(record, "text", None)
    return text if isinstance(text, str) else None


def make_step(level: str, namespace: str) -> Callable[[Any], list[Output]]:
    """The per-record work of a rung: raw consumer record -> outputs."""
    valid, dlq, assessments = (
        VALID.name(namespace),
        DLQ.name(namespace),
        ASSESSMENTS.name(namespace),
    )
    limits = Settings(_env_file=None).limits()  # the worker's defaults
    sentiments: Callable[[str], float] | None = None
    if level == "L3":
        from snownlp import SnowNLP

        def sentiments(text: str) -> float:
            return float(SnowNLP(text).sentiments)

        sentiments("预热")  # load snownlp's model now, not on the first event
    elif level == "L3p":
        from complaints.scoring import preload

        preload()

    def step(message: Any) -> list[Output]:
        if level == "L1":
            return [(valid, message.key, message.value, None)]
        now = datetime.now(UTC)
        source = source_of_raw_topic(message.topic, namespace)
        origin = KafkaOrigin(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            timestamp=datetime.fromtimestamp(message.timestamp / 1000, UTC),
        )
        if source is None:
            raise RuntimeError(f"{message.topic} is not a raw topic of {namespace}")
        result = decode_event(source, message.value, now, limits)
        if isinstance(result, Rejection):
            letter = dead_letter(
                result, raw=message.value, key=message.key, now=now, source=source, origin=origin
            )
            return [(dlq, letter.dead_letter_id.encode(), encode_record(letter), None)]
        headers = [
            ("kesu-origin", f"{message.topic}/{message.partition}/{message.offset}".encode())
        ]
        if level == "L3p":
            contact = assess_contact(result)
            if contact is not None:
                return [(assessments, contact.case_key.encode(), encode_record(contact), None)]
        elif level == "L3" and sentiments is not None:
            text = _scored_text(result)
            if text is not None:
                headers.append(("kesu-polarity", repr(sentiments(text)).encode()))
        return [(valid, result.dedupe_key.encode(), encode_record(result), headers)]

    return step


async def run(level: str, bootstrap: str, namespace: str, group: str) -> None:
    step = make_step(level, namespace)
    consumer = AIOKafkaConsumer(
        *(spec.name(namespace) for spec in RAW.values()),
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Paused (SIGSTOP) while the corpus is published: keep its place in the group.
        session_timeout_ms=30_000,
        heartbeat_interval_ms=3_000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=0,
        max_batch_size=16384,
        max_request_size=DEAD_LETTER_MAX_BYTES + 64 * 1024,
    )
    await producer.start()
    await consumer.start()
    print("ready", flush=True)
    try:
        while True:
            batch = await consumer.getmany(max_records=500, timeout_ms=500)
            sends = []
            for records in batch.values():
                for message in records:
                    for topic, key, value, headers in step(message):
                        sends.append(await producer.send(topic, value, key=key, headers=headers))
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("level", choices=LEVELS)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--group", required=True)
    args = parser.parse_args()
    try:
        asyncio.run(run(args.level, args.bootstrap, args.namespace, args.group))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
