"""How each rung runs: the processes, their settings, and the consumer group to watch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from bench.ladder.cluster import Cluster
from bench.ladder.processes import Child, child_env
from complaints.durations import format_duration
from kesu.settings import Settings

#: Rungs, in ladder order, with what runs (the report prints these).
RUNGS: dict[str, str] = {
    "L1": "raw aiokafka passthrough (getmany 500 → send → wait for the batch → commit)",
    "L2": "L1 + kesu's decode and validation (streams/codec.py) + dead letters",
    "L3": "L2 + plain SnowNLP(text).sentiments on the texts kesu scores",
    "L3p": "L2 + kesu's scorer (complaints.contacts.assess_contact), contact → assessments",
    "L4": "the real `kesu worker`, scoring replaced by a precomputed lookup (KESU_BENCH_SCORES)",
    "L5": "the real `kesu worker`, full pipeline",
}
LABEL = {"L3p": "L3′"}
PASSTHROUGH = ("L1", "L2", "L3", "L3p")
#: Timers (SLA clock, logistics and churn checks) off during drains: their work is per unit
#: of time, not per event, and a tick landing after the drain would move its end. The
#: latency run keeps the shipped intervals.
QUIET_TIMERS = {
    "tick_interval": timedelta(hours=1),
    "logistics_check_interval": timedelta(hours=1),
    "churn_check_interval": timedelta(hours=1),
}


def label(rung: str) -> str:
    return LABEL.get(rung, rung)


def settings_env(settings: Settings) -> dict[str, str]:
    """KESU_* variables that reproduce `settings` in a child process."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, timedelta):
            value = format_duration(value)
        env[f"KESU_{name.upper()}"] = str(value)
    return env


@dataclass
class Candidate:
    rung: str
    children: list[Child]
    group: str
    ready_text: str

    def start(self, timeout: float = 180.0) -> None:
        for child in self.children:
            child.start()
        for child in self.children:
            child.wait_for(self.ready_text, timeout)

    def stop(self) -> None:
        for child in self.children:
            child.stop()


def passthrough(cluster: Cluster, rung: str, namespace: str, logs: Path) -> Candidate:
    group = f"{namespace}-rung"
    args = [
        "-m",
        "bench.ladder.passthrough",
        rung,
        "--bootstrap",
        cluster.bootstrap,
        "--namespace",
        namespace,
        "--group",
        group,
    ]
    child = Child(label(rung), args, child_env(), logs / f"{namespace}-{rung}.log")
    return Candidate(rung, [child], group, "ready")


def worker_settings(
    cluster: Cluster, namespace: str, data_dir: Path, *, quiet_timers: bool = True, **values: object
) -> Settings:
    options: dict[str, object] = {
        "data_dir": data_dir,
        # Paused (SIGSTOP) while the corpus is published: keep its place in the group.
        "worker_session_timeout": timedelta(seconds=30),
        **(QUIET_TIMERS if quiet_timers else {}),
        **values,
    }
    return cluster.settings(namespace, **options)


def workers(
    cluster: Cluster,
    rung: str,
    namespace: str,
    logs: Path,
    data_dir: Path,
    *,
    count: int = 1,
    partitions: int | None = None,
    bench_scores: Path | None = None,
    quiet_timers: bool = True,
    **values: object,
) -> Candidate:
    """`count` real `kesu worker` processes in one group (the namespace); `values` are settings."""
    settings = worker_settings(
        cluster,
        namespace,
        data_dir,
        quiet_timers=quiet_timers,
        bench_scores=bench_scores,
        **values,
    )
    if partitions is not None:
        settings = settings.model_copy(update={"pipeline_partitions": partitions})
    args = ["-m", "kesu", "worker"]
    children = []
    for index in range(count):
        env = settings_env(settings)
        env["KESU_DATA_DIR"] = str(data_dir / f"w{index}")
        children.append(
            Child(
                f"{label(rung)} worker {index + 1}/{count}",
                args,
                child_env(env),
                logs / f"{namespace}-{rung}-w{index}.log",
            )
        )
    return Candidate(rung, children, namespace, "Worker ready")
