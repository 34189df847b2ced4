"""A surge key's own daily rhythm: how its contacts spread over the hours of the local day.

Pure; window positions are indices (start // window size). Why per key: a call-centre queue
peaks at 10:00 and 15:00, a social-media channel at 21:00, and the night is a tenth of either.
Judged against its daily average, a busy key looks "improbable" every afternoon and cannot
show a 3x rise at night at all; the residuals of the rhythm also inflate its learned
dispersion until a real surge no longer stands out (measured by bench/eval_surge.py: with one
average level, keys of 10+ contacts per window learned dispersions of 3-7 where the clustering
alone gives about 1.7).

The profile is two decayed sums per local hour: contacts and windows. A key's weight for hour h
is a gamma-Poisson posterior mean around a prior (the shared `daily_profile`, or flat):

    weight[h] = (contacts[h] + C * prior[h]) / (windows[h] * rate + C),   normalised to mean 1

with `rate` the key's overall contacts per window and C = `profile_prior` pseudo-contacts per
hour. A small key (a few contacts a day) stays on the prior; a busy key's own hours dominate
within days. Windows without contacts never reach the table: a gap is folded in closed form
(hours counted exactly, decay applied at the gap's middle — exact enough for a weight).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from complaints.rules import SurgePolicy

HOURS = 24
Profile = tuple[tuple[float, ...], tuple[float, ...]]  # (contacts by hour, windows by hour)
EMPTY: Profile = ((), ())


def enabled(policy: SurgePolicy) -> bool:
    return policy.profile_half_life is not None


@lru_cache(maxsize=65536)
def hour_of(index: int, seconds: int, zone: str) -> int:
    """Local hour of day of the middle of window `index`."""
    middle = datetime.fromtimestamp(index * seconds + seconds / 2, UTC)
    return middle.astimezone(ZoneInfo(zone)).hour


@lru_cache(maxsize=256)
def _day_pattern(start: int, seconds: int, zone: str) -> tuple[int, ...]:
    """Windows per local hour in the day of windows starting at `start` (mod a day)."""
    per_day = max(1, 86_400 // seconds)
    counts = [0] * HOURS
    for index in range(start, start + per_day):
        counts[hour_of(index, seconds, zone)] += 1
    return tuple(counts)


def _windows_by_hour(first: int, count: int, policy: SurgePolicy) -> list[int]:
    """How many of the windows first .. first+count-1 fall in each local hour."""
    seconds, zone = policy.window_seconds, policy.timezone
    per_day = max(1, 86_400 // seconds)
    days = count // per_day
    counts = [0] * HOURS
    if days:
        pattern = _day_pattern(first % per_day, seconds, zone)
        counts = [days * n for n in pattern]
    for index in range(first + days * per_day, first + count):
        counts[hour_of(index, seconds, zone)] += 1
    return counts


def _keep(policy: SurgePolicy, windows: float) -> float:
    """The weight left after `windows` windows (call only when the profile is enabled)."""
    half_life = policy.profile_half_life or policy.half_life
    return math.pow(0.5, windows * policy.window_seconds / half_life.total_seconds())


def fold(
    profile: Profile, last: int | None, index: int, value: float, policy: SurgePolicy
) -> Profile:
    """The profile after the empty windows since `last` and window `index` holding `value`."""
    if not enabled(policy):
        return EMPTY
    contacts = list(profile[0]) or [0.0] * HOURS
    windows = list(profile[1]) or [0.0] * HOURS
    gap = 0 if last is None else index - last - 1
    if gap > 0:
        decay = _keep(policy, gap)
        middle = _keep(policy, gap / 2)
        added = _windows_by_hour(index - gap, gap, policy)
        contacts = [c * decay for c in contacts]
        windows = [w * decay + n * middle for w, n in zip(windows, added, strict=True)]
    step = _keep(policy, 1)
    hour = hour_of(index, policy.window_seconds, policy.timezone)
    contacts = [c * step for c in contacts]
    windows = [w * step for w in windows]
    contacts[hour] += value
    windows[hour] += 1.0
    return tuple(_round(c) for c in contacts), tuple(_round(w) for w in windows)


def _round(x: float) -> float:
    """Five significant digits: the state is JSON in a changelog, and a weight needs no more."""
    return float(f"{x:.5g}")


def weights(profile: Profile, policy: SurgePolicy) -> tuple[float, ...] | None:
    """The key's 24 hourly weights (mean 1); None when there is no rhythm to apply (flat)."""
    prior = policy.daily_profile
    contacts, windows = profile
    if not enabled(policy) or not contacts:
        return prior
    exposure = sum(windows)
    rate = sum(contacts) / exposure if exposure > 0 else 0.0
    if rate <= 0:
        return prior
    base = prior or (1.0,) * HOURS
    strength = policy.profile_prior
    raw = [
        (c + strength * g) / (w * rate + strength)
        for c, w, g in zip(contacts, windows, base, strict=True)
    ]
    mean = sum(raw) / HOURS
    return tuple(r / mean for r in raw)


def weight_at(shape: tuple[float, ...] | None, index: int, policy: SurgePolicy) -> float:
    if shape is None:
        return 1.0
    return shape[hour_of(index, policy.window_seconds, policy.timezone)]
