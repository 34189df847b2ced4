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

__all__ = ["expired", "new_silence", "silenced_by"]


def silenced_by(alert: Alert, silences: Iterable[Silence], now: datetime) -> Silence | None:
    """The active silence that holds `alert` at `now` (the one ending last), or None."""
    labels = labels_of(alert)
    holding = [s for s in silences if s.active(now) and matches(s.matchers, labels)]
    return max(holding, key=lambda s: (s.ends_at, s.silence_id), default=None)


def new_silence(
    silence_id: str,
    matchers: Iterable[str],
    *,
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
    now: datetime,
) -> Silence:
    """A silence from its written matchers; raises ValueError (pydantic's) naming what is wrong."""
    return Silence.model_validate(
        {
            "silence_id": silence_id,
            "matchers": tuple(matchers),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "created_by": created_by,
            "created_at": now,
            "comment": comment,
        }
    )


def expired(silence: Silence, *, by: str, now: datetime) -> Silence:
    """The silence ended early at `now` by `by` (ending one that already ended changes nothing)."""
    if not silence.active(now) and silence.starts_at <= now:
        return silence
    return silence.model_copy(update={"expired_at": now, "expired_by": by})
