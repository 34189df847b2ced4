"""Fixtures for tests against real parts: one Kafka broker per session, workers and API servers
(shared by tests/integration and tests/browser; started only by tests that ask for them).

The broker is a real Apache Kafka (KRaft) started with `java` on a free loopback port, in a
temporary directory, and always stopped at the end — also when a test fails.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.auth import Role, add_key
from api.deps import Clock, api_clock
from kesu.broker import BrokerAddress, LocalKafka, free_port
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics
from tests.integration.support import KesuProcess, settings_env, unique_namespace


@dataclass
class Broker:
    address: BrokerAddress
    local: LocalKafka

    @property
    def bootstrap(self) -> str:
        return self.address.bootstrap


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real single-node Kafka for the whole test session."""
    local = LocalKafka(tmp_path_factory.mktemp("kafka"), progress=print)
    address = local.start()
    try:
        yield Broker(address, local)
    finally:
        local.stop()


SettingsFactory = Callable[..., Settings]


@pytest.fixture(scope="session")
def make_settings(
    kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> SettingsFactory:
    """Settings for a fresh namespace on the session broker (override anything by keyword)."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka_bootstrap": kafka_broker.bootstrap,
            "namespace": unique_namespace(),
            "data_dir": tmp_path_factory.mktemp("kesu-data"),
            "worker_metrics_port": 0,
            "notifier_metrics_port": 0,
            "api_port": free_port(),
            "worker_log_level": "info",
        }
        values.update(overrides)
        settings = Settings(_env_file=None, **values)
        ensure_topics(settings)
        return settings

    return factory


class Worker:
    """A `kesu worker` subprocess for some settings; can be stopped, killed and started again."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.runs = 0
        self.log_dir = log_dir
        self.process: KesuProcess | None = None

    def start(self, extra_env: dict[str, str] | None = None) -> Worker:
        """Start (again); `extra_env` adds variables for this run only (e.g. a crash point)."""
        self.runs += 1
        env = settings_env(self.settings) | (extra_env or {})
        self.process = KesuProcess(["worker"], env, self.log_dir / f"worker-{self.runs}.log")
        self.process.start("Worker ready")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def output(self) -> str:
        return self.process.output() if self.process else ""


WorkerFactory = Callable[[Settings], Worker]


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start workers for settings; every one is stopped after the test."""
    started: list[Worker] = []

    def factory(settings: Settings) -> Worker:
        worker = Worker(settings, tmp_path)
        started.append(worker)
        return worker.start()

    yield factory
    for worker in started:
        worker.stop()


class ApiServer:
    """The real FastAPI app under uvicorn, in a thread, on a loopback port, with one key per role."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.keys = provision_keys(settings)
        app = create_app(settings)
        if clock is not None:  # the API's time, for tests of expiry and windows
            app.dependency_overrides[api_clock] = lambda: clock
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=settings.api_port,
            log_level="warning",
            lifespan="on",
            loop="asyncio",  # as `kesu api` runs it (kesu/cli.py)
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def start(self) -> ApiServer:
        self.thread.start()
        from tests.integration.support import eventually

        eventually(lambda: self.server.started, timeout=30, what="uvicorn to start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def provision_keys(settings: Settings) -> dict[str, str]:
    """A key per role in the settings' keys file (created once per keys file)."""
    path = settings.api_keys_path
    if path.with_suffix(".plain.json").exists():
        return dict(json.loads(path.with_suffix(".plain.json").read_text()))
    keys = {role.value: add_key(path, f"test-{role.value}", role) for role in Role}
    path.with_suffix(".plain.json").write_text(json.dumps(keys))
    return keys


@pytest.fixture
def api_factory() -> Iterator[Callable[..., ApiServer]]:
    servers: list[ApiServer] = []

    def factory(settings: Settings, *, clock: Clock | None = None) -> ApiServer:
        server = ApiServer(settings, clock=clock).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


def pytest_sessionstart(session: pytest.Session) -> None:
    """A fresh trials table per session."""
    from tests.integration.trials import ROWS

    ROWS.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The reliability trials' table (make reliability), if any trial ran."""
    from tests.integration.trials import table

    lines = table()
    if lines:
        terminalreporter.section("reliability trials")
        for line in lines:
            terminalreporter.write_line(line)
