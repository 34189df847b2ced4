"""`kesu worker`: run the Faust agents until stopped (SIGTERM/SIGINT drain and commit)."""

from __future__ import annotations

import logging

import faust
from faust.worker import Worker
from prometheus_client import start_http_server

from agents.app import create_app
from kesu.logs import install_filter
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics

log = logging.getLogger(__name__)


class _RedactingWorker(Worker):
    """Faust's worker, with kesu's redacting log filter on the handlers Faust installs."""

    secrets: tuple[str, ...] = ()

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        install_filter(self.secrets)


def run_worker(settings: Settings) -> None:
    """Create the topics if needed, then run the worker in the foreground."""
    ensure_topics(settings)
    settings.worker_state_dir.mkdir(parents=True, exist_ok=True)
    app: faust.App = create_app(settings)
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
