"""Crash points for the R2 trials: a worker that dies at a chosen place in its batch cycle.

Off unless `KESU_CRASH_POINT` names a point (the trials set it; nothing else should): the
process exits at once, as a SIGKILL would, the `KESU_CRASH_AFTER`-th time (default 1) any
agent named in `KESU_CRASH_AGENT` (default: any) reaches it. Points, in batch order:

- `mid-batch`: half of a batch handled, nothing sent;
- `after-produce`: the batch's outputs acknowledged by Kafka, its tables not written, its
  offsets not committed;
- `after-changelog`: its table writes handed to the producer (changelog), offsets not acked;
- `rebalance`: partitions being revoked (a second worker joined).
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

POINTS = ("mid-batch", "after-produce", "after-changelog", "rebalance")

_chosen = os.environ.get("KESU_CRASH_POINT") or None
_agent = os.environ.get("KESU_CRASH_AGENT") or None
_remaining = int(os.environ.get("KESU_CRASH_AFTER") or "1")


def reached(point: str, agent: str = "") -> None:
    """Exit here if this is the chosen crash point (a no-op otherwise)."""
    global _remaining
    if _chosen != point or (_agent is not None and agent != _agent):
        return
    _remaining -= 1
    if _remaining > 0:
        return
    log.error("crash point %s reached in %s: exiting now (R2 trial)", point, agent or "-")
    os._exit(137)
