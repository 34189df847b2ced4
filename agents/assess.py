"""Clean call, social and logistics records -> scored contacts on the assessments topic.

Thin: complaints.contacts decides what is a contact, whose case it is, and scores it; this
agent reads, calls it, and publishes keyed by case so the engine's state is co-partitioned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import faust

from agents.kafka_io import bytes_topic, dead_letter_message, log_failure, processing_failed
from agents.sending import send_confirmed
from complaints.contacts import assess_contact
from kesu.metrics import CONTACTS_ASSESSED, SCORING_SECONDS
from kesu.settings import Settings
from streams.codec import decode_valid, encode_record
from streams.records import Source
from streams.topics import ASSESSMENTS, CLEAN, DLQ

#: Sources whose records can be a customer's contact (activity signals are handled elsewhere).
CONTACT_SOURCES = (Source.CALL, Source.SOCIAL, Source.LOGISTICS)


def register(app: faust.App, settings: Settings, clock: Callable[[], datetime]) -> None:
    namespace = settings.namespace
    clean = bytes_topic(app, *(CLEAN[source].name(namespace) for source in CONTACT_SOURCES))
    assessments = ASSESSMENTS.name(namespace)
    dlq = DLQ.name(namespace)

    @app.agent(clean, name="assess", concurrency=1)
    async def assess(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                started = time.perf_counter()
                contact = assess_contact(decode_valid(message.value or b""))
                SCORING_SECONDS.observe(time.perf_counter() - started)
                if contact is None:
                    continue
                await send_confirmed(
                    app, assessments, key=contact.case_key.encode(), value=encode_record(contact)
                )
                score = contact.assessment
                CONTACTS_ASSESSED.labels(
                    contact.source.value,
                    score.emotion.value if score else "none",
                    str(score.negative).lower() if score else "none",
                ).inc()
            except Exception as exc:  # a poison pill must not stop the partition
                log_failure("assess", message, exc)
                await dead_letter_message(app, dlq, processing_failed(exc), message, clock())
