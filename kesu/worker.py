"""`kesu worker`: run the Faust agents until stopped (SIGTERM/SIGINT drain and commit)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading

import faust
import uvloop
from faust.worker import Worker
from prometheus_client import start_http_server

from agents.app import create_app, table_changelogs
from agents.ingest import preload_scorer
from kesu.heap import fix_mmap_threshold, freeze_long_lived, limit_arenas, release_free_heap
from kesu.logs import install_filter
from kesu.settings import Settings
from kesu.topic_admin import ensure_named_topics, ensure_topics

log = logging.getLogger(__name__)


#: How long a stop (SIGTERM/SIGINT) may take before the process exits anyway. Faust's own stop
#: commits and flushes; with Kafka gone it can wait forever (seen: a worker whose supervisor died
#: while the broker was down spun for an hour). Nothing is lost by leaving: uncommitted input
#: is read again by whoever takes the partitions.
STOP_DEADLINE_SECONDS = 60.0


class _RedactingWorker(Worker):
    """Faust's worker, with kesu's redacting log filter on the handlers Faust installs, and a
    deadline on stopping."""

    secrets: tuple[str, ...] = ()

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        install_filter(self.secrets)

    def _schedule_shutdown(self, signal: signal.Signals) -> None:
        if not self._signal_stop_time:
            deadline = threading.Timer(STOP_DEADLINE_SECONDS, _exit_after_deadline)
            deadline.daemon = True
            deadline.start()
        super()._schedule_shutdown(signal)

    async def on_startup_finished(self) -> None:
        """Say which event loops run the worker (KESU_WORKER_EVENT_LOOP), then Faust's own."""
        thread = getattr(self.app.consumer, "_thread", None)  # Faust's consumer thread
        log.info(
            "event loops: main %s, consumer thread %s",
            _loop_name(self.loop),
            _loop_name(getattr(thread, "thread_loop", None)),
        )
        await super().on_startup_finished()

    def _on_sigusr1(self) -> None:
        """Mode's task stacks, and the consumer's commit bookkeeping per stream partition."""
        super()._on_sigusr1()
        describe = getattr(self.app.consumer, "bookkeeping", None)
        if describe is not None:
            for line in describe():
                log.warning("commit bookkeeping: %s", line)


def _exit_after_deadline() -> None:
    log.error(
        "worker did not stop within %.0f s (is Kafka reachable?); exiting", STOP_DEADLINE_SECONDS
    )
    os._exit(3)


def _loop_name(loop: object) -> str:
    kind = type(loop)
    return "none" if loop is None else f"{kind.__module__}.{kind.__qualname__}"


def use_event_loop(name: str) -> None:
    """Make every event loop created from now on in this process (Faust's, and its consumer
    thread's) the named kind: uvloop's policy, or asyncio's own."""
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy() if name == "uvloop" else None)


def run_worker(settings: Settings) -> None:
    """Create the topics and table changelogs if needed, then run the worker in the foreground."""
    limit_arenas()  # before any thread starts (kesu/heap.py)
    use_event_loop(settings.worker_event_loop)  # before Faust creates its loops (both threads)
    fix_mmap_threshold()
    ensure_topics(settings)
    settings.worker_state_dir.mkdir(parents=True, exist_ok=True)
    app: faust.App = create_app(settings)
    ensure_named_topics(settings, table_changelogs(app))
    log.info("scorer loaded in %.1f s", preload_scorer(settings))
    release_free_heap()  # the scorer's load is a transient of ~250 MB
    log.info("%d long-lived objects out of the collector's sight", freeze_long_lived())
    if settings.worker_metrics_port:
        try:
            start_http_server(settings.worker_metrics_port, addr=settings.api_host)
        except OSError as exc:
            log.warning(
                "worker metrics not exposed: port %s: %s", settings.worker_metrics_port, exc
            )
    secret = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    worker = _RedactingWorker(app, loglevel=settings.worker_log_level, quiet=True)
    worker.secrets = (secret,) if secret else ()
    worker.execute_from_commandline()
