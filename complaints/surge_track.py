"""One surge key's life as the worker sees it: contacts and ticks in, reports out.

Pure; time is an argument. The worker keeps one `SurgeEntry` per key (its baseline, the open
window and that window's sample) and calls `on_contact` for each negative contact counted
toward the key and `on_tick` when the clock passes a window with nothing in it. Both fold the
previous window into the baseline exactly once when a later window starts, judge the current
one, and return a `SurgeReport` for the grouping stage when there is something to say: the
surge opened (with the window's members), grew, gained a member while open, or closed. The
grouping stage (complaints/surge_incidents.py) merges the keys of one burst into one incident.
Report ids derive from the key, the surge's opening window and what is said, so a replayed
contact yields the very same report and the grouping stage drops it.

Why not Faust's windowed tables: the baseline needs every closed window folded once, in order,
inside the stream (where table writes are changelogged); `on_window_close` fires on expiry
from a background task, and a window with no contact never closes at all. The windows here
are the same tumbling windows, computed from event time by `window_index`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from complaints.rules import SurgePolicy
from complaints.surge import SurgeKey, SurgeSignal, SurgeState, Verdict, surge_keys, verdict
from complaints.surge_baseline import level_at, update, window_index, window_start_at
from complaints.surge_sample import (
    DIMENSION_LABELS,
    Member,
    SurgeSample,
    SurgeSummary,
    add_to_sample,
    member_from,
    member_of,
    summarize_surge,
    surge_contact_of,
)
from streams.records import (
    AssessedEvent,
    GroupMember,
    SurgeChange,
    SurgeContact,
    SurgeDetail,
    SurgeReport,
)

#: Case keys of surges: a surge is about a key, not a customer.
CASE_PREFIX = "surge:"

#: Contacts a key remembers to know a replay: ingest re-sends the contacts whose de-duplication
#: mark did not reach Kafka before a crash (a batch or two), and a key counts each once.
REMEMBERED_CONTACTS = 200


@dataclass(frozen=True, slots=True)
class SurgeEntry:
    """What the worker stores per key: the baseline and the window being counted."""

    state: SurgeState = field(default_factory=SurgeState)
    window: int | None = None  # index of the window `sample` counts
    sample: SurgeSample = field(default_factory=SurgeSample)
    #: digests of the last REMEMBERED_CONTACTS contacts counted (a replay is not counted again)
    recent: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "state": json.loads(self.state.to_json()),
                "window": self.window,
                "sample": json.loads(self.sample.to_json()),
                "recent": list(self.recent),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> SurgeEntry:
        data = json.loads(text)
        window = data["window"]
        if window is not None and (not isinstance(window, int) or isinstance(window, bool)):
            raise ValueError("window must be an integer")
        return cls(
            state=SurgeState.from_json(json.dumps(data["state"])),
            window=window,
            recent=tuple(str(d) for d in data.get("recent", ())),  # none before 2026-12
            sample=SurgeSample.from_json(json.dumps(data["sample"], ensure_ascii=False)),
        )

    @property
    def surging(self) -> bool:
        return self.state.opened is not None


class Step:
    """The outcome of one input: the entry to store, the verdict, and a report to send."""

    __slots__ = ("entry", "report", "verdict")

    def __init__(
        self, entry: SurgeEntry, verdict: Verdict | None, report: SurgeReport | None
    ) -> None:
        self.entry = entry
        self.verdict = verdict
        self.report = report


def case_key_of(key: SurgeKey) -> str:
    return f"{CASE_PREFIX}{key.text}"


def parse_key(text: str) -> SurgeKey:
    """The SurgeKey of a table key "batch:B2511-07"; ValueError for anything else."""
    dimension, sep, value = text.partition(":")
    if not sep or not value or dimension not in DIMENSION_LABELS:
        raise ValueError(f"not a surge key: {text!r}")
    return SurgeKey(dimension, value)  # type: ignore[arg-type]


def _advance(entry: SurgeEntry, index: int, policy: SurgePolicy) -> SurgeEntry:
    """Fold the entry's window into the baseline when `index` is a later one."""
    if entry.window is None:
        return replace(entry, window=index)
    if index <= entry.window:
        return entry
    state = update(entry.state, entry.sample.count, window_start_at(entry.window, policy), policy)
    return SurgeEntry(state=state, window=index, sample=SurgeSample(), recent=entry.recent)


def on_contact(
    entry: SurgeEntry,
    key: SurgeKey,
    contact: SurgeContact,
    policy: SurgePolicy,
    max_members: int = 20,
) -> Step:
    """Count one negative contact (at its event time) and judge its window.

    A contact older than the window being counted is too late to count (its window was
    folded already), and one the key counted already (a replay) is not counted again: both
    change nothing. While the key surges, every contact is reported (the incident lists it as
    a member).
    """
    index = window_index(contact.occurred_at, policy)
    if entry.window is not None and index < entry.window:
        return Step(entry, None, None)
    digest = contact_digest(contact.event_id)
    if digest in entry.recent:  # a replay after a crash: counted already
        return Step(entry, None, None)
    entry = _advance(entry, index, policy)
    sample = add_to_sample(entry.sample, contact, policy, max_members)
    recent = (*entry.recent, digest)[-REMEMBERED_CONTACTS:]
    counted = replace(entry, sample=sample, recent=recent)
    return _judge(counted, key, index, policy, member_from(contact))


def contact_digest(event_id: str) -> str:
    """A short stable name of a contact for `SurgeEntry.recent` (64 bits: ids are up to 128
    characters, and a key remembers hundreds)."""
    return hashlib.blake2b(event_id.encode(), digest_size=8).hexdigest()


def on_contacts(
    entry: SurgeEntry,
    key: SurgeKey,
    contacts: tuple[SurgeContact, ...],
    policy: SurgePolicy,
    max_members: int = 20,
) -> list[Step]:
    """`on_contact` for each contact in turn, each from the entry the previous one left (the
    contacts of one surge-contacts record)."""
    steps = []
    for contact in contacts:
        step = on_contact(entry, key, contact, policy, max_members)
        steps.append(step)
        entry = step.entry
    return steps


def counted_contact(event: AssessedEvent, policy: SurgePolicy) -> SurgeContact | None:
    """The contact as the surge keys count it, or None when it counts toward none."""
    keys = tuple(k.text for k in surge_keys(event, policy))
    return surge_contact_of(event, keys, policy) if keys else None


def on_tick(entry: SurgeEntry, key: SurgeKey, now: datetime, policy: SurgePolicy) -> Step:
    """The clock passed `now`: fold finished windows, judge the current (maybe empty) one."""
    index = window_index(now, policy)
    if entry.window is not None and index < entry.window:
        return Step(entry, None, None)
    return _judge(_advance(entry, index, policy), key, index, policy, None)


def next_tick_at(entry: SurgeEntry, policy: SurgePolicy) -> datetime | None:
    """When a tick could change an open surge: the start of the window after the current one.

    None when no surge is open: a quiet key needs no ticks, its next contact folds the gap.
    """
    if not entry.surging or entry.window is None:
        return None
    return window_start_at(entry.window + 1, policy)


_CHANGES = {
    SurgeSignal.SURGE_OPENED: SurgeChange.OPENED,
    SurgeSignal.SURGE_GROWING: SurgeChange.GREW,
    SurgeSignal.SURGE_ONGOING: SurgeChange.JOINED,
    SurgeSignal.SURGE_CLOSED: SurgeChange.CLOSED,
}


def _judge(
    entry: SurgeEntry, key: SurgeKey, index: int, policy: SurgePolicy, member: Member | None
) -> Step:
    start = window_start_at(index, policy)
    judged = verdict(entry.state, entry.sample.count, start, policy)
    entry = replace(entry, state=judged.state)
    change = _CHANGES.get(judged.signal)
    if change is None or (change is SurgeChange.JOINED and member is None):
        return Step(entry, judged, None)
    if change is SurgeChange.OPENED:
        members = entry.sample.group_members()  # the whole window so far
    elif member is not None and change is not SurgeChange.CLOSED:
        members = (member_of(member),)
    else:
        members = ()
    summary = summarize_surge(key, judged, entry.sample, start, policy)
    first = entry.state.first if entry.state.first is not None else entry.window
    first_seen = window_start_at(index if first is None else min(first, index), policy)
    young = level_at(entry.state, index, policy).young
    report = surge_report(summary, judged, change, members, first_seen, young)
    return Step(entry, judged, report)


def surge_report(
    summary: SurgeSummary,
    judged: Verdict,
    change: SurgeChange,
    members: tuple[GroupMember, ...],
    first_seen: datetime,
    new_key: bool,
) -> SurgeReport:
    """What the key tells the grouping stage; the id derives from what it says (replay-safe)."""
    key = summary.key
    opened_at = judged.opened_at or summary.window_start
    what = ",".join(m.event_id for m in members) if change is SurgeChange.JOINED else ""
    if change is SurgeChange.GREW:
        what = str(judged.state.announced)
    digest = hashlib.sha256(
        f"{key.text}|{opened_at.isoformat()}|{change.value}|{what}".encode()
    ).hexdigest()
    return SurgeReport(
        report_id=f"sr-{digest[:24]}",
        key=key.text[:250],
        change=change,
        at=max((m.at for m in members), default=summary.window_start),
        opened_at=opened_at,
        first_seen=first_seen,
        detail=SurgeDetail(
            dimension=key.dimension,
            value=key.value[:200],
            window_start=summary.window_start,
            window_minutes=max(1, summary.scan_minutes),
            count=summary.count,
            expected=round(summary.expected, 3),
            ratio=round(summary.ratio, 2),
            p_value=min(1.0, max(0.0, judged.p_value)),
            new_key=new_key,
            keywords=summary.keywords,
            examples=summary.examples,
        ),
        variance=max(0.0, judged.variance),
        members=members,
    )
