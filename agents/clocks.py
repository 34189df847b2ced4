"""The clock: every tick_interval, send a Tick for each local case whose next deadline passed.

Timers cannot write tables (Faust), so the timer only *sends*; the respond agent decides,
records what it announced, and a duplicate tick changes nothing. After a restart the first
scan finds every deadline that passed while the worker was down, and it fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import faust

from agents.sending import send_confirmed
from kesu.metrics import TICKS_SENT
from kesu.settings import Settings
from streams.codec import encode_record
from streams.records import Tick
from streams.topics import TICKS

log = logging.getLogger(__name__)

#: Do not re-send a tick for the same deadline sooner than this (the agent may be busy).
_RESEND_AFTER_SECONDS = 30.0


def register(
    app: faust.App, settings: Settings, due: faust.types.TableT, clock: Callable[[], datetime]
) -> None:
    ticks = TICKS.name(settings.namespace)
    sent: dict[str, tuple[float, float]] = {}  # case key -> (deadline ticked, when)

    @app.timer(interval=settings.tick_interval.total_seconds(), on_leader=False)
    async def tick_due_cases() -> None:
        now = clock()
        moment = now.timestamp()
        for key, deadline in list(due.items()):
            if deadline is None or deadline > moment:
                continue
            previous = sent.get(key)
            if (
                previous
                and previous[0] == deadline
                and moment - previous[1] < _RESEND_AFTER_SECONDS
            ):
                continue
            await send_confirmed(
                app, ticks, key=key.encode(), value=encode_record(Tick(case_key=key, at=now))
            )
            sent[key] = (deadline, moment)
            TICKS_SENT.inc()
        for key in [
            k for k, (_, when) in sent.items() if moment - when > 10 * _RESEND_AFTER_SECONDS
        ]:
            del sent[key]
