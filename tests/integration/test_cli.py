"""The `kesu` commands people run: publish, demo, broker and run — as real processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from kafka.admin import KafkaAdminClient, NewTopic

from kesu.broker import discover, free_port
from kesu.demo import load_feed
from kesu.settings import Settings
from kesu.topic_admin import partition_counts
from streams.records import Source
from streams.topics import CLEAN
from tests.conftest import Broker, SettingsFactory, WorkerFactory
from tests.factories import make_event, to_bytes
from tests.integration.support import (
    REPO,
    KesuProcess,
    eventually,
    read_all,
    read_until,
    settings_env,
)


def _kesu(
    args: list[str], settings: Settings, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kesu", *args],
        env=settings_env(settings),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


def _clean_ids(broker: Broker, settings: Settings) -> list[str]:
    topics = [CLEAN[s].name(settings.namespace) for s in Source]
    return [json.loads(r.value)["event_id"] for r in read_all(broker.bootstrap, topics)]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


class TestTopics:
    def test_topics_follow_the_pipeline_partitions_and_a_second_run_finds_them(
        self, kafka_broker: Broker, make_settings: SettingsFactory
    ) -> None:
        base = make_settings()
        settings = base.model_copy(
            update={"namespace": f"{base.namespace}p6", "pipeline_partitions": 6}
        )
        first = _kesu(["topics"], settings)
        assert first.returncode == 0, first.stderr
        lines = {line.split()[1]: line for line in first.stdout.splitlines()}
        ns = settings.namespace
        assert (
            lines[f"{ns}.raw.call"].startswith("created")
            and "partitions=6" in lines[f"{ns}.raw.call"]
        )
        assert "partitions=1" in lines[f"{ns}.dlq"]
        admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
        try:  # as kesu reads them (a topic just created can be described before its partitions)
            assert partition_counts(admin, [f"{ns}.assessments"]) == {f"{ns}.assessments": 6}
        finally:
            admin.close()
        again = _kesu(["topics"], settings)
        assert again.returncode == 0 and all(
            line.startswith("exists") for line in again.stdout.splitlines()
        ), again.stdout
        narrower = _kesu(["topics"], settings.model_copy(update={"pipeline_partitions": 4}))
        assert narrower.returncode != 0
        assert "KESU_PIPELINE_PARTITIONS" in narrower.stderr
        assert "Traceback" not in narrower.stderr


class TestPublish:
    def test_file_is_published_and_cleaned(
        self,
        kafka_broker: Broker,
        make_settings: SettingsFactory,
        worker_factory: WorkerFactory,
        tmp_path: Path,
    ) -> None:
        """`kesu publish --source social FILE` sends every line; the worker cleans them."""
        settings = make_settings()
        worker_factory(settings)
        events = [make_event(Source.SOCIAL) for _ in range(25)]
        feed = tmp_path / "posts.jsonl"
        feed.write_bytes(b"\n".join(to_bytes(e) for e in events) + b"\n\n")
        result = _kesu(["publish", "--source", "social", str(feed)], settings)
        assert result.returncode == 0, result.stderr
        assert "25/25 events acknowledged" in result.stdout
        wanted = {e["event_id"] for e in events}
        read_until(
            kafka_broker.bootstrap,
            [CLEAN[Source.SOCIAL].name(settings.namespace)],
            lambda rs: wanted <= {json.loads(r.value)["event_id"] for r in rs},
            what="the 25 published posts",
        )

    def test_check_reports_bad_lines_by_number_and_publishes_nothing(
        self, kafka_broker: Broker, make_settings: SettingsFactory, tmp_path: Path
    ) -> None:
        settings = make_settings()
        feed = tmp_path / "calls.jsonl"
        feed.write_bytes(
            to_bytes(make_event(Source.CALL))
            + b"\n{oops\n"
            + to_bytes(make_event(Source.CALL, text=""))
            + b"\n"
        )
        result = _kesu(["publish", "--source", "call", "--check", str(feed)], settings)
        assert result.returncode == 1
        assert "line 2: NOT_JSON" in result.stderr
        assert "line 3: EMPTY_TEXT" in result.stderr
        assert "1 valid, 2 invalid" in result.stdout
        assert read_all(kafka_broker.bootstrap, [f"{settings.namespace}.raw.call"]) == []

    def test_no_kafka_configured_is_a_clear_error(self, tmp_path: Path) -> None:
        settings = Settings(_env_file=None, data_dir=tmp_path)
        result = _kesu(["publish", "--source", "call", "-"], settings, input="")
        assert result.returncode != 0
        assert "KESU_KAFKA_BOOTSTRAP" in result.stderr
        assert "Traceback" not in result.stderr


class TestWorker:
    @pytest.mark.parametrize(
        ("setting", "kind"),
        [({}, "uvloop.Loop"), ({"worker_event_loop": "asyncio"}, "asyncio.")],
        ids=["default-uvloop", "asyncio"],
    )
    def test_both_event_loops_are_the_configured_kind(
        self,
        make_settings: SettingsFactory,
        worker_factory: WorkerFactory,
        setting: dict[str, str],
        kind: str,
    ) -> None:
        """The worker's main loop and Faust's consumer thread's loop are the configured kind."""
        worker = worker_factory(make_settings(**setting))
        eventually(lambda: "event loops:" in worker.output(), what="the event loop log line")
        line = next(x for x in worker.output().splitlines() if "event loops:" in x)
        assert f"main {kind}" in line and f"consumer thread {kind}" in line, line


class TestDemo:
    def test_demo_feed_flows_through_the_pipeline(
        self, kafka_broker: Broker, make_settings: SettingsFactory, worker_factory: WorkerFactory
    ) -> None:
        """Every event of the sample feed is valid when the demo sends it: none is dead-lettered,
        and the demo reports what the worker made of it."""
        settings = make_settings(worker_metrics_port=free_port())
        worker_factory(settings)
        feed = load_feed()
        result = _kesu(["demo", "--rate", "400"], settings)
        assert result.returncode == 0, result.stderr
        assert f"Done: {len(feed)} events" in result.stdout
        assert f"{len(feed)} clean, 0 duplicates, 0 dead-lettered" in result.stdout
        ids = eventually(
            lambda: (
                (found := _clean_ids(kafka_broker, settings)) and len(found) >= len(feed) and found
            ),
            what=f"{len(feed)} demo events on the clean topics",
        )
        assert len(set(ids)) == len(feed)
        assert read_all(kafka_broker.bootstrap, [f"{settings.namespace}.dlq"]) == []


class TestBrokerCommand:
    def test_sigterm_stops_the_jvm_and_keeps_the_data(self, tmp_path: Path) -> None:
        """`kesu broker` stops cleanly on SIGTERM, and a restart finds the topics it had."""
        settings = Settings(_env_file=None, data_dir=tmp_path)
        broker = KesuProcess(["broker"], settings_env(settings), tmp_path / "broker.out").start(
            "ready on"
        )
        address = discover(settings.kafka_state_dir)
        assert address is not None
        admin = KafkaAdminClient(bootstrap_servers=address.bootstrap)
        admin.create_topics([NewTopic("kept", 1, 1)])
        admin.close()
        assert broker.stop() == 0
        assert not _pid_alive(address.pid)
        assert discover(settings.kafka_state_dir) is None

        again = KesuProcess(["broker"], settings_env(settings), tmp_path / "broker2.out").start(
            "ready on"
        )
        try:
            address = discover(settings.kafka_state_dir)
            assert address is not None
            admin = KafkaAdminClient(bootstrap_servers=address.bootstrap)
            assert "kept" in admin.list_topics()
            admin.close()
        finally:
            again.stop()

    def test_jvm_dies_with_a_killed_parent(self, tmp_path: Path) -> None:
        """SIGKILL of `kesu broker` (no chance to clean up) still leaves no orphan JVM."""
        settings = Settings(_env_file=None, data_dir=tmp_path)
        broker = KesuProcess(["broker"], settings_env(settings), tmp_path / "broker.out").start(
            "ready on"
        )
        address = discover(settings.kafka_state_dir)
        assert address is not None
        broker.kill()
        eventually(lambda: not _pid_alive(address.pid), timeout=30, what="the orphaned JVM to exit")


class TestRun:
    def test_run_brings_the_service_up_restarts_what_dies_and_ctrl_c_stops_everything(
        self, tmp_path: Path
    ) -> None:
        """`kesu run` (what `make run` starts): broker, worker, notifier and API up; a killed
        broker or worker is restarted while the API keeps answering; Ctrl-C leaves nothing."""
        settings = Settings(
            _env_file=None,
            data_dir=tmp_path,
            api_port=free_port(),
            worker_metrics_port=free_port(),
            notifier_metrics_port=free_port(),
        )
        run = KesuProcess(["run"], settings_env(settings), tmp_path / "run.out").start(
            "ready in", timeout=180
        )
        try:
            address = discover(settings.kafka_state_dir)
            assert address is not None
            base = f"http://127.0.0.1:{settings.api_port}"
            local = json.loads((tmp_path / "local-keys.json").read_text())
            ingest = {"Authorization": f"Bearer {local['ingest']}"}
            response = httpx.post(
                f"{base}/v1/events/call", json=make_event(Source.CALL), headers=ingest, timeout=30
            )
            assert response.status_code == 202, response.text
            assert f"{base}/#key={local['admin']}" in run.output(), (
                "the dashboard link carries the local admin key"
            )
            assert "/docs" in run.output()
            assert "[notifier]" in run.output() and "Notifier ready" in run.output()
            notifier_metrics = httpx.get(
                f"http://127.0.0.1:{settings.notifier_metrics_port}/metrics", timeout=10
            )
            assert "kesu_push_deliveries_total" in notifier_metrics.text
            assert (
                httpx.get(f"{base}/openapi.json", timeout=10)
                .json()["info"]["title"]
                .startswith("kesu")
            )

            # Whatever dies is restarted; the rest keep serving (the API answers 503, not a refusal).
            os.kill(address.pid, signal.SIGKILL)
            eventually(
                lambda: httpx.get(f"{base}/readyz", timeout=10).status_code == 503,
                timeout=30,
                what="/readyz to answer 503 while Kafka is down",
            )
            run.wait_for("Kafka restarted", timeout=180)
            eventually(
                lambda: httpx.get(f"{base}/readyz", timeout=10).status_code == 200,
                timeout=60,
                what="/readyz ready again",
            )
            again = httpx.post(
                f"{base}/v1/events/call", json=make_event(Source.CALL), headers=ingest, timeout=30
            )
            assert again.status_code == 202, again.text
            restarted = discover(settings.kafka_state_dir)
            assert restarted is not None and restarted.bootstrap == address.bootstrap
            worker_pid = _child_pid(tmp_path, "kesu worker")
            os.kill(worker_pid, signal.SIGKILL)
            run.wait_for("worker restarted", timeout=60)
            eventually(
                lambda: run.output().count("Worker ready") >= 2,
                timeout=180,
                what="the worker ready again",
            )

            run.signal(signal.SIGINT)
            assert run.process is not None
            assert run.process.wait(90) == 0
            assert not _pid_alive(restarted.pid)
            leftover = subprocess.run(
                ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
            )
            assert leftover.stdout.strip() == "", leftover.stdout
        finally:
            if run.process is not None:
                run.stop()
            _kill_leftovers(tmp_path)


def _child_pid(data_dir: Path, command: str) -> int:
    """The pid of the process running `command` whose environment names `data_dir`."""
    listed = subprocess.run(["pgrep", "-f", command], capture_output=True, text=True, check=False)
    for pid in map(int, listed.stdout.split()):
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            if str(data_dir).encode() in environ:
                return pid
    raise AssertionError(f"no {command!r} process for {data_dir}")


def _kill_leftovers(data_dir: Path) -> None:
    """Whatever a failed run left behind with `data_dir` in its environment: no test leaks a
    worker that spins against a broker that is gone."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if f"KESU_DATA_DIR={data_dir}\0".encode() in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
