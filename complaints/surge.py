"""Surge detection: is a key's count of negative contacts improbable under its own baseline?

Pure; time is an argument (a window's start); no I/O, clock reads or logging. Issue #7.

Why this statistic. Complaint counts per key and window are small integers (most keys see 0-2
negative contacts in 15 minutes), so a z-score on an EWMA mean and standard deviation is badly
calibrated exactly where it matters: at 0.5 expected, 4 contacts are z = 5 but happen with
p = 2e-3. We keep the EWMA mean and variance (complaints/surge_baseline.py) and turn them into an
upper-tail probability: Poisson when the variance is at most the mean (the floor), a negative
binomial with the same mean and variance when the key is over-dispersed (complaints/surge_stats.py).
The score is -log10 p. A surge opens at `open_score` (4: p <= 1e-4 under a variance of at
least `dispersion` (2.5) x the mean — clusters of related contacts make small keys' tails
heavy, and the floor is what keeps their rare cluster of five from alarming), when the count is
also at least `min_count` and `min_ratio` x expected (an operator does not need "+20 % on a
huge key"). Both were chosen on bench/eval_surge.py's tuning seed and checked on held-out ones.

Scans. Besides the tumbling window itself, the sums of the last 2 and 4 windows are tested
(`windows: [15m, 30m, 1h]`): a 3x rise on a key of 3 per window is seldom improbable in one
window but clearly so over two. A longer scan only counts when the current window is itself
above its expectation, so a surge is never opened on the strength of the past alone.

New keys. A key younger than `warmup` is judged against max(its mean, `new_key_prior`): with the
prior of 0.25 per window, 5 contacts at once (p = 6e-6) open a surge on a key never seen.

Hysteresis. Open at p <= 10^-open_score; while open, a window is "high" at p <= 10^-stay_score;
growth is announced when a window reaches `growth` x the count last announced; the surge closes
after `close_after` windows without a high one, and no new surge opens on the key for
`cooldown` windows after that. Closing needs a verdict after the quiet windows: the shell calls
`verdict` on each contact and on a periodic tick (count 0 for a silent window).

Seasonality. Each key learns its own rhythm by local hour (complaints/surge_profile.py), around
the shared `daily_profile` (flat when None): expectations follow the key's day, so a busy
afternoon is not a surge and a 3x night is. bench/eval_surge.py measures it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from complaints.rules import SurgeDimension, SurgePolicy
from complaints.surge_baseline import (
    SurgeState,
    count_before,
    initialize,
    level_at,
    update,
    window_index,
    window_start_at,
)
from complaints.surge_stats import score_of, tail_probability
from streams.records import AssessedEvent, Category

__all__ = [
    "SurgeKey",
    "SurgeReason",
    "SurgeSignal",
    "SurgeState",
    "Verdict",
    "initialize",
    "surge_keys",
    "update",
    "verdict",
    "window_index",
]


class SurgeKey(NamedTuple):
    """What a count is about: ("batch", "B2511-07"); `text` is the table key "batch:B2511-07"."""

    dimension: SurgeDimension
    value: str

    @property
    def text(self) -> str:
        return f"{self.dimension}:{self.value}"


def surge_keys(event: AssessedEvent, policy: SurgePolicy | None = None) -> tuple[SurgeKey, ...]:
    """The keys a negative contact counts toward; none for a contact that is not negative.

    Negative: the text was scored negative, or (no text) a shipment change to one of
    `negative_shipment_statuses` — which counts under the logistics category.
    """
    policy = policy or SurgePolicy()
    if event.assessment is not None:
        if not event.assessment.negative:
            return ()
        category: str = event.assessment.category.value
    elif event.shipment_status in policy.negative_shipment_statuses:
        category = Category.LOGISTICS.value
    else:
        return ()
    values: dict[SurgeDimension, str | None] = {
        "product": event.product,
        "sku": event.sku,
        "batch": event.batch,
        "category": category,
        "region": event.region,
        "carrier": event.carrier,
        "channel": event.source.value,
    }
    return tuple(SurgeKey(d, v) for d in policy.dimensions if (v := values[d]))


class SurgeSignal(StrEnum):
    """What a verdict announces; OPENED, GROWING and CLOSED become alert lifecycle records."""

    NORMAL = "normal"  # no surge, none opens
    SURGE_OPENED = "surge_opened"
    SURGE_GROWING = "surge_growing"  # open surge reached `growth` x the count last announced
    SURGE_ONGOING = "surge_ongoing"  # open surge, nothing new to say
    SURGE_CLOSED = "surge_closed"


class SurgeReason(StrEnum):
    IMPROBABLE = "IMPROBABLE"  # opened: p <= 10^-open_score on an established key
    NEW_KEY = "NEW_KEY"  # opened: the same test on a key younger than `warmup`
    GREW = "GREW"
    STILL_HIGH = "STILL_HIGH"
    SUBSIDING = "SUBSIDING"  # open, not high, not yet quiet for `close_after` windows
    QUIET = "QUIET"  # closed: `close_after` windows without a high count
    COOLDOWN = "COOLDOWN"  # would open, but the key's last surge closed < `cooldown` windows ago
    BELOW_MIN_COUNT = "BELOW_MIN_COUNT"
    BELOW_MIN_RATIO = "BELOW_MIN_RATIO"
    WITHIN_BASELINE = "WITHIN_BASELINE"  # not improbable enough
    ALREADY_FOLDED = "ALREADY_FOLDED"  # a window older than the baseline's last: not judged


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one window's count; store `state`, publish when `announces`."""

    signal: SurgeSignal
    reason: SurgeReason
    state: SurgeState
    count: int  # contacts in the scan that decided (the window, or the last `scan` windows)
    expected: float  # what the baseline expected for that scan
    variance: float  # the baseline's variance of that scan's count (the residual test needs it)
    ratio: float  # count / expected
    p_value: float
    score: float  # -log10 p_value
    scan: int  # windows summed: 1 = this window only
    window_count: int  # contacts in this window so far
    opened_at: datetime | None  # start of the window the surge opened in (an alert-id input)

    @property
    def announces(self) -> bool:
        return self.signal in (
            SurgeSignal.SURGE_OPENED,
            SurgeSignal.SURGE_GROWING,
            SurgeSignal.SURGE_CLOSED,
        )


class _Scan(NamedTuple):
    windows: int
    total: int
    expected: float
    variance: float
    p_value: float
    score: float
    current_above: bool  # this window itself exceeds its expectation

    @property
    def ratio(self) -> float:
        return self.total / self.expected


def _scans(state: SurgeState, count: int, index: int, policy: SurgePolicy) -> list[_Scan]:
    level = level_at(state, index, policy)
    lengths = policy.scan_lengths
    scans: list[_Scan] = []
    total, mean, variance, current_above = 0, 0.0, 0.0, False
    for back in range(max(lengths)):
        window_mean, window_variance = level.expected(level.factor(index - back, policy), policy)
        window_count = count if back == 0 else count_before(state, index, back)
        if back == 0:
            current_above = window_count > window_mean
        total, mean, variance = total + window_count, mean + window_mean, variance + window_variance
        if back + 1 in lengths:
            p = tail_probability(total, mean, variance)
            scans.append(_Scan(back + 1, total, mean, variance, p, score_of(p), current_above))
    return scans


def _opens(scan: _Scan, policy: SurgePolicy) -> SurgeReason | None:
    """None when this scan may open a surge, else the first condition it fails."""
    if scan.windows > 1 and not scan.current_above:
        return SurgeReason.WITHIN_BASELINE
    if scan.score < policy.open_score:
        return SurgeReason.WITHIN_BASELINE
    if scan.total < policy.min_count:
        return SurgeReason.BELOW_MIN_COUNT
    if scan.ratio < policy.min_ratio:
        return SurgeReason.BELOW_MIN_RATIO
    return None


def _high(scan: _Scan, policy: SurgePolicy) -> bool:
    return scan.score >= policy.stay_score and (scan.windows == 1 or scan.current_above)


def verdict(
    state: SurgeState, current_count: int, window_start: datetime, policy: SurgePolicy
) -> Verdict:
    """Judge the window starting at `window_start` with `current_count` contacts so far.

    Call it on every contact (the count so far) and on a periodic tick; calling it again with
    the same count is a no-op. Fold each closed window with `update` before judging a later one.
    """
    index = window_index(window_start, policy)
    count = max(0, int(current_count))
    scans = _scans(state, count, index, policy)
    best = max(scans, key=lambda s: s.score)
    if state.last is not None and index <= state.last:
        signal = SurgeSignal.NORMAL if state.opened is None else SurgeSignal.SURGE_ONGOING
        return _verdict(signal, SurgeReason.ALREADY_FOLDED, state, best, count, policy)
    if state.opened is None:
        failures = [(_opens(s, policy), s) for s in scans]
        eligible = [s for failure, s in failures if failure is None]
        if not eligible:
            reason = next(failure for failure, s in failures if s is best)
            return _verdict(SurgeSignal.NORMAL, reason or SurgeReason.WITHIN_BASELINE, state, best, count, policy)  # fmt: skip
        chosen = max(eligible, key=lambda s: s.score)
        if state.closed is not None and index - state.closed <= policy.cooldown:
            return _verdict(SurgeSignal.NORMAL, SurgeReason.COOLDOWN, state, chosen, count, policy)
        young = level_at(state, index, policy).young
        opened = replace(state, opened=index, announced=count, last_high=index)
        reason = SurgeReason.NEW_KEY if young else SurgeReason.IMPROBABLE
        return _verdict(SurgeSignal.SURGE_OPENED, reason, opened, chosen, count, policy)
    high = [s for s in scans if _high(s, policy)]
    if high:
        chosen = max(high, key=lambda s: s.score)
        if count >= policy.growth * max(state.announced, 1):
            grown = replace(state, announced=count, last_high=index)
            return _verdict(SurgeSignal.SURGE_GROWING, SurgeReason.GREW, grown, chosen, count, policy)  # fmt: skip
        held = replace(state, last_high=index)
        return _verdict(SurgeSignal.SURGE_ONGOING, SurgeReason.STILL_HIGH, held, chosen, count, policy)  # fmt: skip
    last_high = state.opened if state.last_high is None else state.last_high
    if index - last_high > policy.close_after:
        closed = replace(state, opened=None, announced=0, last_high=None, closed=index)
        return _verdict(
            SurgeSignal.SURGE_CLOSED, SurgeReason.QUIET, closed, best, count, policy, state.opened
        )
    return _verdict(SurgeSignal.SURGE_ONGOING, SurgeReason.SUBSIDING, state, best, count, policy)


def _verdict(
    signal: SurgeSignal,
    reason: SurgeReason,
    state: SurgeState,
    scan: _Scan,
    count: int,
    policy: SurgePolicy,
    opened: int | None = None,
) -> Verdict:
    opened = state.opened if opened is None else opened
    return Verdict(
        signal=signal,
        reason=reason,
        state=state,
        count=scan.total,
        expected=scan.expected,
        variance=scan.variance,
        ratio=scan.ratio,
        p_value=scan.p_value,
        score=scan.score,
        scan=scan.windows,
        window_count=count,
        opened_at=None if opened is None else window_start_at(opened, policy),
    )
