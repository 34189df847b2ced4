"""The bench's view of its broker: namespaces of topics, producing a corpus, offsets and lag."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError

from bench.ladder.corpus import RawEvent
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics
from streams.topics import ALL_TOPICS, PIPELINE_PARTITIONS, RAW

TP = tuple[str, int]


def table_changelogs(namespace: str, partitions: int) -> dict[str, tuple[int, dict[str, str]]]:
    """The worker's table changelog topics for a namespace whose pipeline has `partitions`,
    from the checkout's own Faust app (built, never started). The worker creates them itself
    before it starts (kesu/worker.py); the bench creates them first to wait for their metadata.
    """
    from agents.app import create_app
    from agents.app import table_changelogs as declared

    settings = Settings(
        _env_file=None,
        kafka_bootstrap="127.0.0.1:1",
        namespace=namespace,
        pipeline_partitions=partitions,
    )
    return declared(create_app(settings))


def fresh_namespace(prefix: str) -> str:
    """A namespace (and Faust consumer group) no run has used: `<prefix><8 hex>`."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


class Cluster:
    """Admin, offsets and production against the bench's broker."""

    def __init__(self, bootstrap: str, log_dir: Path, broker_pid: int) -> None:
        self.bootstrap = bootstrap
        self.log_dir = log_dir
        self.broker_pid = broker_pid
        deadline = time.monotonic() + 120
        while True:  # a broker that just started can be slow to answer on a busy machine
            try:
                self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
                self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
                break
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        self._partitions: dict[str, list[int]] = {}

    def prime(self) -> None:
        """Make a fresh broker create its offsets topic now (the first group commit does),
        not while the workers start and create their own topics."""
        from kafka.admin import NewTopic
        from kafka.structs import OffsetAndMetadata

        topic = fresh_namespace("prime")
        self.admin.create_topics([NewTopic(topic, 1, 1)])
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=topic, enable_auto_commit=False
        )
        try:
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            consumer.commit({partition: OffsetAndMetadata(0, "", -1)})
        finally:
            consumer.close()
            self.admin.delete_topics([topic], raise_errors=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.consumer.close()
        with contextlib.suppress(Exception):
            self.admin.close()

    def settings(self, namespace: str, **values: object) -> Settings:
        return Settings(
            _env_file=None,
            kafka_bootstrap=self.bootstrap,
            namespace=namespace,
            worker_metrics_port=0,
            **values,  # type: ignore[arg-type]
        )

    def create_namespace(self, namespace: str, partitions: int = PIPELINE_PARTITIONS) -> None:
        """Create kesu's topics and wait until the broker reports all their partitions.

        A worker that starts while a new topic is not yet in the broker's metadata subscribes
        without it (aiokafka: "Ignoring missing topic") and never reads it; on a busy machine
        that window lasts seconds.
        """
        ensure_topics(self.settings(namespace, pipeline_partitions=partitions))
        wanted = {spec.name(namespace): spec.partition_count(partitions) for spec in ALL_TOPICS}
        changelogs = table_changelogs(namespace, partitions)
        self.admin.create_topics(
            [
                NewTopic(name, count, 1, topic_configs=config)
                for name, (count, config) in changelogs.items()
            ]
        )
        wanted.update({name: count for name, (count, _config) in changelogs.items()})
        deadline = time.monotonic() + 120
        while True:
            self.consumer.topics()  # a fresh metadata request
            missing = [
                topic
                for topic, count in wanted.items()
                if len(self.consumer.partitions_for_topic(topic) or ()) != count
            ]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics without full metadata after 120 s: {missing}")
            time.sleep(0.2)

    def delete_namespace(self, namespace: str) -> None:
        """Drop the namespace's topics (Faust's changelogs too) and its consumer groups."""
        topics = self.topics(namespace, raw=True)
        if topics:
            with contextlib.suppress(Exception):
                self.admin.delete_topics(topics, timeout_ms=30_000, raise_errors=False)
        with contextlib.suppress(Exception):
            groups = [g[0] if isinstance(g, tuple) else g for g in self.admin.list_groups()]
            mine = [g for g in groups if isinstance(g, str) and g.startswith(namespace)]
            if mine:
                self.admin.delete_groups(mine)
        for topic in topics:
            self._partitions.pop(topic, None)

    def topics(self, namespace: str, *, raw: bool = False) -> list[str]:
        """Every topic of the namespace (`<ns>.…` and Faust's `<ns>-…`), raw topics optional."""
        names = [
            t
            for t in self.admin.list_topics()
            if t.startswith((f"{namespace}.", f"{namespace}-"))
            and (raw or not t.startswith(f"{namespace}.raw."))
        ]
        return sorted(names)

    def partitions_of(self, topics: Iterable[str]) -> list[TopicPartition]:
        out: list[TopicPartition] = []
        for topic in topics:
            if topic not in self._partitions:
                self.consumer.topics()  # refresh metadata once for new topics
                found = self.consumer.partitions_for_topic(topic)
                if not found:
                    continue
                self._partitions[topic] = sorted(found)
            out.extend(TopicPartition(topic, p) for p in self._partitions[topic])
        return out

    def end_offsets(self, topics: Iterable[str]) -> dict[TP, int]:
        partitions = self.partitions_of(topics)
        if not partitions:
            return {}
        ends = self.consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): int(offset) for tp, offset in ends.items()}

    def committed(self, group: str) -> dict[TP, int]:
        offsets = self.admin.list_group_offsets({group: None}).get(group, {})
        return {(tp.topic, tp.partition): int(meta.offset) for tp, meta in offsets.items()}

    def assigned(self, group: str) -> tuple[int, list[TP]]:
        """(members, the stream partitions assigned to them) of a group in the Stable state,
        else (0, []). Table changelogs and Faust's assignor topic are left out: the group
        reads but never commits them."""
        described = self.admin.describe_groups([group]).get(group, {})
        if described.get("group_state") != "Stable":
            return 0, []
        members = described.get("members") or []
        out: list[TP] = []
        for member in members:
            assignment = member.get("member_assignment") or {}
            for item in assignment.get("assigned_partitions") or []:
                topic = item["topic"]
                if topic.endswith("-changelog") or "__assignor" in topic:
                    continue
                out.extend((topic, p) for p in item["partitions"])
        return len(members), out

    def lag(self, group: str, partitions: Sequence[TP]) -> int:
        """Records on `partitions` the group has not committed past."""
        if not partitions:
            return 0
        ends = self.end_offsets({t for t, _ in partitions})
        committed = self.committed(group)
        return sum(max(0, ends.get(tp, 0) - committed.get(tp, 0)) for tp in partitions)

    def produce(self, namespace: str, events: Sequence[RawEvent]) -> float:
        """Publish to the namespace's raw topics, acknowledged by the broker; returns seconds."""
        started = time.perf_counter()
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=5,
            batch_size=256 * 1024,
            max_request_size=4 * 1024 * 1024,
            client_id="bench-loader",
        )
        try:
            topics = {source: spec.name(namespace) for source, spec in RAW.items()}
            futures = [
                producer.send(topics[event.source], key=event.key, value=event.value)  # type: ignore[index]
                for event in events
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=60)
        finally:
            producer.close()
        return time.perf_counter() - started

    def raw_topics(self, namespace: str) -> list[str]:
        return [spec.name(namespace) for spec in RAW.values()]
