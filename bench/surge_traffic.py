"""Synthetic counts of negative contacts per surge key, with injected bursts of known onset and size.

Deterministic: everything comes from one seeded `random.Random`. Used by bench/eval_surge.py.

Realism assumptions (none of them measured on kesu's own traffic, which does not exist yet):
- Key sizes are heavy-tailed: the daily-average rate per 15-minute window is log-normal, for
  95 % of keys (SKUs, batches) with median 0.05 and sigma 1.6 — a contact a few times a day —
  and for 5 % (channels, categories, regions, carriers, products) with median 2 and sigma 1.2,
  capped at 150 — up to dozens per window.
- Daily rhythm in Beijing time: each key mixes an office-hours shape (call centre: peaks
  10-12 h and 14-17 h) and an evening shape (social media: peak 20-23 h) with its own weight,
  so no single global profile fits every key exactly. Night trough about 10-20 % of the peak.
- Weekly variation: each key has its own weekend factor (0.7-1.15).
- Day-to-day level: each key's rate drifts as a log random walk (sd 0.04 per day) and each day
  gets a gamma factor (sd about 15 %): busier and quieter days that are not surges.
- Within a window, contacts come in clusters (one incident, several contacts: a customer calls
  again, a post gets comments): clusters are Poisson, each 1 + geometric(mean 0.35) contacts.
  Counts are therefore over-dispersed, not Poisson.
- A burst multiplies the key's own current rate (rhythm included) by 2, 3 or 5 for 4-12
  windows (1-3 h), starting at a uniformly random moment, night included. A new-key burst is a
  key with no history that starts with 2, 5 or 10 contacts per window for 4-12 windows and
  then keeps a small rate (0.05). Some ordinary keys are also born during the run (new
  batches with ordinary traffic) — they are not bursts.
Not modelled: events that lift every key at once (a 双十一 promotion, an outage of the call
centre), keys that share contacts (one contact counts toward its batch, SKU and product).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

WINDOW = timedelta(minutes=15)
WINDOWS_PER_DAY = 96
#: Monday 2026-11-02 00:00 Beijing time.
START = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
_BEIJING = timedelta(hours=8)

# Relative hourly weights, Beijing time, 00:00-01:00 first.
_OFFICE = (
    0.12, 0.08, 0.06, 0.05, 0.05, 0.07, 0.15, 0.35, 0.8, 1.45, 1.8, 1.75,
    1.3, 1.35, 1.7, 1.75, 1.65, 1.4, 1.0, 0.8, 0.75, 0.65, 0.45, 0.25,
)  # fmt: skip
_EVENING = (
    0.7, 0.45, 0.25, 0.15, 0.1, 0.1, 0.2, 0.4, 0.6, 0.75, 0.85, 0.95,
    1.1, 1.0, 0.95, 0.95, 1.0, 1.05, 1.2, 1.5, 1.8, 2.0, 1.9, 1.3,
)  # fmt: skip
_CLUSTER_EXTRA = 0.35  # mean extra contacts per incident (geometric)
_COARSE_SHARE = 0.05  # keys of coarse dimensions; the rest are SKUs and batches
MULTIPLIERS = (2.0, 3.0, 5.0)
NEW_KEY_RATES = (2.0, 5.0, 10.0)
#: Bands of the key's expected count per window during the burst (background, rhythm included).
BANDS = ((0.0, 0.3), (0.3, 1.0), (1.0, 3.0), (3.0, 10.0), (10.0, math.inf))


@dataclass(frozen=True)
class Burst:
    key: int
    onset: int  # window index relative to the start of the run
    length: int  # windows
    multiplier: float  # x the key's own rate; for a new key, its rate per window
    new_key: bool
    background: float  # mean expected background count per window during the burst


@dataclass
class KeyTraffic:
    name: str
    rate: float  # daily-average expected count per window (before bursts)
    born: int  # first window the key exists (0: from the start)
    counts: dict[int, int] = field(default_factory=dict)  # window -> count; zeros omitted
    shape: tuple[float, ...] = ()  # this key's 24 hourly weights (mean 1)


@dataclass
class Traffic:
    windows: int
    warmup: int  # windows not scored (no bursts, baselines learn)
    keys: list[KeyTraffic]
    bursts: list[Burst]

    def start_of(self, window: int) -> datetime:
        return START + window * WINDOW

    def scored_key_weeks(self) -> float:
        scored = 0
        for key in self.keys:
            scored += max(0, self.windows - max(self.warmup, key.born))
        return scored / (7 * WINDOWS_PER_DAY)

    def hourly_totals(self, until: int) -> list[float]:
        """Sum of all keys' counts by Beijing hour of day, over windows [0, until)."""
        totals = [0.0] * 24
        for key in self.keys:
            for window, count in key.counts.items():
                if window < until:
                    totals[_hour(window)] += count
        return totals


def _hour(window: int) -> int:
    return (window % WINDOWS_PER_DAY) // 4  # START is 00:00 Beijing time


def _normalised(weights: list[float]) -> tuple[float, ...]:
    mean = sum(weights) / len(weights)
    return tuple(w / mean for w in weights)


def _poisson(rng: random.Random, mean: float) -> int:
    """Inversion with one uniform draw (exact) up to a mean of 40, a rounded normal above."""
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    u = rng.random()
    k, term = 0, math.exp(-mean)
    cdf = term
    while u > cdf and k < 1000:
        k += 1
        term *= mean / k
        cdf += term
    return k


def _contacts(rng: random.Random, rate: float) -> int:
    """Clustered contacts with mean `rate`: Poisson incidents of 1 + geometric extra each."""
    incidents = _poisson(rng, rate / (1 + _CLUSTER_EXTRA))
    total = incidents
    stop = 1 / (1 + _CLUSTER_EXTRA)
    for _ in range(incidents):
        while rng.random() > stop:
            total += 1
    return total


def generate(
    *,
    seed: int = 7,
    keys: int = 2000,
    weeks: int = 4,
    warmup_weeks: int = 1,
    bursts_per_cell: int = 30,
    new_key_bursts: int = 20,
    newborn_share: float = 0.05,
) -> Traffic:
    """Background traffic for `keys` keys over warm-up + `weeks` weeks, with injected bursts.

    `bursts_per_cell` bursts for each multiplier and each size band of the key's daily-average
    rate (fewer when a band has too few keys); `new_key_bursts` new keys for each rate.
    """
    rng = random.Random(seed)
    days = 7 * (weeks + warmup_weeks)
    windows = days * WINDOWS_PER_DAY
    warmup = 7 * warmup_weeks * WINDOWS_PER_DAY
    office, evening = _normalised(list(_OFFICE)), _normalised(list(_EVENING))
    population: list[KeyTraffic] = []
    for number in range(keys):
        if rng.random() < _COARSE_SHARE:  # channel, category, region, carrier, product
            rate = min(150.0, 2.0 * math.exp(rng.gauss(0, 1.2)))
        else:  # SKUs and batches
            rate = min(150.0, 0.05 * math.exp(rng.gauss(0, 1.6)))
        mix = rng.betavariate(2, 2)
        shape = _normalised([mix * o + (1 - mix) * e for o, e in zip(office, evening, strict=True)])
        born = (
            rng.randrange(warmup, windows - WINDOWS_PER_DAY) if rng.random() < newborn_share else 0
        )
        population.append(KeyTraffic(f"k{number:05d}", rate, born, shape=shape))
    multipliers = [[1.0] * windows for _ in population]  # filled below for burst windows
    bursts = _plan_bursts(rng, population, windows, warmup, bursts_per_cell)
    for burst in bursts:
        for w in range(burst.onset, burst.onset + burst.length):
            multipliers[burst.key][w] = burst.multiplier
    for key, factors in zip(population, multipliers, strict=True):
        _fill(rng, key, days, factors)
    bursts = [
        Burst(b.key, b.onset, b.length, b.multiplier, False, _background(population[b.key], b))
        for b in bursts
    ]
    for rate in NEW_KEY_RATES:
        for _ in range(new_key_bursts):
            onset = rng.randrange(warmup, windows - 16)
            length = rng.randint(4, 12)
            key = KeyTraffic(f"new{len(population):05d}", 0.05, onset)
            for w in range(onset, windows):
                count = _contacts(rng, rate if w < onset + length else 0.05)
                if count:
                    key.counts[w] = count
            bursts.append(Burst(len(population), onset, length, rate, True, 0.0))
            population.append(key)
    return Traffic(windows, warmup, population, bursts)


def _plan_bursts(
    rng: random.Random, population: list[KeyTraffic], windows: int, warmup: int, per_cell: int
) -> list[Burst]:
    """Bursts spread over size bands; on one key at least a day apart, never before birth."""
    taken: dict[int, list[tuple[int, int]]] = {}
    bursts: list[Burst] = []
    for low, high in BANDS:
        members = [i for i, k in enumerate(population) if low <= k.rate < high and k.born == 0]
        if not members:
            continue
        for multiplier in MULTIPLIERS:
            placed, attempts = 0, 0
            while placed < per_cell and attempts < per_cell * 50:
                attempts += 1
                key = rng.choice(members)
                onset = rng.randrange(warmup + WINDOWS_PER_DAY, windows - 16)
                length = rng.randint(4, 12)
                gap = WINDOWS_PER_DAY
                if any(abs(onset - o) < gap + n for o, n in taken.get(key, [])):
                    continue
                taken.setdefault(key, []).append((onset, length))
                bursts.append(Burst(key, onset, length, multiplier, False, 0.0))
                placed += 1
    return bursts


def _fill(rng: random.Random, key: KeyTraffic, days: int, factors: list[float]) -> None:
    level = 1.0
    weekend = rng.uniform(0.7, 1.15)
    for day in range(days):
        level *= math.exp(rng.gauss(0, 0.04))
        today = level * rng.gammavariate(45, 1 / 45) * (weekend if day % 7 >= 5 else 1.0)
        base = day * WINDOWS_PER_DAY
        for slot in range(WINDOWS_PER_DAY):
            w = base + slot
            if w < key.born:
                continue
            mean = key.rate * today * key.shape[_hour(w)] * factors[w]
            count = _contacts(rng, mean)
            if count:
                key.counts[w] = count


def _background(key: KeyTraffic, burst: Burst) -> float:
    span = range(burst.onset, burst.onset + burst.length)
    return sum(key.rate * key.shape[_hour(w)] for w in span) / burst.length
