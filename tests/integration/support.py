"""Helpers for tests against the real broker: processes, topics, and waiting for conditions."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from pydantic import SecretStr

from complaints.durations import format_duration
from kesu.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def unique_namespace() -> str:
    """A fresh topic namespace (and consumer group), so tests never see each other's records."""
    return f"t{uuid.uuid4().hex[:10]}"


def settings_env(settings: Settings) -> dict[str, str]:
    """KESU_* variables that reproduce `settings` in a child process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KESU_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, timedelta):
            value = format_duration(value)
        env[f"KESU_{name.upper()}"] = str(value)
    return env


def eventually(
    check: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.25, what: str = ""
) -> Any:
    """Poll until `check()` returns something truthy; fail with `what` after `timeout` seconds.

    A liveness bound, not a speed assertion: the generous timeout only stops a hung test.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or check}")
        time.sleep(interval)


# -- Kafka ------------------------------------------------------------------------------------


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_request_size=2 * 1024 * 1024
    )


def publish(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]]
) -> None:
    """Send (key, value) records and wait until Kafka acknowledged each."""
    kafka = producer(bootstrap)
    try:
        futures = [kafka.send(topic, key=key, value=value) for key, value in records]
        kafka.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        kafka.close()


def read_all(
    bootstrap: str,
    topics: Sequence[str],
    *,
    idle: float = 1.0,
    isolation_level: str = "read_uncommitted",
) -> list[Any]:
    """Every record now on `topics`, from the beginning (no consumer group, nothing committed);
    `read_committed` leaves out records of aborted or open transactions."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=int(idle * 1000),
        isolation_level=isolation_level,
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            batch = consumer.poll(timeout_ms=500)
            for items in batch.values():
                records.extend(items)
        return records
    finally:
        consumer.close()


def read_until(
    bootstrap: str,
    topics: Sequence[str],
    done: Callable[[list[Any]], bool],
    *,
    timeout: float = 60.0,
    what: str = "",
) -> list[Any]:
    """Re-read `topics` until `done(records)` holds."""
    holder: list[list[Any]] = []

    def check() -> bool:
        holder[:] = [read_all(bootstrap, topics)]
        return done(holder[0])

    eventually(check, timeout=timeout, interval=0.5, what=what or f"records on {', '.join(topics)}")
    return holder[0]


def wait_caught_up(
    bootstrap: str, group: str, topics: Sequence[str], *, timeout: float = 60.0
) -> None:
    """Wait until `group` has committed the end offset of every partition of `topics`."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or [])
        ]
        end = consumer.end_offsets(partitions)

        def caught_up() -> bool:
            committed = admin.list_group_offsets({group: None}).get(group, {})
            return all(
                (committed.get(tp).offset if committed.get(tp) else 0) >= end[tp]
                for tp in partitions
            )

        eventually(
            caught_up, timeout=timeout, interval=0.5, what=f"group {group} to commit up to {end}"
        )
    finally:
        consumer.close()
        admin.close()


# -- processes --------------------------------------------------------------------------------


class KesuProcess:
    """A `kesu <command>` child process whose output is kept in a file and watched for a line."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        self.args = list(args)
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def start(self, ready_text: str | None, *, timeout: float = 120.0) -> KesuProcess:
        self._lines = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kesu", *self.args],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()
        if ready_text:
            self.wait_for(ready_text, timeout=timeout)
        return self

    def _pump(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in process.stdout:
                log.write(raw)
                log.flush()
                with self._lock:
                    self._lines.append(raw.decode("utf-8", "replace"))

    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def wait_for(self, text: str, *, timeout: float = 120.0) -> None:
        def seen() -> bool:
            if (
                self.process is not None
                and self.process.poll() is not None
                and text not in self.output()
            ):
                raise AssertionError(
                    f"kesu {' '.join(self.args)} exited ({self.process.returncode}) before '{text}':\n"
                    + self.output()[-3000:]
                )
            return text in self.output()

        eventually(seen, timeout=timeout, what=f"'{text}' from kesu {' '.join(self.args)}")

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signum)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait (the worker commits and flushes); SIGKILL if it hangs."""
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(10)
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def short_sla_rules(
    directory: Path, *, surge: dict[str, Any] | None = None, **tier_clocks: dict[str, Any]
) -> Path:
    """The shipped rules with some tiers' clocks replaced (e.g. tier1={...: {"target": "6s"}})
    and, optionally, some `surge` settings."""
    import yaml

    from complaints.rules import DEFAULT_RULES

    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
    data["version"] = "test-short-sla"
    data["surge"].update(surge or {})
    for tier, clocks in tier_clocks.items():
        data["tiers"][int(tier.removeprefix("tier"))]["clocks"] = clocks
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def rules_with(directory: Path, change: dict[str, Any], version: str = "test-rules") -> Path:
    """The shipped rules with `change` merged in (nested mappings merge, the rest replaces)."""
    import yaml

    from complaints.rules import DEFAULT_RULES

    data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))

    def merge(into: dict[str, Any], update: dict[str, Any]) -> None:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(data, {**change, "version": version})
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def topic_config(bootstrap: str, topic: str) -> dict[str, str]:
    """The topic's configuration as the broker reports it (only values that differ from the
    broker's defaults)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    [configs] = [by_name[topic] for by_name in described.values() if topic in by_name]
    return {name: str(entry["value"]) for name, entry in configs.items()}
