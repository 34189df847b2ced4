"""Stage 2, silence: which maintenance window holds back an alert's pushes right now.

Pure. No I/O. A silence holds an alert while it is active (`Silence.active(now)`) and every
one of its matchers holds for the alert's labels. Silenced alerts are still recorded and shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from notify.labels import labels_of
from notify.matchers import matches
from streams.records import Alert, Silence

__all__ = ["silenced_by"]


def silenced_by(alert: Alert, silences: Iterable[Silence], now: datetime) -> Silence | None:
    """The active silence that holds `alert` at `now` (the one ending last), or None."""
    labels = labels_of(alert)
    holding = [s for s in silences if s.active(now) and matches(s.matchers, labels)]
    return max(holding, key=lambda s: (s.ends_at, s.silence_id), default=None)
