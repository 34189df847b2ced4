"""Create kesu's topics as streams/topics.py defines them (and the worker's table changelogs as
its Faust app declares them), and check existing ones match."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from kesu.kafka_config import kafka_python_options
from kesu.settings import Settings
from streams.topics import ALL_TOPICS, TopicSpec

#: topic name -> (partitions, topic-level configuration)
Wanted = Mapping[str, tuple[int, Mapping[str, str]]]

#: Looks at a topic described with no partitions (no topic has none: its metadata is not on
#: the broker yet, just after another process created it) before judging it, and the wait
#: between them.
DESCRIBE_ATTEMPTS = 20
DESCRIBE_WAIT = 0.25


class TopicMismatch(RuntimeError):
    """An existing topic has a different partition count than the one kesu needs."""


def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = ALL_TOPICS) -> list[str]:
    """Create missing topics; return the names created. Safe to run any number of times."""
    return ensure_named_topics(
        settings,
        {
            spec.name(settings.namespace): (
                spec.partition_count(settings.pipeline_partitions),
                spec.config(),
            )
            for spec in specs
        },
    )


def ensure_named_topics(settings: Settings, wanted: Wanted) -> list[str]:
    """Create the missing ones of `wanted`; check the partitions of those that exist."""
    admin = KafkaAdminClient(
        client_id=f"{settings.namespace}-admin", **kafka_python_options(settings)
    )
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=settings.topic_replication,
                topic_configs=dict(config),
            )
            for name, (partitions, config) in wanted.items()
            if name not in existing
        ]
        created: list[str] = []
        if missing:
            try:
                admin.create_topics(missing, validate_only=False)
                created = [topic.name for topic in missing]
            except TopicAlreadyExistsError:
                created = []  # another process created them first: fine
        _check_partitions(admin, {n: w[0] for n, w in wanted.items() if n in existing})
        return created
    finally:
        admin.close()


def _check_partitions(admin: KafkaAdminClient, present: dict[str, int]) -> None:
    if not present:
        return
    for name, have in partition_counts(admin, list(present)).items():
        want = present[name]
        if have != want:
            raise TopicMismatch(
                f"topic {name} has {have} partitions but kesu needs {want} "
                "(tables are co-partitioned with their topics; KESU_PIPELINE_PARTITIONS is fixed "
                "for a namespace); use a new KESU_NAMESPACE or recreate the topic"
            )


def partition_counts(
    admin: KafkaAdminClient, names: list[str], sleep: Callable[[float], None] | None = None
) -> dict[str, int]:
    """Topic -> its partitions as the broker describes them, a topic described with none
    looked at again (up to `DESCRIBE_ATTEMPTS` times): right after creation a broker can list
    a topic before its partitions are in the metadata, and 0 is no partition count to judge."""
    counts: dict[str, int] = {}
    pending = names
    for attempt in range(DESCRIBE_ATTEMPTS):
        if attempt:
            (sleep or time.sleep)(DESCRIBE_WAIT)
        for description in admin.describe_topics(pending):
            counts[description["name"]] = len(description["partitions"])
        pending = [name for name in pending if not counts.get(name)]
        if not pending:
            break
    return counts
