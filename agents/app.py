"""The Faust application: one factory that builds the app from settings and wires the agents."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust

from agents import churn, crashpoints, grouping, ingest, logistics, respond, surge
from agents.consumer import KesuApp
from complaints.rules import load_rules
from kesu.heap import release_free_heap
from kesu.kafka_config import faust_options
from kesu.settings import Settings
from streams.topics import DEAD_LETTER_MAX_BYTES

Clock = Callable[[], datetime]

#: How often the worker hands malloc's free pages back (kesu/heap.py); the trim runs in a
#: thread (ctypes releases the GIL), ~15–45 ms on a fragmented 250 MB heap.
HEAP_TRIM_SECONDS = 60.0


def utc_now() -> datetime:
    """The shell's only clock; the pure core receives time as an argument."""
    return datetime.now(UTC)


def create_app(settings: Settings, *, clock: Clock = utc_now, **overrides: Any) -> faust.App:
    """A configured Faust app with every kesu agent registered (not started)."""
    options: dict[str, Any] = {
        **faust_options(settings),
        "store": "rocksdb://" if settings.store == "rocksdb" else "memory://",
        "datadir": str(settings.worker_state_dir),
        "topic_partitions": settings.pipeline_partitions,
        "topic_replication_factor": settings.topic_replication,
        "web_enabled": False,
        "producer_acks": -1,
        "producer_max_request_size": DEAD_LETTER_MAX_BYTES + 64 * 1024,
        "consumer_auto_offset_reset": "earliest",
        "broker_session_timeout": settings.worker_session_timeout.total_seconds(),
        "broker_heartbeat_interval": max(settings.worker_session_timeout.total_seconds() / 4, 0.5),
        "consumer_group_instance_id": settings.worker_instance_id,
        "processing_guarantee": settings.worker_processing_guarantee,
    }
    options.update(overrides)
    app = KesuApp(settings.namespace, **options)
    app.fetch_max_wait_ms = round(settings.worker_fetch_max_wait.total_seconds() * 1000)
    rules = load_rules(settings.rules_file)
    ingest.register(app, settings, rules, clock)
    respond.register(app, settings, rules, clock)
    surge.register(app, settings, rules, clock)
    grouping.register(app, settings, rules, clock)
    logistics.register(app, settings, rules, clock)
    churn.register(app, settings, rules, clock)

    @app.timer(interval=HEAP_TRIM_SECONDS, on_leader=False, name="heap-trim")
    async def _trim_heap() -> None:
        await asyncio.get_running_loop().run_in_executor(None, release_free_heap)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's signature types
    async def _revoked(_app: faust.App, revoked: Any, **_: Any) -> None:
        crashpoints.reached("rebalance")  # R2 trials only (agents/crashpoints.py)

    return app


def table_changelogs(app: faust.App) -> dict[str, tuple[int, dict[str, str]]]:
    """Every table's changelog topic as Faust would create it: name -> (partitions, config).

    The worker creates them before it starts: one that lets Faust create them on a busy broker
    can read a partition count before the broker has all of it, and Faust then refuses every
    write to that table (PartitionsMismatch) or ignores the topic as missing.
    """
    out: dict[str, tuple[int, dict[str, str]]] = {}
    for table in app.tables.values():
        topic = table.changelog_topic
        config = {"cleanup.policy": "compact", **(topic.config or {})}
        partitions = int(topic.partitions or app.conf.topic_partitions)
        out[topic.get_topic_name()] = (partitions, config)
    return out


def input_topics(app: faust.App) -> list[str]:
    """Every topic the worker's agents read (its consumer group commits exactly these): what a
    caller waits on to know the worker has consumed everything."""
    return sorted({topic for agent in app.agents.values() for topic in agent.channel.topics})
