"""The baseline of one surge key, learned from its own closed windows: what count to expect.

Pure; time is an argument (a window's start). The state follows the aggregator shape
(`initialize() -> S`, `update(S, count, window_start, policy) -> S`) and is a handful of numbers,
so it fits a Faust table as JSON. Windows without any contact never reach the table: `update`
folds them in as zeros in closed form (from the gap since the last folded window), so a key
that goes quiet for a week costs nothing and forgets its level at the rate of the half-life.

The baseline is an exponentially weighted mean of the key's (deseasonalised) counts per window
and an exponentially weighted dispersion: the mean squared Pearson residual (count - expected)² /
expected, 1 for Poisson counts, more when complaints cluster or the daily rhythm is not modelled.
Being relative to the expectation, it holds at night and by day alike (a variance of
deseasonalised counts would be dominated by the night, where dividing by a small weight
magnifies the noise). It starts as a running average (weight 1/(n+1)) until that weight falls to
the EWMA's, so a young key learns fast and an old one slowly. A window that is far above its
expectation during a surge (or improbable enough to open one) is folded in clipped to `clip_sd`
standard deviations above it, so a surge does not teach the baseline that surges are normal,
while a real lasting shift is still learned, slowly. Ordinary windows are folded as they are, so
the variance keeps the key's real over-dispersion (clusters of related complaints).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from complaints import surge_profile
from complaints.rules import SurgePolicy
from complaints.surge_stats import score_of, tail_probability

#: `windows` stops counting here: past the running-average start it only has to be "large".
_WINDOWS_CAP = 1_000_000


@dataclass(frozen=True, slots=True)
class SurgeState:
    """What one key remembers between windows (window positions are indices: start // size)."""

    mean: float = 0.0  # EW mean of deseasonalised counts per window
    dispersion: float = 1.0  # EW mean of (count - expected)² / expected: 1 for Poisson counts
    windows: int = 0  # windows folded in, empty ones included (capped)
    first: int | None = None  # the key's first folded window: how young it is
    last: int | None = None  # the last folded window; an older one is ignored (idempotent)
    recent: tuple[int, ...] = ()  # counts of the windows before `last`+1, newest first
    opened: int | None = None  # window in which the current surge opened; None: no surge
    announced: int = 0  # window count last announced (opened or growing)
    last_high: int | None = None  # last window whose count was still high during the surge
    closed: int | None = None  # window in which the last surge closed (for the cooldown)
    hour_contacts: tuple[float, ...] = ()  # decayed contacts by local hour (surge_profile)
    hour_windows: tuple[float, ...] = ()  # decayed windows by local hour

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SurgeState:
        """The state `to_json` wrote (or wrote before the hourly profile); ValueError otherwise."""
        data = json.loads(text)
        profile = {"hour_contacts", "hour_windows"}
        if not isinstance(data, dict) or not set(cls.__slots__) - profile <= set(data) <= set(
            cls.__slots__
        ):
            raise ValueError("not a SurgeState")
        data["recent"] = tuple(_int(c) for c in data["recent"])
        for name in profile:
            hours = tuple(_finite(h) for h in data.get(name, ()))
            if len(hours) not in (0, surge_profile.HOURS):
                raise ValueError(f"{name} must hold 24 hours")
            data[name] = hours
        for name in ("mean", "dispersion"):
            data[name] = _finite(data[name])
        for name in ("windows", "announced"):
            data[name] = _int(data[name])
        for name in ("first", "last", "opened", "last_high", "closed"):
            data[name] = None if data[name] is None else _int(data[name])
        return cls(**data)


def _finite(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError("expected a finite number")
    return float(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("expected an integer")
    return value


def initialize() -> SurgeState:
    """The state of a key never seen: no history, no surge."""
    return SurgeState()


def window_index(window_start: datetime, policy: SurgePolicy) -> int:
    """Which tumbling window `window_start` (or any instant inside it) belongs to."""
    return math.floor(window_start.timestamp()) // policy.window_seconds


def window_start_at(index: int, policy: SurgePolicy) -> datetime:
    return datetime.fromtimestamp(index * policy.window_seconds, UTC)


def _alpha(policy: SurgePolicy) -> float:
    return 1.0 - math.pow(0.5, policy.window_seconds / policy.half_life.total_seconds())


def _running_phase(alpha: float) -> int:
    """Folds that still use the running-average weight 1/(n+1) (it exceeds alpha)."""
    return max(0, math.ceil(1.0 / alpha) - 1)


def _decayed(state: SurgeState, gap: int, alpha: float) -> tuple[float, float, int]:
    """(mean, dispersion, windows) after folding `gap` empty windows, in closed form.

    An empty window's squared Pearson residual is its expectation, about the mean, so the
    dispersion moves towards the (old) mean: exact for the mean, a close approximation for it.
    """
    mean, dispersion, windows = state.mean, state.dispersion, state.windows
    if gap <= 0:
        return mean, dispersion, windows
    keep = 1.0
    running = _running_phase(alpha)
    if windows < running:
        step = min(gap, running - windows)
        keep = windows / (windows + step)
        windows += step
        gap -= step
    if gap > 0:
        keep *= (1.0 - alpha) ** gap
        windows += gap
    dispersion = keep * dispersion + (1.0 - keep) * mean
    return mean * keep, dispersion, min(windows, _WINDOWS_CAP)


@dataclass(frozen=True, slots=True)
class Level:
    """A key's baseline as it stands before window `index`: deseasonalised mean, dispersion,
    and its hourly weights (None: flat)."""

    mean: float
    dispersion: float
    young: bool
    shape: tuple[float, ...] | None = None

    def factor(self, index: int, policy: SurgePolicy) -> float:
        """The weight of window `index`'s hour of day in this key's rhythm (1.0 when flat)."""
        return surge_profile.weight_at(self.shape, index, policy)

    def expected(self, factor: float, policy: SurgePolicy) -> tuple[float, float]:
        """(expected count, its variance) of a window with season weight `factor`; the variance
        is never below `dispersion` x the mean (the mean itself for a young key)."""
        mean = max(self.mean, policy.min_expected) * factor
        floor = 1.0 if self.young else policy.dispersion  # a new key: Poisson around the prior
        return mean, max(self.dispersion, floor) * mean


def level_at(state: SurgeState, index: int, policy: SurgePolicy) -> Level:
    """The baseline for judging window `index` (empty windows since the last fold count as 0)."""
    gap = 0 if state.last is None else index - state.last - 1
    mean, dispersion, _ = _decayed(state, gap, _alpha(policy))
    return _level(mean, dispersion, state.first, index, policy, _profile(state))


def _profile(state: SurgeState) -> surge_profile.Profile:
    return state.hour_contacts, state.hour_windows


def _level(
    mean: float,
    dispersion: float,
    first: int | None,
    index: int,
    policy: SurgePolicy,
    profile: surge_profile.Profile,
) -> Level:
    warmup = policy.warmup.total_seconds() / policy.window_seconds
    young = first is None or index - first < warmup
    shape = surge_profile.weights(profile, policy)
    return Level(max(mean, policy.new_key_prior) if young else mean, dispersion, young, shape)


def update(
    state: SurgeState, count: int, window_start: datetime, policy: SurgePolicy
) -> SurgeState:
    """Fold one closed window's count into the baseline (a window already folded is ignored)."""
    index = window_index(window_start, policy)
    if state.last is not None and index <= state.last:
        return state
    count = max(0, int(count))
    alpha = _alpha(policy)
    gap = 0 if state.last is None else index - state.last - 1
    mean, dispersion, windows = _decayed(state, gap, alpha)
    first = index if state.first is None else state.first
    level = _level(mean, dispersion, first, index, policy, _profile(state))
    factor = level.factor(index, policy)
    expected, variance = level.expected(factor, policy)
    ceiling = expected + policy.clip_sd * math.sqrt(variance)
    value = float(count)
    if count > ceiling and (
        state.opened is not None or _improbable(count, expected, variance, policy)
    ):
        value = ceiling  # a surge window: learn that it was high, not how high
    weight = alpha if windows >= _running_phase(alpha) else 1.0 / (windows + 1)
    mean += weight * (value / factor - mean)
    residual = min(
        (value - expected) ** 2 / expected, policy.clip_sd**2
    )  # one odd window is not a habit
    dispersion += weight * (residual - dispersion)
    keep = max(policy.scan_lengths) - 1
    recent = ((count,) + (0,) * min(gap, keep) + state.recent)[:keep]
    # The rhythm learns the clipped value only inside an open surge: a young key's first
    # windows are clipped against the prior, which says nothing about its hours.
    rhythm_value = value if state.opened is not None else float(count)
    hour_contacts, hour_windows = surge_profile.fold(
        _profile(state), state.last, index, rhythm_value, policy
    )
    return SurgeState(
        mean=mean,
        dispersion=dispersion,
        windows=min(windows + 1, _WINDOWS_CAP),
        first=first,
        last=index,
        recent=recent,
        opened=state.opened,
        announced=state.announced,
        last_high=state.last_high,
        closed=state.closed,
        hour_contacts=hour_contacts,
        hour_windows=hour_windows,
    )


def _improbable(count: int, mean: float, variance: float, policy: SurgePolicy) -> bool:
    return score_of(tail_probability(count, mean, variance)) >= policy.open_score


def count_before(state: SurgeState, index: int, back: int) -> int:
    """The folded count of window `index - back` (0 if empty, unknown or not folded yet)."""
    window = index - back
    if state.last is None or window > state.last:
        return 0
    offset = state.last - window
    return state.recent[offset] if offset < len(state.recent) else 0


def daily_profile_from(hourly_counts: list[float] | tuple[float, ...]) -> tuple[float, ...]:
    """`daily_profile` weights (mean 1) from total negative contacts by local hour of day, e.g.
    a week of every key's counts; hours with none get a small floor so no weight is zero."""
    if len(hourly_counts) != 24:
        raise ValueError("need 24 hourly counts, 00:00-01:00 first")
    floor = max(sum(hourly_counts), 1.0) / 24 * 0.02
    weights = [max(float(c), floor) for c in hourly_counts]
    mean = sum(weights) / 24
    return tuple(w / mean for w in weights)
