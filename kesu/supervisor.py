"""`kesu run`: the whole service on one machine — broker, worker, notifier and API — stopped together.

Children run in their own sessions with a parent-death signal, so Ctrl-C (or a crash of
this process) never leaves a JVM or worker behind. Full logs go to <data_dir>/logs/;
the console shows progress, warnings and errors.

Like a process supervisor (systemd's Restart=on-failure), a child or embedded broker that
dies is started again after a back-off (1 s, doubling to 30 s; reset once it has run a
minute), and the others keep running: the API answers 503 while Kafka is away instead of
refusing connections, and accepted events wait in Kafka for the worker to come back.
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

from kesu.broker import BrokerError, LocalKafka
from kesu.local_keys import ensure_callback_secret
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics

_NOTEWORTHY = re.compile(r"\b(WARNING|WARN|ERROR|CRITICAL|Traceback)\b|Worker ready|Notifier ready")
#: Logged at every first start while the broker loads __consumer_offsets; retried, harmless.
_BENIGN = re.compile(r"GroupCoordinatorNotAvailableError")


#: Waits before restarting something that died, by consecutive failure.
RESTART_BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
#: A process that ran this long counts as healthy again: its next crash waits the shortest time.
STABLE_AFTER = 60.0


def backoff(failures: int) -> float:
    """Seconds to wait before restart number `failures` (1 = the first in a row)."""
    return RESTART_BACKOFF[min(failures, len(RESTART_BACKOFF)) - 1]


@dataclass
class Child:
    """One supervised process and the thread copying its output to a log file."""

    name: str
    process: subprocess.Popen[bytes]
    command: list[str]
    ready_text: str | None
    ready: threading.Event = field(default_factory=threading.Event)
    started_at: float = field(default_factory=time.monotonic)
    failures: int = 0


class _ConsoleQuota:
    """At most `lines` console lines per `seconds` per child: while Kafka is away every client
    logs an error a few times a second; the full log keeps them all."""

    def __init__(self, lines: int = 5, seconds: float = 10.0) -> None:
        self.lines, self.seconds = lines, seconds
        self.window_start, self.shown, self.held = -seconds, 0, 0

    def admit(self, line: str, now: float) -> list[str]:
        out: list[str] = []
        if now - self.window_start >= self.seconds:
            if self.held:
                out.append(f"  … {self.held} more such line(s) in the log")
            self.window_start, self.shown, self.held = now, 0, 0
        if self.shown < self.lines:
            self.shown += 1
            out.append(line)
        else:
            self.held += 1
        return out


class Supervisor:
    """Starts the components in order and stops them in reverse order."""

    def __init__(self, settings: Settings, echo: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.echo = echo
        self.broker: LocalKafka | None = None
        self.children: list[Child] = []
        self.log_dir = settings.data_dir / "logs"
        self.env: dict[str, str] = {}
        self.broker_failures = 0
        self.broker_started_at = 0.0

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
            self.broker_started_at = time.monotonic()
            bootstrap = address.bootstrap
            self.echo(
                f"• Kafka {address.kafka_version}: ready on {bootstrap} ({time.monotonic() - started:.1f} s)"
            )
            env["KESU_KAFKA_BOOTSTRAP"] = bootstrap
        created = ensure_topics(self.settings.model_copy(update={"kafka_bootstrap": bootstrap}))
        self.echo(f"• Topics: {len(created)} created" if created else "• Topics: present")
        ensure_callback_secret(self.settings)  # before the children, so they share one
        self.env = env
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
        child = Child(name, self._popen(command, env), command, ready_text)
        self._follow(child)
        self.children.append(child)
        return child

    @staticmethod
    def _popen(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        setpriv = shutil.which("setpriv")
        if setpriv:
            command = [setpriv, "--pdeathsig", "TERM", *command]
        return subprocess.Popen(  # noqa: S603 - fixed argument list
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )

    def _follow(self, child: Child) -> None:
        log_path = self.log_dir / f"{child.name}.log"
        thread = threading.Thread(
            target=self._pump, args=(child, log_path, child.ready_text), daemon=True
        )
        thread.start()

    def _pump(self, child: Child, log_path: Path, ready_text: str | None) -> None:
        if child.process.stdout is None:
            return
        quota = _ConsoleQuota()
        with log_path.open("ab") as log:
            for raw in child.process.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip()
                if ready_text and ready_text in line:
                    child.ready.set()
                if _NOTEWORTHY.search(line) and not _BENIGN.search(line):
                    for shown in quota.admit(f"  [{child.name}] {line[:300]}", time.monotonic()):
                        self.echo(shown)

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
        """Keep everything running until interrupted (KeyboardInterrupt): whatever dies is
        started again after its back-off, and the rest keep running."""
        while True:
            self._revive_broker()
            for child in self.children:
                if child.process.poll() is not None:
                    self._restart(child)
            time.sleep(0.5)

    def _restart(self, child: Child) -> None:
        """Start `child` again after its back-off; the others keep serving meanwhile."""
        ran = time.monotonic() - child.started_at
        child.failures = 1 if ran >= STABLE_AFTER else child.failures + 1
        wait = backoff(child.failures)
        self.echo(
            f"✗ {child.name} exited with code {child.process.returncode} after {ran:.0f} s; "
            f"restarting in {wait:.0f} s (see {self.log_dir / child.name}.log)"
        )
        time.sleep(wait)
        child.process = self._popen(child.command, self.env)
        child.ready = threading.Event()
        child.started_at = time.monotonic()
        self._follow(child)
        self.echo(f"• {child.name} restarted")

    def _revive_broker(self) -> None:
        """Start the embedded broker again (same port, same data) if it died."""
        broker = self.broker
        if broker is None or (broker.process is not None and broker.process.poll() is None):
            return
        code = broker.process.returncode if broker.process is not None else None
        ran = time.monotonic() - self.broker_started_at
        self.broker_failures = 1 if ran >= STABLE_AFTER else self.broker_failures + 1
        wait = backoff(self.broker_failures)
        self.echo(
            f"✗ the Kafka broker exited (code {code}); restarting in {wait:.0f} s "
            f"(see {broker.log_path}); the API answers 503 meanwhile"
        )
        broker.kill()  # forget the dead process (files stay)
        if broker.address is not None:  # the same port: clients reconnect by themselves
            broker.requested_port = broker.address.port
        time.sleep(wait)
        self.broker_started_at = time.monotonic()
        try:
            address = broker.start()
        except BrokerError as exc:
            self.echo(f"✗ the Kafka broker did not start: {exc}")
            return
        self.echo(f"• Kafka restarted on {address.bootstrap}")
        if self.env.get("KESU_KAFKA_BOOTSTRAP") != address.bootstrap:  # its port was taken
            self.env["KESU_KAFKA_BOOTSTRAP"] = address.bootstrap
            for child in self.children:
                self.echo(f"• {child.name}: moving to the new Kafka address")
                child.process.terminate()  # restarted by wait() with the new address

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
