"""`kesu run`: the whole service on one machine — broker, worker, notifier and API — stopped together.

Children run in their own sessions with a parent-death signal, so Ctrl-C (or a crash of
this process) never leaves a JVM or worker behind. Full logs go to <data_dir>/logs/;
the console shows progress, warnings and errors.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kesu.broker import LocalKafka
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics

_NOTEWORTHY = re.compile(r"\b(WARNING|WARN|ERROR|CRITICAL|Traceback)\b|Worker ready|Notifier ready")
#: Logged at every first start while the broker loads __consumer_offsets; retried, harmless.
_BENIGN = re.compile(r"GroupCoordinatorNotAvailableError")


@dataclass
class Child:
    """One supervised process and the thread copying its output to a log file."""

    name: str
    process: subprocess.Popen[bytes]
    ready: threading.Event = field(default_factory=threading.Event)


class Supervisor:
    """Starts the components in order and stops them in reverse order."""

    def __init__(self, settings: Settings, echo: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.echo = echo
        self.broker: LocalKafka | None = None
        self.children: list[Child] = []
        self.log_dir = settings.data_dir / "logs"

    # -- start ----------------------------------------------------------------------------

    def start(self) -> float:
        """Bring everything up; returns the seconds it took until the API answered ready."""
        started = time.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.settings.kafka_bootstrap:
            bootstrap = self.settings.kafka_bootstrap
            self.echo(f"• Kafka: using {bootstrap} (KESU_KAFKA_BOOTSTRAP)")
        else:
            self.broker = LocalKafka(
                self.settings.kafka_state_dir,
                port=self.settings.embedded_kafka_port,
                heap=self.settings.embedded_kafka_heap,
                progress=lambda line: self.echo(f"• {line}"),
            )
            address = self.broker.start()
            bootstrap = address.bootstrap
            self.echo(
                f"• Kafka {address.kafka_version}: ready on {bootstrap} ({time.monotonic() - started:.1f} s)"
            )
            env["KESU_KAFKA_BOOTSTRAP"] = bootstrap
        created = ensure_topics(self.settings.model_copy(update={"kafka_bootstrap": bootstrap}))
        self.echo(f"• Topics: {len(created)} created" if created else "• Topics: present")
        ensure_callback_secret(self.settings)  # before the children, so they share one
        worker = self._spawn(
            "worker", [sys.executable, "-m", "kesu", "worker"], env, ready_text="Worker ready"
        )
        notifier = self._spawn(
            "notifier", [sys.executable, "-m", "kesu", "notifier"], env, ready_text="Notifier ready"
        )
        api = self._spawn("api", [sys.executable, "-m", "kesu", "api"], env, ready_text=None)
        self._wait_ready(worker, notifier, api)
        return time.monotonic() - started

    def _spawn(
        self, name: str, command: list[str], env: dict[str, str], ready_text: str | None
    ) -> Child:
        log_path = self.log_dir / f"{name}.log"
        setpriv = shutil.which("setpriv")
        if setpriv:
            command = [setpriv, "--pdeathsig", "TERM", *command]
        process = subprocess.Popen(  # noqa: S603 - fixed argument list
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        child = Child(name, process)
        thread = threading.Thread(
            target=self._pump, args=(child, log_path, ready_text), daemon=True
        )
        thread.start()
        self.children.append(child)
        return child

    def _pump(self, child: Child, log_path: Path, ready_text: str | None) -> None:
        if child.process.stdout is None:
            return
        with log_path.open("ab") as log:
            for raw in child.process.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip()
                if ready_text and ready_text in line:
                    child.ready.set()
                if _NOTEWORTHY.search(line) and not _BENIGN.search(line):
                    self.echo(f"  [{child.name}] {line[:300]}")

    def _wait_ready(
        self, worker: Child, notifier: Child, api: Child, timeout: float = 120.0
    ) -> None:
        deadline = time.monotonic() + timeout
        api_ready = False
        while time.monotonic() < deadline:
            for child in self.children:
                if child.process.poll() is not None:
                    raise RuntimeError(
                        f"{child.name} exited with code {child.process.returncode}; see {self.log_dir / child.name}.log"
                    )
            api_ready = api_ready or self._api_ready()
            if worker.ready.is_set() and notifier.ready.is_set() and api_ready:
                return
            time.sleep(0.2)
        raise RuntimeError(
            f"the service was not ready within {timeout:.0f} s; logs in {self.log_dir}"
        )

    def _api_ready(self) -> bool:
        url = f"http://{self.settings.api_host}:{self.settings.api_port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    # -- run / stop -----------------------------------------------------------------------

    def wait(self) -> int:
        """Block until a child dies (returns 1) or we are interrupted (KeyboardInterrupt)."""
        while True:
            for child in self.children:
                if child.process.poll() is not None:
                    self.echo(
                        f"✗ {child.name} exited with code {child.process.returncode}; stopping the rest"
                    )
                    return 1
            if self.broker is not None and (
                self.broker.process is None or self.broker.process.poll() is not None
            ):
                self.echo(f"✗ the Kafka broker exited; see {self.broker.log_path}")
                return 1
            time.sleep(0.5)

    def stop(self) -> None:
        """API first, then the notifier and the worker (they commit and flush), then the broker."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                self.echo(f"• stopping {child.name}…")
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(30)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait(5)
        self.children.clear()
        if self.broker is not None:
            self.echo("• stopping Kafka…")
            self.broker.stop()
            self.broker = None
