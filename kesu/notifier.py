"""`kesu notifier`: push alert events to webhook and chat-robot subscribers until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from prometheus_client import start_http_server

from kesu.logs import configure
from kesu.settings import Settings
from kesu.topic_admin import ensure_topics
from notify.notifier import Notifier

log = logging.getLogger(__name__)


def run_notifier(settings: Settings) -> None:
    """Create the topics if needed, expose /metrics, and run the notifier in the foreground."""
    secrets = [settings.kafka_sasl_password, settings.callback_secret]
    configure(settings.worker_log_level, [s.get_secret_value() for s in secrets if s])
    ensure_topics(settings)
    if settings.notifier_metrics_port:
        try:
            start_http_server(settings.notifier_metrics_port, addr=settings.api_host)
        except OSError as exc:
            log.warning(
                "notifier metrics not exposed: port %s: %s", settings.notifier_metrics_port, exc
            )
    asyncio.run(_serve(Notifier(settings)))


async def _serve(notifier: Notifier) -> None:
    """Run until SIGTERM/SIGINT; deliveries in flight are redone by the next run if needed."""
    task = asyncio.create_task(notifier.run(), name="notifier")
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    log.info("Notifier stopped")
