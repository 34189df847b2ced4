"""Every topic kesu owns: name, partitions, retention, cleanup and what its keys and values are.

One table, used by the topic creator, the Faust app, the HTTP ingestion and the tests.
Names follow `<namespace>.<stage>.<entity>` (namespace defaults to `kesu`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from streams.records import (
    RECORD_FOR_SOURCE,
    AlertAction,
    AlertEvent,
    AssessedEvent,
    CustomerActivity,
    DeadLetter,
    DelayMapEntry,
    GroupNotice,
    GroupReports,
    IssueVoice,
    IssueVoices,
    LogisticsChange,
    Signal,
    Silence,
    Source,
    SurgeContacts,
    SurgeReport,
    Tick,
)

#: Partitions of the pipeline topics unless `KESU_PIPELINE_PARTITIONS` says otherwise: the most
#: workers that can share the load. Tables are co-partitioned with their source topic, so
#: changing it needs a new namespace.
PIPELINE_PARTITIONS = 4
#: A spec's `partitions` when the topic follows the pipeline's partition count.
PIPELINE: None = None
#: Room for a dead letter that carries a 1 MiB original as base64 plus its metadata.
DEAD_LETTER_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TopicSpec:
    """One topic: how it is created and what it carries."""

    stage: str
    entity: str | None
    #: A fixed count, or PIPELINE (None): the deployment's pipeline count (settings).
    partitions: int | None
    retention: timedelta | None
    key: str
    value: str
    compacted: bool = False
    #: Largest record the topic accepts; None keeps the broker default (1 MiB).
    max_message_bytes: int | None = None

    def name(self, namespace: str) -> str:
        """Full topic name in a namespace, e.g. `kesu.raw.call` or `kesu.dlq`."""
        parts = [namespace, self.stage] + ([self.entity] if self.entity else [])
        return ".".join(parts)

    def partition_count(self, pipeline: int) -> int:
        """Partitions of this topic in a deployment whose pipeline topics have `pipeline`."""
        return pipeline if self.partitions is None else self.partitions

    def config(self) -> dict[str, str]:
        """Topic-level Kafka configuration."""
        config = {"cleanup.policy": "compact" if self.compacted else "delete"}
        config["retention.ms"] = (
            "-1" if self.retention is None else str(int(self.retention.total_seconds() * 1000))
        )
        if self.max_message_bytes is not None:
            config["max.message.bytes"] = str(self.max_message_bytes)
        return config


RAW: dict[Source, TopicSpec] = {
    source: TopicSpec(
        stage="raw",
        entity=source.value,
        partitions=PIPELINE,
        retention=timedelta(days=7),
        key="event_id (recommended; any key is accepted)",
        value=f"{RECORD_FOR_SOURCE[source].__name__} as UTF-8 JSON",
    )
    for source in Source
}

#: Validated records, re-keyed by `source:event_id` so that de-duplication state is
#: co-partitioned with its input whatever key the upstream used.
VALID = TopicSpec(
    stage="valid",
    entity="events",
    partitions=PIPELINE,
    retention=timedelta(days=1),
    key="source:event_id",
    value="any upstream record, JSON, with `source` set",
)

CLEAN: dict[Source, TopicSpec] = {
    source: TopicSpec(
        stage="clean",
        entity=source.value,
        partitions=PIPELINE,
        retention=timedelta(days=7),
        key="event_id",
        value=f"{RECORD_FOR_SOURCE[source].__name__}, validated, first delivery of each event id only",
    )
    for source in Source
}

DLQ = TopicSpec(
    stage="dlq",
    entity=None,
    partitions=1,
    retention=timedelta(days=30),
    key="dead_letter_id",
    value=f"{DeadLetter.__name__}: reason, message, origin and the original bytes",
    # A rejected record can be as large as a raw record (1 MiB) and grows by a third in base64.
    max_message_bytes=DEAD_LETTER_MAX_BYTES,
)

# -- the response engine: three inputs co-partitioned by case key with the `cases` table ------

ASSESSMENTS = TopicSpec(
    stage="assessments",
    entity=None,
    partitions=PIPELINE,
    retention=timedelta(days=7),
    key="case_key",
    value=f"{AssessedEvent.__name__}: a contact with its score (masked text only)",
)
ACTIONS = TopicSpec(
    stage="alerts",
    entity="actions",
    partitions=PIPELINE,
    retention=timedelta(days=30),
    key="case_key",
    value=f"{AlertAction.__name__}: acknowledge, assign, comment, wait, resume, resolve, follow-up, close",
)
TICKS = TopicSpec(
    stage="engine",
    entity="ticks",
    partitions=PIPELINE,
    retention=timedelta(days=1),
    key="case_key",
    value=f"{Tick.__name__}: 'it is now t' for a case whose clock is due",
)
SIGNALS = TopicSpec(
    stage="engine",
    entity="signals",
    partitions=PIPELINE,
    retention=timedelta(days=7),
    key="case_key",
    value=f"{Signal.__name__}: a detected condition (surge, logistics delay, churn) raised or cleared",
)
NOTICES = TopicSpec(
    stage="engine",
    entity="notices",
    partitions=PIPELINE,
    retention=timedelta(days=7),
    key="case_key",
    value=f"{GroupNotice.__name__}: a parent incident ended; resolve or hand back its members in this case",
)
# -- surge detection: negative contacts re-keyed by surge key ("batch:B2511-07") -------------

SURGE_CONTACTS = TopicSpec(
    stage="surge",
    entity="contacts",
    partitions=PIPELINE,
    retention=timedelta(days=1),
    key="surge key, dimension:value",
    value=(
        f"{SurgeContacts.__name__}: the negative contacts of one ingest batch counted toward "
        f"the key (older records: one {AssessedEvent.__name__})"
    ),
)
SURGE_TICKS = TopicSpec(
    stage="surge",
    entity="ticks",
    partitions=PIPELINE,
    retention=timedelta(days=1),
    key="surge key, dimension:value",
    value=f"{Tick.__name__} (case_key = the surge key): judge an open surge's quiet window",
)
#: One partition: the grouping stage must see every surge key's reports and every order's
#: delay to merge one cause into one incident (both rare next to contacts), and every negative
#: text to group same-issue texts of many customers (one voice per negative text: the stage's
#: cost per voice is in the README).
GROUP_REPORTS = TopicSpec(
    stage="grouping",
    entity="reports",
    partitions=1,
    retention=timedelta(days=7),
    key="the constant 'groups'",
    value=f"{GroupReports.__name__} (the {SurgeReport.__name__}s of surge keys or the "
    f"logistics_delay {Signal.__name__}s of orders one batch decided), "
    f"or {IssueVoices.__name__} (the negative texts of one ingest batch, masked) for emerging "
    f"issues; older records: one {SurgeReport.__name__}, {Signal.__name__} or "
    f"{IssueVoice.__name__}",
)
LIFECYCLE = TopicSpec(
    stage="alerts",
    entity="lifecycle",
    partitions=PIPELINE,
    retention=timedelta(days=90),
    key="alert_id",
    value=f"{AlertEvent.__name__}: every state change, versioned (record_id = alert_id:version)",
)
ALERT_STATE = TopicSpec(
    stage="alerts",
    entity="state",
    partitions=PIPELINE,
    retention=None,
    key="alert_id",
    value=f"{AlertEvent.__name__}: the latest record of each alert (compacted)",
    compacted=True,
)

# -- proactive signals: order tracking and churn, each keyed like its table -----------------

LOGISTICS_CHANGES = TopicSpec(
    stage="logistics",
    entity="changes",
    partitions=PIPELINE,
    retention=timedelta(days=7),
    key="order_id",
    value=f"{LogisticsChange.__name__}: clean status changes re-keyed by order (the `orders` table)",
)
LOGISTICS_CHECKS = TopicSpec(
    stage="logistics",
    entity="checks",
    partitions=PIPELINE,
    retention=timedelta(days=1),
    key="order_id",
    value=f"{Tick.__name__} (case_key = order id): judge a silent order again, its promise passed",
)
DELAY_MAP = TopicSpec(
    stage="logistics",
    entity="delays",
    partitions=PIPELINE,
    retention=None,
    key="order_id",
    value=f"{DelayMapEntry.__name__}: the order's line on the delay map; tombstone when on time",
    compacted=True,
)
CHURN_ACTIVITY = TopicSpec(
    stage="churn",
    entity="activity",
    partitions=PIPELINE,
    retention=timedelta(days=7),
    key="customer_id",
    value=f"{CustomerActivity.__name__}: clean activity re-keyed by customer (the `churn` table)",
)
CHURN_CHECKS = TopicSpec(
    stage="churn",
    entity="checks",
    partitions=PIPELINE,
    retention=timedelta(days=1),
    key="customer_id",
    value=f"{Tick.__name__} (case_key = customer id): judge a customer whose check is due",
)

# -- push: webhook subscriptions, what was sent to them, silences (notify/) -------------------

#: One partition each: small topics, read whole by every API replica and the notifier.
SUBSCRIPTIONS = TopicSpec(
    stage="push",
    entity="subscriptions",
    partitions=1,
    retention=None,
    key="subscription id",
    value="Subscription; its URL and secret sealed (AES-GCM, key derived from the callback "
    "secret: notify/sealing.py); a tombstone deletes it (compacted)",
    compacted=True,
)
DELIVERIES = TopicSpec(
    stage="push",
    entity="deliveries",
    partitions=1,
    retention=timedelta(days=30),
    key="delivery_id",
    value="Delivery: every attempt and outcome of sending one lifecycle record to one subscription",
)
SILENCES = TopicSpec(
    stage="push",
    entity="silences",
    partitions=1,
    retention=None,
    key="silence id",
    value=f"{Silence.__name__}: matchers, start/end, who created it and why; rewritten with "
    "expired_at/expired_by when ended early (compacted: the latest record per silence)",
    compacted=True,
)
PUSH_DLQ = TopicSpec(
    stage="push",
    entity="dlq",
    partitions=1,
    retention=timedelta(days=30),
    key="delivery_id",
    value="Delivery: deliveries given up after the last retry, with the failure reason",
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    *RAW.values(),
    VALID,
    *CLEAN.values(),
    DLQ,
    ASSESSMENTS,
    ACTIONS,
    TICKS,
    SIGNALS,
    NOTICES,
    SURGE_CONTACTS,
    SURGE_TICKS,
    GROUP_REPORTS,
    LIFECYCLE,
    ALERT_STATE,
    LOGISTICS_CHANGES,
    LOGISTICS_CHECKS,
    DELAY_MAP,
    CHURN_ACTIVITY,
    CHURN_CHECKS,
    SUBSCRIPTIONS,
    DELIVERIES,
    PUSH_DLQ,
    SILENCES,
)


def source_of_raw_topic(topic: str, namespace: str) -> Source | None:
    """Which source a raw topic belongs to, or None if it is not one of ours."""
    for source, spec in RAW.items():
        if spec.name(namespace) == topic:
            return source
    return None
