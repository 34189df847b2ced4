"""Prometheus metrics of push: deliveries, failures, routing drops, budgets, folds, suppressions.

Defined once in kesu/metrics.py (with every other metric); the names here keep push's imports
short. The notifier process exposes them on its own /metrics port.
"""

from __future__ import annotations

from kesu.metrics import (
    PUSH_BUDGET_LIMIT,
    PUSH_BUDGET_USED,
    PUSH_FOLDED,
    PUSH_MESSAGES,
    PUSH_SKIPPED,
    PUSH_SUPPRESSED,
    PUSH_WAITING,
)
from kesu.metrics import PUSH_DELIVERIES as WEBHOOK_DELIVERIES
from kesu.metrics import PUSH_FAILURES as WEBHOOK_FAILURES
from kesu.metrics import PUSH_NOT_ROUTED as WEBHOOK_NOT_ROUTED

__all__ = [
    "PUSH_BUDGET_LIMIT",
    "PUSH_BUDGET_USED",
    "PUSH_FOLDED",
    "PUSH_MESSAGES",
    "PUSH_SKIPPED",
    "PUSH_SUPPRESSED",
    "PUSH_WAITING",
    "WEBHOOK_DELIVERIES",
    "WEBHOOK_FAILURES",
    "WEBHOOK_NOT_ROUTED",
]
