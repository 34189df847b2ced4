"""Upstream record -> the contact the response engine reasons about (or None: not a contact).

Pure. Decides whose case an event belongs to (the customer; for a social post nobody has
linked to a customer, its author on that platform) and scores the text a customer wrote or
said. Agent utterances and usage signals are not complaints.
"""

from __future__ import annotations

from collections.abc import Callable

from complaints.scoring import score_text
from streams.records import (
    AssessedEvent,
    Assessment,
    CallUtterance,
    LogisticsChange,
    SocialPost,
    Source,
    Speaker,
    UpstreamEvent,
)

#: score_text's signature: (text, channel, speech rate) -> Assessment.
TextScorer = Callable[[str, Source, float | None], Assessment]


def case_key_for(record: UpstreamEvent) -> str | None:
    """customer:<id>, or social:<platform>:<author> for a post not linked to a customer."""
    customer = getattr(record, "customer_id", None)
    if customer:
        return f"customer:{customer}"
    if isinstance(record, SocialPost):
        return f"social:{record.platform.value}:{record.author}"
    return None


def assess_contact(record: UpstreamEvent, score: TextScorer = score_text) -> AssessedEvent | None:
    """The scored contact for a customer's call utterance, post or shipment change; else None.

    `score` is score_text; the ladder benchmark passes a lookup of precomputed assessments.
    """
    key = case_key_for(record)
    if key is None or (isinstance(record, CallUtterance) and record.speaker is Speaker.AGENT):
        return None
    contact = AssessedEvent(
        assessment_id=record.dedupe_key,
        case_key=key,
        source=record.SOURCE,
        event_id=record.event_id,
        occurred_at=record.occurred_at,
        customer_id=getattr(record, "customer_id", None),
        order_id=getattr(record, "order_id", None),
    )
    if isinstance(record, CallUtterance):
        assessment = score(record.text, record.SOURCE, record.speech_rate)
        return contact.model_copy(update={"assessment": assessment})
    if isinstance(record, SocialPost):
        return contact.model_copy(
            update={
                "product": record.product,
                "sku": record.sku,
                "batch": record.batch,
                "region": record.region,
                "platform": record.platform,
                "reach": record.author_followers + record.reposts,
                "assessment": score(record.text, record.SOURCE, None),
            }
        )
    if isinstance(record, LogisticsChange):
        return contact.model_copy(
            update={
                "sku": record.sku,
                "batch": record.batch,
                "region": record.region,
                "carrier": record.carrier,
                "shipment_status": record.status,
            }
        )
    return None
