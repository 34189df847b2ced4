"""Create kesu's topics as streams/topics.py defines them, and check existing ones match."""

from __future__ import annotations

from collections.abc import Iterable

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from kesu.kafka_config import kafka_python_options
from kesu.settings import Settings
from streams.topics import ALL_TOPICS, TopicSpec


class TopicMismatch(RuntimeError):
    """An existing topic has a different partition count than the one kesu needs."""


def ensure_topics(settings: Settings, specs: Iterable[TopicSpec] = ALL_TOPICS) -> list[str]:
    """Create missing topics; return the names created. Safe to run any number of times."""
    specs = list(specs)
    admin = KafkaAdminClient(
        client_id=f"{settings.namespace}-admin", **kafka_python_options(settings)
    )
    try:
        existing = set(admin.list_topics())
        wanted = {spec.name(settings.namespace): spec for spec in specs}
        missing = [
            NewTopic(
                name=name,
                num_partitions=spec.partitions,
                replication_factor=settings.topic_replication,
                topic_configs=spec.config(),
            )
            for name, spec in wanted.items()
            if name not in existing
        ]
        created: list[str] = []
        if missing:
            try:
                admin.create_topics(missing, validate_only=False)
                created = [topic.name for topic in missing]
            except TopicAlreadyExistsError:
                created = []  # another process created them first: fine
        _check_partitions(admin, {n: s for n, s in wanted.items() if n in existing})
        return created
    finally:
        admin.close()


def _check_partitions(admin: KafkaAdminClient, present: dict[str, TopicSpec]) -> None:
    if not present:
        return
    for description in admin.describe_topics(list(present)):
        name = description["name"]
        have = len(description["partitions"])
        want = present[name].partitions
        if have != want:
            raise TopicMismatch(
                f"topic {name} has {have} partitions but kesu needs {want} "
                "(tables are co-partitioned with it); use a new KESU_NAMESPACE or recreate the topic"
            )
