"""A real single-node Apache Kafka (KRaft, broker+controller) on 127.0.0.1, run with `java`.

The jars come from Maven Central through deploy/kafka/pom.xml into deploy/kafka/lib/
(git-ignored, resolved once). The JVM runs in its own session with a parent-death signal,
so it never outlives the process that started it, even when that process is SIGKILLed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

KAFKA_DIR = Path(__file__).resolve().parent.parent / "deploy" / "kafka"
READY_LINE = "Kafka Server started"
DISCOVERY_FILE = "broker.json"


class BrokerError(RuntimeError):
    """The local broker could not be provisioned, started or reached."""


@dataclass(frozen=True)
class BrokerAddress:
    """How to reach a running local broker; also what the discovery file holds."""

    bootstrap: str
    port: int
    controller_port: int
    pid: int
    kafka_version: str
    data_dir: str
    #: SASL_PLAINTEXT (PLAIN) listener, when the broker was started with users
    sasl_bootstrap: str | None = None


# ---------------------------------------------------------------------------------------
# Jars
# ---------------------------------------------------------------------------------------


def kafka_version(kafka_dir: Path = KAFKA_DIR) -> str:
    """The broker version pinned in the pom (the one place it is set)."""
    match = re.search(
        r"<kafka\.version>([^<]+)</kafka\.version>", (kafka_dir / "pom.xml").read_text()
    )
    if not match:
        raise BrokerError(f"{kafka_dir / 'pom.xml'} has no <kafka.version> property")
    return match.group(1).strip()


def ensure_jars(kafka_dir: Path = KAFKA_DIR, progress: Callable[[str], None] = print) -> Path:
    """Resolve the broker's jars from Maven Central once; later calls reuse them."""
    lib = kafka_dir / "lib"
    version = kafka_version(kafka_dir)
    marker = lib / f".resolved-{version}"
    if marker.exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("Maven (mvn) is needed once to fetch the Kafka jars: apt install maven")
    progress(f"Fetching Apache Kafka {version} jars from Maven Central (first run only)…")
    if lib.exists():
        shutil.rmtree(lib)
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - fixed argument list
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(kafka_dir / "pom.xml"),
            f"-Dmaven.repo.local={kafka_dir / '.m2'}",
            "dependency:copy-dependencies",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BrokerError(
            f"mvn could not resolve the Kafka jars:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    jars = list(lib.glob("*.jar"))
    if not any(j.name.startswith("kafka_2.13-") for j in jars):
        raise BrokerError(f"mvn finished but {lib} holds no kafka_2.13 jar")
    marker.write_text(f"{len(jars)} jars\n")
    progress(f"Resolved {len(jars)} jars in {time.monotonic() - started:.1f} s into {lib}")
    return lib


# ---------------------------------------------------------------------------------------
# Ports and discovery
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), timeout=timeout),
    ):
        return True
    return False


def discover(data_dir: Path) -> BrokerAddress | None:
    """The broker a `kesu broker` / `kesu run` started in this data dir, if it is still up."""
    path = data_dir / DISCOVERY_FILE
    try:
        address = BrokerAddress(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if not _pid_alive(address.pid) or not port_accepts(address.port):
        return None
    return address


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------------------
# The broker process
# ---------------------------------------------------------------------------------------


class LocalKafka:
    """Start, wait for, and stop one local broker whose files live in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        heap: str = "512m",
        kafka_dir: Path = KAFKA_DIR,
        progress: Callable[[str], None] = print,
        sasl_users: Mapping[str, str] | None = None,
    ) -> None:
        """`sasl_users` (user -> password) adds a SASL_PLAINTEXT listener with the PLAIN mechanism,
        to exercise clients configured for an authenticated cluster."""
        self.data_dir = data_dir.resolve()
        self.sasl_users = dict(sasl_users or {})
        self.sasl_port = 0
        self.requested_port = port
        self.heap = heap
        self.kafka_dir = kafka_dir
        self.progress = progress
        self.process: subprocess.Popen[bytes] | None = None
        self.address: BrokerAddress | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> BrokerAddress:
        """Format storage if new, launch the JVM, and return once clients can connect."""
        if self.process is not None:
            raise BrokerError("broker already started")
        if shutil.which("java") is None:
            raise BrokerError(
                "Java 17 is needed to run the local Kafka broker: apt install openjdk-17-jre-headless"
            )
        lib = ensure_jars(self.kafka_dir, self.progress)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        running = discover(self.data_dir)
        if running is not None:
            raise BrokerError(
                f"a broker (pid {running.pid}) already runs on {running.bootstrap} with data dir {self.data_dir}"
            )
        last_error: BrokerError | None = None
        for _attempt in range(3):  # a picked free port can be taken before the JVM binds it
            port, controller_port = self._choose_ports()
            self._write_config(port, controller_port)
            self._format_storage(lib)
            try:
                return self._launch(lib, port, controller_port, timeout)
            except BrokerError as exc:
                last_error = exc
                if "Address already in use" not in str(exc):
                    raise
        raise last_error or BrokerError("broker did not start")

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM (controlled shutdown), then SIGKILL after `grace` seconds; returns the exit code."""
        process, self.process = self.process, None
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / DISCOVERY_FILE).unlink()
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                self.progress(f"broker did not stop within {grace:.0f} s; killing it")
                process.kill()
                process.wait(10)
        return process.returncode

    def kill(self) -> None:
        """SIGKILL the JVM, as a crash would (for failure tests); files stay for a restart."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def __enter__(self) -> BrokerAddress:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        return self.data_dir / "broker.log"

    # -- steps ----------------------------------------------------------------------------

    def _choose_ports(self) -> tuple[int, int]:
        """The requested port, else the ports of the previous run if free, else fresh ones."""
        remembered = self.data_dir / "ports.json"
        if self.requested_port:
            return self.requested_port, free_port()
        with contextlib.suppress(OSError, ValueError, KeyError):
            previous = json.loads(remembered.read_text())
            port, controller_port = int(previous["port"]), int(previous["controller_port"])
            if port_is_free(port) and port_is_free(controller_port):
                return port, controller_port
        port, controller_port = free_port(), free_port()
        while controller_port == port:
            controller_port = free_port()
        return port, controller_port

    def _write_config(self, port: int, controller_port: int) -> None:
        # Static quorum (controller.quorum.voters): the voter endpoint comes from this file at
        # every start, so a persistent data dir survives a change of ports.
        listeners = [f"PLAINTEXT://127.0.0.1:{port}"]
        protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
        sasl_lines = ""
        if self.sasl_users:
            self.sasl_port = free_port()
            listeners.append(f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}")
            protocols.append("SASL_PLAINTEXT:SASL_PLAINTEXT")
            users = " ".join(
                f'user_{name}="{password}"' for name, password in self.sasl_users.items()
            )
            sasl_lines = (
                "sasl.enabled.mechanisms=PLAIN\n"
                "listener.name.sasl_plaintext.plain.sasl.jaas.config="
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};\n"
            )
        config = f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners={",".join(listeners)},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners={",".join(listeners)}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map={",".join(protocols)}
{sasl_lines}log.dirs={self.data_dir / "log"}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=4
log.segment.bytes=67108864
"""
        (self.data_dir / "server.properties").write_text(config)
        (self.data_dir / "ports.json").write_text(
            json.dumps({"port": port, "controller_port": controller_port})
        )

    def _format_storage(self, lib: Path) -> None:
        if (self.data_dir / "log" / "meta.properties").exists():
            return
        cluster_id = _cluster_id()
        result = subprocess.run(  # noqa: S603 - fixed argument list
            [
                *self._java(lib),
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",
                f"--config={self.data_dir / 'server.properties'}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(
                f"formatting Kafka storage failed:\n{(result.stdout + result.stderr)[-3000:]}"
            )

    def _launch(self, lib: Path, port: int, controller_port: int, timeout: float) -> BrokerAddress:
        log = self.log_path.open("ab")
        start_offset = log.tell()
        command = [*self._java(lib), "kafka.Kafka", str(self.data_dir / "server.properties")]
        setpriv = shutil.which("setpriv")
        if setpriv:
            command = [setpriv, "--pdeathsig", "TERM", *command]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the JVM in order
            preexec_fn=None if setpriv else _die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self._log_since(start_offset)
                self.process = None
                raise BrokerError(
                    f"the Kafka JVM exited with code {tail[0]} before it was ready:\n{tail[1]}"
                )
            if READY_LINE in self._log_since(start_offset)[1] and port_accepts(port):
                self.address = BrokerAddress(
                    bootstrap=f"127.0.0.1:{port}",
                    port=port,
                    controller_port=controller_port,
                    pid=self.process.pid,
                    kafka_version=kafka_version(self.kafka_dir),
                    data_dir=str(self.data_dir),
                    sasl_bootstrap=f"127.0.0.1:{self.sasl_port}" if self.sasl_users else None,
                )
                (self.data_dir / DISCOVERY_FILE).write_text(json.dumps(asdict(self.address)))
                return self.address
            time.sleep(0.1)
        self.stop(grace=5)
        raise BrokerError(
            f"the Kafka broker was not ready within {timeout:.0f} s; see {self.log_path}"
        )

    def _log_since(self, offset: int) -> tuple[int | None, str]:
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
        code = self.process.returncode if self.process is not None else None
        return code, text[-4000:]

    def _java(self, lib: Path) -> list[str]:
        return [
            "java",
            "-Xms128m",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.kafka_dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.data_dir}",
            "-cp",
            f"{lib}/*",
        ]


def _cluster_id() -> str:
    """A random KRaft cluster id in Kafka's format; like Kafka's Uuid.randomUuid(), never one that
    starts with '-' (a command line would read it as an option)."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not candidate.startswith("-"):
            return candidate


def _die_with_parent() -> None:
    """Fallback when setpriv is missing: ask the kernel to SIGTERM us when the parent dies."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextlib.contextmanager
def running_broker(data_dir: Path, **options: object) -> Iterator[BrokerAddress]:
    """A broker for the duration of a `with` block, always stopped afterwards."""
    broker = LocalKafka(data_dir, **options)  # type: ignore[arg-type]
    try:
        yield broker.start()
    finally:
        broker.stop()
