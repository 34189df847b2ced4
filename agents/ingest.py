"""Raw upstream records -> validated, de-duplicated, scored and routed, in one stage.

One agent on the raw topics (and, for records not keyed by their event id, `kesu.valid.events`)
does what four hops did before (validate, dedupe, assess, and the logistics/churn re-keying):

1. validate (streams/codec) and replace personal data in ids by pseudonyms
   (complaints/identifiers); a refused record becomes a dead letter with its exact bytes;
2. de-duplicate by `source:event_id` in the `seen-events` table. A table partition holds the
   ids of one input partition, so an id must always arrive on the same partition number: a
   raw record already on the partition its event id hashes to (an upstream that keys by
   event id, as the API does) is handled where it is; any other is re-keyed once by its
   event id to `kesu.valid.events` (same partition count) and handled there;
3. for a first delivery: the clean record (`kesu.clean.<source>`, the contract other teams
   read); a customer's contact scored and keyed by its case (`kesu.assessments`), and, when
   negative, once per surge key it counts toward (`kesu.surge.contacts`, compact and folded:
   one record per key of a batch) and once, as a masked
   voice, to the grouping stage for emerging issues (`kesu.grouping.reports`, folded the same
   way: one `IssueVoices` record per batch); a shipment
   change keyed by its order (`kesu.logistics.changes`); an activity keyed by its customer
   (`kesu.churn.activity`). The id is marked seen once those are acknowledged (agents/batches),
   so a crash in between re-sends (at-least-once), it never loses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from agents.batches import Batch, consume_in_batches
from agents.bench_scores import text_scorer
from agents.grouping import GROUPS_KEY
from agents.kafka_io import bytes_topic, expiring_changelog, message_time
from complaints.contacts import assess_contact
from complaints.emerging_incidents import voice_for
from complaints.identifiers import without_personal_identifiers
from complaints.rules import RuleBook
from complaints.scoring import score_text
from complaints.surge_track import counted_contact
from kesu.local_keys import pseudonym_key
from kesu.metrics import CONTACTS_ASSESSED, EVENTS_IN, SCORING_SECONDS, SURGE_CONTACTS_COUNTED
from kesu.settings import Settings
from streams.codec import Limits, Rejection, decode_event, decode_valid, encode_record
from streams.records import (
    CustomerActivity,
    IssueVoice,
    IssueVoices,
    LogisticsChange,
    RejectReason,
    Source,
    SurgeContact,
    SurgeContacts,
    UpstreamEvent,
)
from streams.topics import (
    ASSESSMENTS,
    CHURN_ACTIVITY,
    CLEAN,
    DLQ,
    GROUP_REPORTS,
    LOGISTICS_CHANGES,
    RAW,
    SURGE_CONTACTS,
    VALID,
    source_of_raw_topic,
)

log = logging.getLogger(__name__)

ORIGIN_HEADER = "kesu-origin"

#: The worker judges an event's age a little more leniently than the API did: an event the API
#: accepted at the 30-day edge must not be dead-lettered as stale a moment later.
AGE_GRACE = timedelta(minutes=1)


def register(
    app: faust.App, settings: Settings, rules: RuleBook, clock: Callable[[], datetime]
) -> None:
    """Add the ingest agent (and the seen-ids table) to `app`."""
    batch_window = settings.worker_batch_window.total_seconds()
    namespace = settings.namespace
    limits = worker_limits(settings)
    identifiers_key = pseudonym_key(settings)
    valid_name = VALID.name(namespace)
    clean_names = {source: CLEAN[source].name(namespace) for source in Source}
    assessments = ASSESSMENTS.name(namespace)
    changes, activity = LOGISTICS_CHANGES.name(namespace), CHURN_ACTIVITY.name(namespace)
    surge_contacts = SURGE_CONTACTS.name(namespace)
    group_reports = GROUP_REPORTS.name(namespace)
    emerging = rules.emerging.enabled
    pipeline = settings.pipeline_partitions
    scorer = text_scorer(settings.bench_scores)  # score_text unless a benchmark says otherwise
    inputs = bytes_topic(
        app,
        *(RAW[source].name(namespace) for source in Source),
        valid_name,
        allow_empty=True,
        partitions=pipeline,
    )
    seen = app.Table(
        "seen-events",
        partitions=VALID.partition_count(pipeline),
        key_type=str,
        value_type=int,
        help="First-seen event ids (source:event_id -> occurred_at epoch seconds).",
        extra_topic_configs=seen_changelog_config(settings),
    )

    def first_delivery(record: UpstreamEvent, origin: bytes, batch: Batch) -> None:
        """Route a record seen for the first time; mark it seen."""
        source = record.SOURCE
        body = encode_record(record)
        event_key = record.event_id.encode()
        batch.send(clean_names[source], key=event_key, value=body, headers={ORIGIN_HEADER: origin})
        if isinstance(record, LogisticsChange):
            batch.send(changes, key=record.order_id.encode(), value=body)
        if isinstance(record, CustomerActivity):
            batch.send(activity, key=record.customer_id.encode(), value=body)
        else:
            started = time.perf_counter()
            contact = assess_contact(record, scorer)
            SCORING_SECONDS.observe(time.perf_counter() - started)
            if contact is not None:
                contact_body = encode_record(contact)
                batch.send(assessments, key=contact.case_key.encode(), value=contact_body)
                counted = counted_contact(contact, rules.surge)
                for surge_key in counted.keys if counted is not None else ():
                    batch.send_folded(
                        surge_contacts, key=surge_key.encode(), item=counted, encode=_surge_record
                    )
                    SURGE_CONTACTS_COUNTED.labels(surge_key.partition(":")[0]).inc()
                voice = voice_for(contact, rules) if emerging else None
                if voice is not None:  # emerging issues (agents/grouping.py)
                    batch.send_folded(
                        group_reports,
                        key=GROUPS_KEY,
                        item=voice,
                        encode=_voices_record,
                        max_items=VOICES_PER_RECORD,
                    )
                score = contact.assessment
                CONTACTS_ASSESSED.labels(
                    contact.source.value,
                    score.emotion.value if score else "none",
                    str(score.negative).lower() if score else "none",
                ).inc()
        batch.put(seen, record.dedupe_key, int(record.occurred_at.timestamp()))
        EVENTS_IN.labels(source.value, "clean").inc()

    def handle(event: faust.types.EventT, batch: Batch) -> None:
        message = event.message
        if message.topic == valid_name:
            record = decode_valid(message.value or b"")
            origin = _header(message, ORIGIN_HEADER) or _origin_text(message).encode()
        else:
            source = source_of_raw_topic(message.topic, namespace)
            if source is None:
                reject(
                    event,
                    batch,
                    Rejection(
                        RejectReason.UNKNOWN_SOURCE,
                        f"topic {message.topic} is not a kesu raw topic",
                    ),
                    None,
                )
                return
            result = decode_event(source, message.value, judged_at(message, clock()), limits)
            if isinstance(result, Rejection):
                reject(event, batch, result, source)
                return
            record = without_personal_identifiers(result, identifiers_key)
            origin = _origin_text(message).encode()
            route = record.event_id.encode()
            if message.partition != partition_for(route, pipeline):
                batch.send(
                    valid_name,
                    key=route,
                    value=encode_record(record),
                    headers={ORIGIN_HEADER: origin},
                )
                return
        if batch.get(seen, record.dedupe_key) is not None:
            EVENTS_IN.labels(record.SOURCE.value, "duplicate").inc()
            return
        first_delivery(record, origin, batch)

    def reject(
        event: faust.types.EventT, batch: Batch, rejection: Rejection, source: Source | None
    ) -> None:
        batch.dead_letter(event, rejection, source)
        EVENTS_IN.labels(source.value if source else "unknown", "dead_letter").inc()

    @app.agent(inputs, name="ingest", concurrency=1)
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        await consume_in_batches(
            app,
            stream,
            name="ingest",
            dlq_topic=DLQ.name(namespace),
            clock=clock,
            handle=handle,
            within=batch_window,
        )


def preload_scorer(settings: Settings) -> float:
    """Load the scorer's lexicons and models now; the seconds it took.

    The worker calls it before it joins its group: loaded lazily, the first contact of every
    start (and the first after each rebalance onto a fresh process) waits seconds for it while
    its partitions' records queue behind it.
    """
    started = time.perf_counter()
    text_scorer(settings.bench_scores)
    if settings.bench_scores is None:
        score_text("快递三天没到，客服也不回复，太失望了", Source.CALL, None)
    return time.perf_counter() - started


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java, kafka-python and
    aiokafka clients) puts `key` on."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


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
    validation before it is ever looked up, so a seen id is needed that long after it was
    written, not forever: the changelog is compacted and also deleted after that (plus a day of
    margin), which bounds its size and the time a new worker spends recovering it. Faust sets
    this when it creates the topic; an existing one is altered by hand (README).
    """
    return expiring_changelog(settings.max_event_age + settings.max_future_skew + timedelta(days=1))


def _surge_record(contacts: list[SurgeContact]) -> bytes:
    return encode_record(SurgeContacts(contacts=tuple(contacts)))


#: A voice is at most ~6.5 KB (2,000 masked characters): 64 stay well inside a 1 MB record.
VOICES_PER_RECORD = 64


def _voices_record(voices: list[IssueVoice]) -> bytes:
    return encode_record(IssueVoices(voices=tuple(voices)))


def _origin_text(message: faust.types.Message) -> str:
    return f"{message.topic}/{message.partition}/{message.offset}"


def _header(message: faust.types.Message, name: str) -> bytes | None:
    headers: Any = message.headers or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    return next((value for key, value in pairs if key == name and isinstance(value, bytes)), None)
