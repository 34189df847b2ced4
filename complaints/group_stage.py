"""The grouping stage's one entry point: a surge key's report, an order's delay, a voice
(a negative text, for emerging issues) or a clock tick (quiet issues close), in order.

Pure. `advance(book, item, rules)` -> `GroupStep(book, signals, reason, writes)`; the shell
(agents/grouping.py) stores the book in a one-partition table and sends the parent signals.
"""

from __future__ import annotations

from complaints.emerging_incidents import on_clock, on_voice
from complaints.grouping import GroupBook, GroupStep
from complaints.rules import RuleBook
from complaints.surge_incidents import on_surge_report
from complaints.waves import on_delay
from streams.records import IssueVoice, Signal, SurgeReport, Tick

GroupInput = IssueVoice | SurgeReport | Signal | Tick


def advance(book: GroupBook | None, item: GroupInput, rules: RuleBook) -> GroupStep:
    """Fold one input into the book (None: an empty one)."""
    book = book or GroupBook()
    if isinstance(item, IssueVoice):
        return on_voice(book, item, rules)
    if isinstance(item, SurgeReport):
        return on_surge_report(book, item, rules)
    if isinstance(item, Tick):
        return on_clock(book, item.at, rules)
    return on_delay(book, item, rules)
