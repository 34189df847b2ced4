"""Stage 7b, fold: which due groups go as their own message and which fold into one digest.

Pure. No I/O. Given the groups that are due (each with its best tier and due time) and how
many messages the budget allows now, the plan sends tier 1 first, then tier 2; every group
gets its own message while there is budget for the rest, and the last message the budget
allows carries every group still waiting (a digest). Groups of a `digest_tiers` tier (tier 3,
proactive outreach) never take the last message alone: they wait for a digest, or for budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["Due", "plan"]

K = TypeVar("K")


@dataclass(frozen=True)
class Due(Generic[K]):
    """A group that is due: its key, its most urgent tier, and since when it is due."""

    key: K
    best_tier: int
    due_at: datetime
    urgent: bool = False


def plan(
    due: Sequence[Due[K]], tokens: int, *, digest_tiers: Sequence[int] = (3,), reserve: int = 1
) -> list[list[K]]:
    """The messages to send now, each a list of group keys (one key: that group's message).

    Args:
        tokens: messages the budget allows now.
        reserve: budget a `digest_tiers` group may not use alone (kept for what is urgent).
    """
    ordered = sorted(due, key=lambda d: (d.best_tier, not d.urgent, d.due_at))
    messages: list[list[K]] = []
    left = tokens
    for index, group in enumerate(ordered):
        if left <= 0:
            break
        rest = ordered[index + 1 :]
        if group.best_tier in digest_tiers and left <= reserve:
            break  # outreach waits: for a digest carried by something urgent, or for budget
        if left == 1 and rest:
            messages.append([group.key, *(d.key for d in rest)])
            break
        messages.append([group.key])
        left -= 1
    return messages
