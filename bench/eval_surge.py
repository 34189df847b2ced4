"""Measures surge detection on synthetic traffic with injected bursts (make eval-surge).

One run, one seeded traffic (bench/surge_traffic.py), four detectors on the same counts:

- project: complaints/surge.py with the shipped rules (complaints/rules.yaml `surge:`);
- project, one level all day: the same without each key's own daily rhythm
  (`profile_half_life: null`) — what the rhythm is worth;
- naive, FA-matched: alarm when a window's count >= T, T the smallest fixed threshold whose
  false alarms in the warm-up week (no bursts there) stay within 1 per 100 key-weeks — the
  honest way to pick T without seeing the scored weeks;
- naive, recall-matched: the largest T whose recall of 3x bursts is at least the project's,
  picked on the scored weeks themselves (an oracle choice that favours the baseline).

Every detector shares the hysteresis: one surge per run of high windows, closed after
`close_after` windows without one, `cooldown` windows before the next. Verdicts are taken on
each window's final count; in service they are taken on every contact, which opens in the same
window (the score only grows with the count) — only sooner inside it.

Measures, scored weeks only (the warm-up week lets baselines learn and holds no bursts):
- recall: a burst is caught if a surge opens on its key during the burst (or one is open at
  its onset); delay = windows from onset to the opening window, 1 = the onset window itself;
- false alarms: surges opened outside every burst of the key (and its `close_after` +
  `cooldown` windows after), per 100 key-weeks of scored traffic. A key born during the run
  that opens a surge in its first day is counted apart: that is the new-key rule working as
  designed (a key never seen with many complaints at once), not a false alarm;
- surges opened per caught burst (1 is right: no re-opening while it lasts);
- day-one quiet (issue #16): on the run's first day every key is new, as on a fresh
  deployment. The keys' own surges that day are fed, in time order, through the grouping
  stage (complaints/group_stage.py, the shipped rules); the incidents it opens are what the
  service would raise. Keys here share no contacts, so each surge is a cause of its own.

The goal (issue #7): catch a 3x burst within two windows with <= 1 false alarm per 100
key-weeks. "3x" is on the key's own current rate, so a 3x burst on a key expecting 0.1 per
window is 0.3 per window: no detector can see it at that false-alarm budget. The goal is
therefore judged on 3x bursts whose key expects >= 10 contacts per window during the burst (the
band where a detector that knew the true rate would catch nearly all within two windows: see
the "oracle" line), and recall is printed for every band.

    .venv/bin/python bench/eval_surge.py [--quick] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from surge_traffic import BANDS, MULTIPLIERS, NEW_KEY_RATES, Burst, Traffic, generate  # noqa: E402

from complaints.group_stage import advance  # noqa: E402
from complaints.grouping import Grouped  # noqa: E402
from complaints.rules import RuleBook, SurgePolicy, load_rules  # noqa: E402
from complaints.surge import SurgeReason, SurgeSignal, initialize, update, verdict  # noqa: E402
from complaints.surge_stats import tail_probability  # noqa: E402

GOAL_BAND = 10.0  # expected contacts per window during the burst
GOAL_RECALL = 0.90  # of those 3x bursts, caught within two windows
GOAL_FALSE_ALARMS = 1.0  # per 100 key-weeks
GOAL_DELAY = 2


@dataclass
class Surges:
    """What a detector did on one key: opening windows and (open, close) intervals."""

    opens: list[int] = field(default_factory=list)
    intervals: list[tuple[int, float]] = field(default_factory=list)


Detector = Callable[[dict[int, int]], Surges]


def project_detector(policy: SurgePolicy, traffic: Traffic) -> Detector:
    start = traffic.start_of

    def run(counts: dict[int, int]) -> Surges:
        out = Surges()
        state = initialize()
        previous: int | None = None
        for window, count in sorted(counts.items()):
            if previous is not None:  # ticks for the silent windows while a surge is open
                tick = previous + 1
                while tick < window and state.opened is not None:
                    state = _record(verdict(state, 0, start(tick), policy), tick, out)
                    tick += 1
            state = _record(verdict(state, count, start(window), policy), window, out)
            state = update(state, count, start(window), policy)
            previous = window
        return out

    return run


def _record(v, window: int, out: Surges):  # type: ignore[no-untyped-def]
    if v.signal is SurgeSignal.SURGE_OPENED:
        out.opens.append(window)
        out.intervals.append((window, math.inf))
    elif v.signal is SurgeSignal.SURGE_CLOSED:
        out.intervals[-1] = (out.intervals[-1][0], window)
    return v.state


def naive_detector(threshold: int, policy: SurgePolicy, until: int | None = None) -> Detector:
    def run(counts: dict[int, int]) -> Surges:
        out = Surges()
        opened: int | None = None
        last_high = closed = -(10**9)
        for window, count in sorted(counts.items()):
            if until is not None and window >= until:
                break
            if opened is not None and window - last_high > policy.close_after:
                closed = last_high + policy.close_after + 1
                out.intervals[-1] = (opened, closed)
                opened = None
            if count < threshold:
                continue
            if opened is None:
                if window - closed <= policy.cooldown:
                    continue
                opened = window
                out.opens.append(window)
                out.intervals.append((window, math.inf))
            last_high = window
        return out

    return run


@dataclass
class Result:
    name: str
    caught: dict[int, int]  # burst number -> delay in windows
    opens_per_caught: list[int]
    false_alarms: int
    newborn_alarms: int
    seconds: float


def evaluate(name: str, detector: Detector, traffic: Traffic, policy: SurgePolicy) -> Result:
    began = time.process_time()
    by_key: dict[int, list[tuple[int, Burst]]] = {}
    for number, burst in enumerate(traffic.bursts):
        by_key.setdefault(burst.key, []).append((number, burst))
    grace = policy.close_after + policy.cooldown
    caught: dict[int, int] = {}
    opens_per: dict[int, int] = {}
    false_alarms = newborn = 0
    warmup_windows = policy.warmup.total_seconds() / policy.window_seconds
    for index, key in enumerate(traffic.keys):
        surges = detector(key.counts)
        bursts = by_key.get(index, [])
        for number, burst in bursts:
            end = burst.onset + burst.length
            open_at_onset = any(o < burst.onset < c for o, c in surges.intervals)
            during = [o for o in surges.opens if burst.onset <= o < end]
            if open_at_onset or during:
                caught[number] = 1 if open_at_onset else during[0] - burst.onset + 1
                opens_per[number] = sum(1 for o in surges.opens if burst.onset <= o < end + grace)
        for o in surges.opens:
            if o < traffic.warmup:
                continue
            if any(b.onset <= o < b.onset + b.length + grace for _, b in bursts):
                continue
            if key.born and o - key.born < warmup_windows and not bursts:
                newborn += 1
            else:
                false_alarms += 1
    seconds = time.process_time() - began
    return Result(name, caught, list(opens_per.values()), false_alarms, newborn, seconds)


def fa_matched_threshold(traffic: Traffic, policy: SurgePolicy) -> int:
    """Smallest T whose false alarms in the warm-up week are within the budget."""
    key_weeks = sum(1 for k in traffic.keys if k.born == 0) * traffic.warmup / (7 * 96)

    def rate(threshold: int) -> float:
        detector = naive_detector(threshold, policy, until=traffic.warmup)
        opens = sum(len(detector(k.counts).opens) for k in traffic.keys if k.born == 0)
        return 100 * opens / key_weeks

    low, high = 1, 1000
    while low < high:
        middle = (low + high) // 2
        if rate(middle) <= GOAL_FALSE_ALARMS:
            high = middle
        else:
            low = middle + 1
    return low


def recall_matched_threshold(traffic: Traffic, policy: SurgePolicy, target: float) -> int:
    """Largest T whose recall of 3x bursts is at least `target` (an oracle choice)."""
    threes = [i for i, b in enumerate(traffic.bursts) if b.multiplier == 3 and not b.new_key]
    keys = {traffic.bursts[i].key for i in threes}
    sub = Traffic(traffic.windows, traffic.warmup, traffic.keys, traffic.bursts)

    def recall(threshold: int) -> float:
        detector = naive_detector(threshold, policy)
        hit = 0
        for i in threes:
            b = traffic.bursts[i]
            s = detector(sub.keys[b.key].counts)
            if any(o < b.onset < c for o, c in s.intervals) or any(
                b.onset <= o < b.onset + b.length for o in s.opens
            ):
                hit += 1
        return hit / len(threes)

    del keys
    low, high = 1, 1000
    while low < high:
        middle = (low + high + 1) // 2
        if recall(middle) >= target:
            low = middle
        else:
            high = middle - 1
    return low


def oracle_within_two(burst: Burst, traffic: Traffic, policy: SurgePolicy) -> float:
    """P(caught within two windows) for a single-window test at p <= 10^-open_score that knows
    the true background rate and assumes Poisson counts (a reference, not a detector)."""
    key = traffic.keys[burst.key]
    miss = 1.0
    for w in range(burst.onset, burst.onset + min(2, burst.length)):
        mean = max(key.rate * key.shape[_hour(w)], 1e-6)
        need = _quantile(mean, 10**-policy.open_score)
        need = max(need, policy.min_count, math.ceil(policy.min_ratio * mean))
        miss *= 1 - tail_probability(need, burst.multiplier * mean, burst.multiplier * mean)
    return 1 - miss


def _hour(window: int) -> int:
    return (window % 96) // 4  # the traffic starts at 00:00 Beijing time


def _quantile(mean: float, p: float) -> int:
    k = max(1, math.ceil(mean))
    while tail_probability(k, mean, mean) > p:
        k += 1
    return k


def band_of(burst: Burst) -> int:
    return next(i for i, (low, high) in enumerate(BANDS) if low <= burst.background < high)


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f}% ({hits}/{total})" if total else "      –"


def report(traffic: Traffic, results: list[Result], policy: SurgePolicy, notes: list[str]) -> bool:
    bursts = traffic.bursts
    key_weeks = traffic.scored_key_weeks()
    width = 24
    names = "".join(f"{r.name:>{width}}" for r in results)
    print(f"\n{'':34}{names}")

    def row(label: str, cell: Callable[[Result], str]) -> None:
        print(f"{label:34}" + "".join(f"{cell(r):>{width}}" for r in results))

    def recall(r: Result, keep: Callable[[Burst], bool], within: int | None = None) -> str:
        chosen = [i for i, b in enumerate(bursts) if keep(b)]
        hits = [i for i in chosen if i in r.caught and (within is None or r.caught[i] <= within)]
        return _pct(len(hits), len(chosen))

    for m in MULTIPLIERS:
        row(f"recall {m:g}x (all sizes)", lambda r, m=m: recall(r, lambda b: not b.new_key and b.multiplier == m))  # fmt: skip
    for rate in NEW_KEY_RATES:
        row(f"recall new key, {rate:g}/window", lambda r, x=rate: recall(r, lambda b: b.new_key and b.multiplier == x))  # fmt: skip
    print("3x bursts caught within 2 windows, by the key's expected count per window:")
    for i, (low, high) in enumerate(BANDS):
        label = f"  {low:g}-{high:g}" if math.isfinite(high) else f"  >= {low:g}"
        row(label, lambda r, i=i: recall(r, lambda b: not b.new_key and b.multiplier == 3 and band_of(b) == i, GOAL_DELAY))  # fmt: skip
        threes = [x for x in bursts if not x.new_key and x.multiplier == 3 and band_of(x) == i]
        if threes:
            oracle = statistics.fmean(oracle_within_two(x, traffic, policy) for x in threes)
            print(f"{'    (oracle reference)':34}{100 * oracle:>{width - 1}.1f}%")

    def delays(r: Result) -> str:
        values = sorted(r.caught.values())
        if not values:
            return "–"
        return f"{statistics.median(values):g} / {values[-1]}"

    row("delay, windows (median / worst)", delays)
    row("  3x only", lambda r: delays(Result("", {i: d for i, d in r.caught.items() if bursts[i].multiplier == 3 and not bursts[i].new_key}, [], 0, 0, 0)))  # fmt: skip
    row("false alarms per 100 key-weeks", lambda r: f"{100 * r.false_alarms / key_weeks:.2f} ({r.false_alarms})")  # fmt: skip
    row("new keys' first-day surges", lambda r: str(r.newborn_alarms))
    row("surges opened per caught burst", lambda r: f"{statistics.fmean(r.opens_per_caught):.2f} (max {max(r.opens_per_caught)})" if r.opens_per_caught else "–")  # fmt: skip
    row("detector CPU seconds", lambda r: f"{r.seconds:.1f}")
    print(f"\nscored: {key_weeks:.0f} key-weeks; " + "; ".join(notes))
    print(f"\ngoal: 3x bursts on keys expecting >= {GOAL_BAND:g}/window caught within {GOAL_DELAY} windows in >= {100 * GOAL_RECALL:.0f}% of cases, and <= {GOAL_FALSE_ALARMS:g} false alarm per 100 key-weeks")  # fmt: skip
    met_any = False
    for r in results:
        goal = [i for i, b in enumerate(bursts) if not b.new_key and b.multiplier == 3 and b.background >= GOAL_BAND]  # fmt: skip
        fast = sum(1 for i in goal if r.caught.get(i, 99) <= GOAL_DELAY)
        share = fast / len(goal) if goal else 0.0
        fa = 100 * r.false_alarms / key_weeks
        ok = share >= GOAL_RECALL and fa <= GOAL_FALSE_ALARMS
        met_any |= ok and r.name.startswith("project")
        print(f"  {r.name:24} {'PASS' if ok else 'MISS'}: {100 * share:.1f}% of {len(goal)} within {GOAL_DELAY} windows ({'ok' if share >= GOAL_RECALL else 'short'}), {fa:.2f} false alarms per 100 key-weeks ({'ok' if fa <= GOAL_FALSE_ALARMS else 'too many'})")  # fmt: skip
    return met_any


def day_one(rules: RuleBook, traffic: Traffic) -> tuple[int, int]:
    """(surges the keys open on the first day, incidents the grouping stage opens from them)."""
    from streams.records import GroupMember, SurgeChange, SurgeDetail, SurgeReport

    policy, start = rules.surge, traffic.start_of
    day = 24 * 3600 // policy.window_seconds
    first = start(0)
    reports: list[SurgeReport] = []
    for key in traffic.keys:
        if key.born != 0:
            continue
        state = initialize()
        for window in range(day):
            count = key.counts.get(window, 0)
            v = verdict(state, count, start(window), policy)
            if v.signal is SurgeSignal.SURGE_OPENED:
                case = f"customer:{key.name}"
                member = GroupMember(
                    case_key=case, event_id=f"{key.name}-{window}", at=start(window)
                )
                reports.append(
                    SurgeReport(
                        report_id=f"d1-{key.name}-{window}",
                        key=f"product:{key.name}",
                        change=SurgeChange.OPENED,
                        at=start(window),
                        opened_at=start(window),
                        first_seen=first,
                        detail=SurgeDetail(
                            dimension="product",
                            value=key.name,
                            window_start=start(window),
                            window_minutes=policy.window_seconds // 60,
                            count=v.count,
                            expected=v.expected,
                            ratio=v.ratio,
                            p_value=min(1.0, v.p_value),
                            new_key=v.reason is SurgeReason.NEW_KEY,
                        ),
                        variance=v.variance,
                        members=(member,),
                    )
                )
            state = update(v.state, count, start(window), policy)
    book, incidents = None, 0
    for report in sorted(reports, key=lambda r: r.at):
        step = advance(book, report, rules)
        book = step.book
        incidents += step.reason is Grouped.OPENED
    return len(reports), incidents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer keys and weeks (< 60 s)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    policy = load_rules().surge
    if args.quick:
        traffic = generate(seed=args.seed, keys=600, weeks=2, bursts_per_cell=12, new_key_bursts=8)
    else:
        traffic = generate(seed=args.seed, keys=2000, weeks=4, bursts_per_cell=30)
    generated = time.perf_counter() - began
    flat = SurgePolicy.model_validate(policy.model_dump() | {"profile_half_life": None})
    print(
        f"surge evaluation — seed {args.seed}, {'quick' if args.quick else 'full'}: "
        f"{sum(1 for k in traffic.keys if not k.name.startswith('new'))} keys + "
        f"{sum(1 for b in traffic.bursts if b.new_key)} new-key bursts, "
        f"{(traffic.windows - traffic.warmup) // 672} scored weeks after a {traffic.warmup // 672}-week warm-up, "
        f"{policy.window_seconds // 60}-min windows; {len(traffic.bursts)} bursts "
        f"(traffic generated in {generated:.1f} s)"
    )
    results = [evaluate("project", project_detector(policy, traffic), traffic, policy)]
    results.append(evaluate("project, flat day", project_detector(flat, traffic), traffic, flat))
    fa_t = fa_matched_threshold(traffic, policy)
    results.append(evaluate(f"naive T={fa_t} FA-matched", naive_detector(fa_t, policy), traffic, policy))  # fmt: skip
    threes = [i for i, b in enumerate(traffic.bursts) if b.multiplier == 3 and not b.new_key]
    target = len([i for i in threes if i in results[0].caught]) / len(threes)
    rc_t = recall_matched_threshold(traffic, policy, target)
    results.append(evaluate(f"naive T={rc_t} recall-matched", naive_detector(rc_t, policy), traffic, policy))  # fmt: skip
    memory = policy.profile_half_life
    days = "off" if memory is None else f"half-life {memory.total_seconds() / 86400:g} days"
    notes = [f"rhythm: each key's own ({days}) vs one level all day"]
    report(traffic, results, policy, notes)
    rules = load_rules()
    opened, incidents = day_one(rules, traffic)
    history = rules.surge.new_key_history.total_seconds() / 3600
    print(
        f"\nday-one quiet (a fresh deployment, the first day): the keys open {opened} surges; "
        f"after the grouping stage (new_key_history {history:g} h): {incidents} incidents"
    )
    print(f"\ntotal {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
