"""The grouping stage's one entry point: a surge key's report or an order's delay, in order.

Pure. `advance(book, item, rules)` -> `GroupStep(book, signals, reason)`; the shell
(agents/grouping.py) stores the book in a one-partition table and sends the parent signals.
"""

from __future__ import annotations

from complaints.grouping import GroupBook, GroupStep
from complaints.rules import RuleBook
from complaints.surge_incidents import on_surge_report
from complaints.waves import on_delay
from streams.records import Signal, SurgeReport

GroupInput = SurgeReport | Signal


def advance(book: GroupBook | None, item: GroupInput, rules: RuleBook) -> GroupStep:
    """Fold one input into the book (None: an empty one)."""
    book = book or GroupBook()
    if isinstance(item, SurgeReport):
        return on_surge_report(book, item, rules)
    return on_delay(book, item, rules)
