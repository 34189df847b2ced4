"""One surge key's life as the worker sees it: contacts and ticks in, signals out.

Pure; time is an argument. The worker keeps one `SurgeEntry` per key (its baseline, the open
window and that window's sample) and calls `on_contact` for each negative contact counted
toward the key and `on_tick` when the clock passes a window with nothing in it. Both fold the
previous window into the baseline exactly once when a later window starts, judge the current
one, and return the `Signal` for the response engine when the verdict announces something
(opened, grew, closed). Signal ids derive from the key, the surge's opening window and the
count announced, so a replayed contact yields the very same signal and the engine drops it.

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
from complaints.surge import SurgeKey, SurgeReason, SurgeSignal, SurgeState, Verdict, verdict
from complaints.surge_baseline import update, window_index, window_start_at
from complaints.surge_sample import (
    DIMENSION_LABELS,
    SurgeSample,
    SurgeSummary,
    add_to_sample,
    key_label,
    summarize_surge,
)
from streams.records import (
    AlertKind,
    AssessedEvent,
    Category,
    Cue,
    Signal,
    SignalChange,
    SurgeDetail,
)

#: Case keys of surges: a surge is about a key, not a customer.
CASE_PREFIX = "surge:"


@dataclass(frozen=True, slots=True)
class SurgeEntry:
    """What the worker stores per key: the baseline and the window being counted."""

    state: SurgeState = field(default_factory=SurgeState)
    window: int | None = None  # index of the window `sample` counts
    sample: SurgeSample = field(default_factory=SurgeSample)

    def to_json(self) -> str:
        return json.dumps(
            {
                "state": json.loads(self.state.to_json()),
                "window": self.window,
                "sample": json.loads(self.sample.to_json()),
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
            sample=SurgeSample.from_json(json.dumps(data["sample"], ensure_ascii=False)),
        )

    @property
    def surging(self) -> bool:
        return self.state.opened is not None


class Step:
    """The outcome of one input: the entry to store, the verdict, and a signal to send."""

    __slots__ = ("entry", "signal", "verdict")

    def __init__(self, entry: SurgeEntry, verdict: Verdict | None, signal: Signal | None) -> None:
        self.entry = entry
        self.verdict = verdict
        self.signal = signal


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
    return SurgeEntry(state=state, window=index, sample=SurgeSample())


def on_contact(entry: SurgeEntry, key: SurgeKey, event: AssessedEvent, policy: SurgePolicy) -> Step:
    """Count one negative contact (at its event time) and judge its window.

    A contact older than the window being counted is too late to count (its window was
    folded already): it changes nothing, and the caller counts it as late.
    """
    index = window_index(event.occurred_at, policy)
    if entry.window is not None and index < entry.window:
        return Step(entry, None, None)
    entry = _advance(entry, index, policy)
    sample = add_to_sample(entry.sample, event, policy)
    return _judge(replace(entry, sample=sample), key, index, policy)


def on_tick(entry: SurgeEntry, key: SurgeKey, now: datetime, policy: SurgePolicy) -> Step:
    """The clock passed `now`: fold finished windows, judge the current (maybe empty) one."""
    index = window_index(now, policy)
    if entry.window is not None and index < entry.window:
        return Step(entry, None, None)
    return _judge(_advance(entry, index, policy), key, index, policy)


def next_tick_at(entry: SurgeEntry, policy: SurgePolicy) -> datetime | None:
    """When a tick could change an open surge: the start of the window after the current one.

    None when no surge is open: a quiet key needs no ticks, its next contact folds the gap.
    """
    if not entry.surging or entry.window is None:
        return None
    return window_start_at(entry.window + 1, policy)


def _judge(entry: SurgeEntry, key: SurgeKey, index: int, policy: SurgePolicy) -> Step:
    start = window_start_at(index, policy)
    judged = verdict(entry.state, entry.sample.count, start, policy)
    entry = replace(entry, state=judged.state)
    if not judged.announces:
        return Step(entry, judged, None)
    summary = summarize_surge(key, judged, entry.sample, start, policy)
    return Step(entry, judged, surge_signal(summary, judged, policy))


def surge_signal(summary: SurgeSummary, judged: Verdict, policy: SurgePolicy) -> Signal:
    """The engine's input for an announcement: opened/grew → RAISED, closed → CLEARED."""
    key = summary.key
    opened_at = judged.opened_at or summary.window_start
    subject = f"{key.text}@{opened_at.isoformat()}"
    cleared = judged.signal is SurgeSignal.SURGE_CLOSED
    change = SignalChange.CLEARED if cleared else SignalChange.RAISED
    announced = "closed" if cleared else str(judged.state.announced)
    digest = hashlib.sha256(f"{subject}|{change.value}|{announced}".encode()).hexdigest()
    title = (
        f"{key_label(key.dimension, key.value)} 集中投诉已回落"
        if cleared
        else f"集中投诉 · {summary.detail}"
    )[:200]
    new_key = judged.reason is SurgeReason.NEW_KEY
    why = (
        Cue(
            kind="surge",
            term=f"{summary.count} 条 / {summary.scan_minutes} 分钟，基线 {summary.expected:.1f}",
            label=key.text,
            weight=round(summary.score, 2),
        ),
    )
    return Signal(
        signal_id=f"sg-{digest[:24]}",
        case_key=case_key_of(key),
        kind=AlertKind.SURGE,
        subject=subject[:200],
        change=change,
        at=summary.window_start,
        tier=policy.tier,
        rule_id="surge-new-key" if new_key else "surge",
        title=title,
        why=why,
        product=_short(key.value) if key.dimension == "product" else None,
        sku=_ident(key.value) if key.dimension == "sku" else None,
        batch=_ident(key.value) if key.dimension == "batch" else None,
        region=_short(key.value) if key.dimension == "region" else None,
        carrier=_short(key.value) if key.dimension == "carrier" else None,
        category=Category(key.value) if key.dimension == "category" else None,
        surge=SurgeDetail(
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
    )


def _short(value: str) -> str:
    return value[:64]


def _ident(value: str) -> str | None:
    """An identifier field takes the value only when it is one (upstream ids always are)."""
    return value if len(value) <= 128 else None
