"""Prometheus metrics of push: deliveries by outcome, failed attempts by reason, routing drops.

Kept apart from kesu/metrics.py; registered in the default registry, so the API's /metrics
exposes them as soon as api.push is imported.
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["WEBHOOK_DELIVERIES", "WEBHOOK_FAILURES", "WEBHOOK_NOT_ROUTED"]

WEBHOOK_DELIVERIES = Counter(
    "kesu_webhook_deliveries_total",
    "Delivery log entries by format and outcome: delivered and dead_lettered once per delivery, "
    "retrying once per scheduled retry, filtered once per subscription an event was not sent to.",
    ["format", "outcome"],
)
WEBHOOK_FAILURES = Counter(
    "kesu_webhook_failures_total",
    "Failed delivery attempts by format and reason (TIMEOUT, SERVER_ERROR, ROBOT_RATE_LIMITED, ...).",
    ["format", "reason"],
)
WEBHOOK_NOT_ROUTED = Counter(
    "kesu_webhook_not_routed_total",
    "Subscriptions an alert event was not sent to, by routing reason (DISABLED, TRANSITION, ...).",
    ["reason"],
)
