"""Surge detection on synthetic series: baselines, verdicts, hysteresis, new keys, samples, rules."""

from __future__ import annotations

import json
import math
import random
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.rules import DEFAULT_RULES, RuleBook, RulesError, SurgePolicy, load_rules
from complaints.surge import (
    SurgeKey,
    SurgeReason,
    SurgeSignal,
    SurgeState,
    initialize,
    surge_keys,
    update,
    verdict,
)
from complaints.surge_baseline import daily_profile_from, level_at, window_index
from complaints.surge_profile import hour_of
from complaints.surge_sample import SurgeSample, add_to_sample, summarize_surge, top_keywords
from complaints.surge_stats import tail_probability
from complaints.surge_track import counted_contact
from streams.records import AssessedEvent, Category, ShipmentStatus, Source, SurgeContact
from tests.factories import T0, make_assessed
from tests.properties import PROPERTY_EXAMPLES

POLICY = load_rules().surge
W = timedelta(minutes=15)
BAD = Path(__file__).resolve().parents[2] / "rules" / "bad"


def _counted(event: AssessedEvent, policy: SurgePolicy = POLICY) -> SurgeContact:
    """The contact as a surge key counts it (the ingest agent's fold)."""
    contact = counted_contact(event, policy)
    assert contact is not None, "a negative contact with keys"
    return contact


def _poisson(rng: random.Random, mean: float) -> int:
    u, k, term = rng.random(), 0, math.exp(-mean)
    cdf = term
    while u > cdf:
        k += 1
        term *= mean / k
        cdf += term
    return k


def _run(
    counts: list[int], policy: SurgePolicy = POLICY, state: SurgeState | None = None
) -> tuple[SurgeState, list[tuple[int, SurgeSignal]]]:
    """Judge then fold each window, as the shell does; the announcements with their window."""
    state = state or initialize()
    said: list[tuple[int, SurgeSignal]] = []
    for number, count in enumerate(counts):
        at = T0 + number * W
        v = verdict(state, count, at, policy)
        if v.announces:
            said.append((number, v.signal))
        state = update(v.state, count, at, policy)
    return state, said


def _noisy(seed: int, mean: float, windows: int) -> list[int]:
    rng = random.Random(seed)
    return [_poisson(rng, mean) for _ in range(windows)]


DAY = 96


def _seen(mean: float) -> SurgeState:
    """A key seen for the day before T0 at its usual rate: not a brand-new key."""
    state = initialize()
    for back in range(DAY, 0, -1):
        state = update(state, round(mean), T0 - back * W, POLICY)
    return state


class TestVerdict:
    @pytest.mark.parametrize("mean", [0.3, 2.0, 8.0, 30.0])
    def test_a_flat_noisy_series_never_alarms(self, mean: float) -> None:
        """Four weeks of Poisson noise around a constant rate open no surge (the key was seen
        once before, at its usual rate: a never-seen key with many at once is a new-key surge)."""
        _, said = _run(_noisy(int(mean * 10), mean, 28 * DAY), state=_seen(mean))
        assert said == []

    def test_a_3x_step_opens_once_and_closes_after_it_ends(self) -> None:
        counts = _noisy(1, 10.0, 3 * DAY) + [30] * 8 + _noisy(2, 10.0, DAY)
        _, said = _run(counts, state=_seen(10))
        opened = [n for n, s in said if s is SurgeSignal.SURGE_OPENED]
        closed = [n for n, s in said if s is SurgeSignal.SURGE_CLOSED]
        assert len(opened) == 1 and 3 * DAY <= opened[0] <= 3 * DAY + 1
        # the longest scan still sees the step for a few windows after it ends
        latest = 3 * DAY + 8 + max(POLICY.scan_lengths) + POLICY.close_after
        assert len(closed) == 1 and 3 * DAY + 8 + POLICY.close_after <= closed[0] <= latest

    def test_a_new_key_with_a_burst_opens_as_a_new_key(self) -> None:
        v = verdict(initialize(), 6, T0, POLICY)
        assert v.signal is SurgeSignal.SURGE_OPENED and v.reason is SurgeReason.NEW_KEY
        assert v.opened_at == T0 and v.ratio > POLICY.min_ratio

    def test_a_new_key_with_a_few_contacts_is_normal(self) -> None:
        v = verdict(initialize(), POLICY.min_count - 1, T0, POLICY)
        assert v.signal is SurgeSignal.NORMAL and v.state == initialize()

    def test_a_growing_surge_updates_rather_than_reopens(self) -> None:
        state, _ = _run(_noisy(3, 4.0, 3 * DAY), state=_seen(4))
        at = T0 + 3 * DAY * W
        signals = []
        for count in (30, 31, 45, 46, 70):  # one window, contacts arriving
            v = verdict(state, count, at, POLICY)
            signals.append(v.signal)
            state = v.state
        assert signals == [
            SurgeSignal.SURGE_OPENED,
            SurgeSignal.SURGE_ONGOING,
            SurgeSignal.SURGE_GROWING,
            SurgeSignal.SURGE_ONGOING,
            SurgeSignal.SURGE_GROWING,
        ]

    def test_judging_the_same_count_twice_says_nothing_new(self) -> None:
        first = verdict(initialize(), 8, T0, POLICY)
        again = verdict(first.state, 8, T0, POLICY)
        assert again.signal is SurgeSignal.SURGE_ONGOING and again.state == first.state

    def test_a_dip_inside_a_surge_does_not_close_it(self) -> None:
        """Hysteresis: one quiet window between high ones keeps the same surge open."""
        counts = _noisy(4, 6.0, 3 * DAY) + [30, 30, 6, 30, 30] + [6] * 10
        _, said = _run(counts, state=_seen(6))
        assert [s for _, s in said].count(SurgeSignal.SURGE_OPENED) == 1

    def test_silence_closes_a_surge_on_a_tick(self) -> None:
        """A key that goes silent closes on a tick (count 0) after close_after windows."""
        v = verdict(initialize(), 10, T0, POLICY)
        state = update(v.state, 10, T0, POLICY)
        early = verdict(state, 0, T0 + POLICY.close_after * W, POLICY)
        assert early.signal is SurgeSignal.SURGE_ONGOING
        late = verdict(state, 0, T0 + (POLICY.close_after + 1) * W, POLICY)
        assert late.signal is SurgeSignal.SURGE_CLOSED and late.opened_at == T0
        assert late.state.opened is None

    def test_no_surge_opens_during_the_cooldown(self) -> None:
        v = verdict(initialize(), 10, T0, POLICY)
        state = update(v.state, 10, T0, POLICY)
        closing = T0 + (POLICY.close_after + 1) * W
        state = verdict(state, 0, closing, POLICY).state
        blocked = verdict(state, 40, closing + W, POLICY)
        assert blocked.signal is SurgeSignal.NORMAL and blocked.reason is SurgeReason.COOLDOWN
        allowed = verdict(state, 40, closing + (POLICY.cooldown + 1) * W, POLICY)
        assert allowed.signal is SurgeSignal.SURGE_OPENED

    def test_a_small_rise_on_a_big_key_is_not_a_surge(self) -> None:
        state, _ = _run(_noisy(5, 200.0, 3 * DAY), state=_seen(200))
        v = verdict(state, 380, T0 + 3 * DAY * W, POLICY)  # improbable, but under 2x
        assert v.signal is SurgeSignal.NORMAL and v.reason is SurgeReason.BELOW_MIN_RATIO

    def test_a_window_already_folded_is_not_judged(self) -> None:
        state = update(initialize(), 3, T0, POLICY)
        v = verdict(state, 50, T0, POLICY)
        assert v.reason is SurgeReason.ALREADY_FOLDED and v.state == state


class TestBaseline:
    def test_the_mean_learns_the_rate(self) -> None:
        state, _ = _run(_noisy(6, 5.0, 7 * DAY))
        assert 4.5 < state.mean < 5.5

    @pytest.mark.parametrize("rhythm", [False, True])
    def test_empty_windows_fold_as_zeros_in_closed_form(self, rhythm: bool) -> None:
        """Skipping 50 windows equals folding 50 zero counts one by one: exactly with one level
        all day; with the key's own rhythm the gap's hours are counted exactly and its decay
        taken at the middle, so the weights (and the mean, through them) agree closely."""
        policy = POLICY if rhythm else POLICY.model_copy(update={"profile_half_life": None})
        start, _ = _run(_noisy(7, 3.0, 3 * DAY), policy)
        jumped = update(start, 4, T0 + (3 * DAY + 50) * W, policy)
        stepped = start
        for number in range(3 * DAY, 3 * DAY + 50):
            stepped = update(stepped, 0, T0 + number * W, policy)
        stepped = update(stepped, 4, T0 + (3 * DAY + 50) * W, policy)
        assert jumped.mean == pytest.approx(stepped.mean, rel=1e-3 if rhythm else 1e-9)
        assert jumped.windows == stepped.windows and jumped.recent[0] == 4
        assert jumped.hour_windows == pytest.approx(stepped.hour_windows, rel=1e-2, abs=1e-3)
        assert jumped.hour_contacts == pytest.approx(stepped.hour_contacts, rel=1e-3)

    def test_update_is_idempotent_per_window(self) -> None:
        state = update(initialize(), 3, T0, POLICY)
        assert update(state, 99, T0, POLICY) == state

    def test_a_surge_moves_the_baseline_far_less_than_its_counts(self) -> None:
        """Surge windows are folded clipped to clip_sd: the level moves under half as far
        as the same counts folded as they are."""
        counts = _noisy(8, 5.0, 3 * DAY) + [40] * 8
        before, _ = _run(counts[: 3 * DAY])
        clipped, _ = _run(counts)
        unclipped, _ = _run(counts, POLICY.model_copy(update={"clip_sd": 1e6}))
        assert 0 < clipped.mean - before.mean < (unclipped.mean - before.mean) / 2

    def test_state_round_trips_through_json(self) -> None:
        state, _ = _run([*_noisy(9, 4.0, DAY), 30, 30])
        assert state.opened is not None
        assert SurgeState.from_json(state.to_json()) == state
        with pytest.raises(ValueError):
            SurgeState.from_json('{"mean": 1}')

    def test_the_daily_profile_scales_expectations(self) -> None:
        profile = daily_profile_from([1.0] * 12 + [3.0] * 12)
        seasonal = SurgePolicy.model_validate(POLICY.model_dump() | {"daily_profile": profile})
        assert sum(profile) == pytest.approx(24)
        state, _ = _run(_noisy(10, 4.0, 2 * DAY), seasonal)
        index = window_index(T0, seasonal)
        assert level_at(state, index, seasonal).mean > 0

    def test_tail_probability_matches_direct_sums(self) -> None:
        poisson = 1 - sum(math.exp(-3) * 3**k / math.factorial(k) for k in range(9))
        assert tail_probability(9, 3, 3) == pytest.approx(poisson, rel=1e-9)
        mean, variance = 4.0, 10.0
        p, r = mean / variance, mean * mean / (variance - mean)
        pmf = [
            math.exp(
                math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1)
                + r * math.log(p) + k * math.log(1 - p)
            )
            for k in range(400)
        ]  # fmt: skip
        assert tail_probability(15, mean, variance) == pytest.approx(sum(pmf[15:]), rel=1e-6)
        assert tail_probability(2, 3, 3) == 1.0


def _rhythm(hour: int) -> float:
    """A call-centre day: ten times busier at 10:00-18:00 than at night."""
    return 2.0 if 10 <= hour < 18 else 0.2 if hour < 7 else 0.8


class TestOwnRhythm:
    """Each key learns its own hours (complaints/surge_profile.py)."""

    def _series(self, days: int, seed: int) -> list[int]:
        rng = random.Random(seed)
        return [_poisson(rng, 20.0 * _rhythm(self._hour(n))) for n in range(days * DAY)]

    @staticmethod
    def _hour(number: int) -> int:
        return hour_of(
            window_index(T0 + number * W, POLICY), POLICY.window_seconds, POLICY.timezone
        )

    def test_a_busy_afternoon_is_no_surge_and_a_busy_night_is(self) -> None:
        """With one level all day the afternoon peak alarms and a night burst of 30 per window
        (7x the night, 1.5x the daily average) goes unseen; the key's own rhythm gets both right."""
        warm = self._series(8, seed=11)
        night = next(n for n in range(7 * DAY, 8 * DAY) if self._hour(n) == 2)
        counts = warm[:night] + [_poisson(random.Random(n), 30.0) for n in range(night, night + 4)]
        flat = POLICY.model_copy(update={"profile_half_life": None})
        _, said_rhythm = _run(counts, state=_seen(20))
        _, said_flat = _run(counts, flat, state=_seen(20))
        opened_rhythm = [n for n, s in said_rhythm if s is SurgeSignal.SURGE_OPENED]
        opened_flat = [n for n, s in said_flat if s is SurgeSignal.SURGE_OPENED]
        assert len(opened_rhythm) == 1 and night <= opened_rhythm[0] < night + 4  # during it
        assert all(n < night for n in opened_flat)  # the flat level alarmed on busy days only
        assert any(10 <= self._hour(n) < 18 for n in opened_flat)

    def test_the_weights_follow_a_busy_key_and_stay_on_the_prior_for_a_small_one(self) -> None:
        busy, _ = _run(self._series(7, seed=12), state=_seen(20))
        index = window_index(T0, POLICY)
        shape = level_at(busy, index, POLICY).shape
        assert shape is not None and shape[3] < 0.4 and shape[14] > 1.6  # truth: 0.2, 1.95
        rng = random.Random(13)
        small, _ = _run([_poisson(rng, 0.05 * _rhythm(self._hour(n))) for n in range(7 * DAY)])
        small_shape = level_at(small, index, POLICY).shape
        assert small_shape is not None and all(0.6 < w < 1.6 for w in small_shape)

    def test_a_state_written_before_the_rhythm_still_reads(self) -> None:
        state, _ = _run(_noisy(9, 4.0, DAY))
        old = {k: v for k, v in json.loads(state.to_json()).items() if not k.startswith("hour_")}
        read = SurgeState.from_json(json.dumps(old))
        assert read.hour_contacts == () and read.mean == state.mean
        assert level_at(read, window_index(T0, POLICY), POLICY).shape is None
        with pytest.raises(ValueError):
            SurgeState.from_json(json.dumps(old | {"hour_windows": [1.0] * 23}))


class TestKeys:
    def test_a_negative_post_counts_toward_each_dimension(self) -> None:
        event = make_assessed(
            source=Source.SOCIAL,
            product="星耀X5手机",
            sku="SX5-128G",
            batch="B2511-07",
            region="华东-上海",
            category=Category.PRODUCT_QUALITY,
        )
        assert surge_keys(event, POLICY) == (
            SurgeKey("product", "星耀X5手机"),
            SurgeKey("sku", "SX5-128G"),
            SurgeKey("batch", "B2511-07"),
            SurgeKey("category", "product_quality"),
            SurgeKey("region", "华东-上海"),
            SurgeKey("channel", "social"),
        )
        assert SurgeKey("batch", "B2511-07").text == "batch:B2511-07"

    def test_a_contact_that_is_not_negative_counts_toward_nothing(self) -> None:
        assert surge_keys(make_assessed(negative=False, batch="B1"), POLICY) == ()

    def test_a_delayed_shipment_counts_under_logistics_and_its_carrier(self) -> None:
        event = make_assessed(
            source=Source.LOGISTICS,
            assessment=None,
            shipment_status=ShipmentStatus.DELAYED,
            carrier="顺达快运",
            region="华南-广州",
        )
        assert surge_keys(event, POLICY) == (
            SurgeKey("category", "logistics"),
            SurgeKey("region", "华南-广州"),
            SurgeKey("carrier", "顺达快运"),
            SurgeKey("channel", "logistics"),
        )
        delivered = event.model_copy(update={"shipment_status": ShipmentStatus.DELIVERED})
        assert surge_keys(delivered, POLICY) == ()

    def test_only_the_configured_dimensions_count(self) -> None:
        only = SurgePolicy.model_validate(POLICY.model_dump() | {"dimensions": ["batch"]})
        assert surge_keys(make_assessed(batch="B1", region="华北"), only) == (
            SurgeKey("batch", "B1"),
        )


class TestSample:
    def test_keywords_and_examples_stay_bounded(self) -> None:
        small = SurgePolicy.model_validate(
            POLICY.model_dump() | {"keyword_slots": 3, "examples": 2}
        )
        sample = SurgeSample()
        for number in range(20):
            event = make_assessed(
                keywords=("发热", f"词{number}"), intensity=number, masked_text=f"手机发热 {number}"
            )
            sample = add_to_sample(sample, _counted(event, small), small)
        assert sample.count == 20 and len(sample.keywords) == 3 and len(sample.examples) == 2
        assert top_keywords(sample, small)[0] == "发热"
        assert [i for i, _ in sample.examples] == [19, 18]
        assert SurgeSample.from_json(sample.to_json()) == sample

    def test_the_summary_names_the_ratio_keywords_and_examples(self) -> None:
        sample = add_to_sample(SurgeSample(), _counted(make_assessed(keywords=("黑屏",))), POLICY)
        v = verdict(initialize(), 8, T0, POLICY)
        summary = summarize_surge(SurgeKey("batch", "B2511-07"), v, sample, T0, POLICY)
        assert summary.keywords == ("黑屏",) and summary.examples == ("快递太慢了",)
        assert summary.ratio == v.ratio and "批次 B2511-07" in summary.detail


class TestRules:
    def test_the_shipped_rules_have_a_surge_policy(self) -> None:
        assert POLICY.scan_lengths == (1, 2, 4) and POLICY.window_seconds == 900
        data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
        assert set(data["surge"]) == set(SurgePolicy.model_fields)  # every number written down

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"windows": ["30m", "15m"]}, "surge.windows"),
            ({"windows": ["15m", "20m"]}, "surge.windows"),
            ({"half_life": "0s"}, "surge.half_life"),
            ({"stay_score": 9}, "surge"),
            ({"daily_profile": [1.0] * 23}, "surge.daily_profile"),
            ({"dimensions": ["batch", "batch"]}, "surge.dimensions"),
        ],
    )
    def test_a_broken_surge_section_names_its_field(self, change: dict, field: str) -> None:  # type: ignore[type-arg]
        data = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))
        data["surge"] |= change
        with pytest.raises(Exception) as refused:  # pydantic's ValidationError
            RuleBook.model_validate(data)
        assert field in str(refused.value).replace("\n", ".").replace(" ", ""), str(refused.value)

    def test_bad_surge_files_exist(self) -> None:
        assert len(list(BAD.glob("surge-*.yaml"))) >= 3
        for path in BAD.glob("surge-*.yaml"):
            with pytest.raises(RulesError):
                load_rules(path)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=-3, max_value=10_000), min_size=1, max_size=40),
    gaps=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=40),
    profile=st.none() | st.lists(st.floats(0.01, 100), min_size=24, max_size=24),
)
def test_verdicts_never_raise_and_stay_finite(
    counts: list[int], gaps: list[int], profile: list[float] | None
) -> None:
    policy = SurgePolicy.model_validate(POLICY.model_dump() | {"daily_profile": profile})
    state, number = initialize(), 0
    for count, gap in zip(counts, gaps * len(counts), strict=False):
        number += gap
        at = T0 + number * W
        v = verdict(state, count, at, policy)
        assert math.isfinite(v.ratio) and v.ratio >= 0 and 0 <= v.p_value <= 1
        assert math.isfinite(v.expected) and v.expected > 0
        state = update(v.state, count, at, policy)
        assert math.isfinite(state.mean) and math.isfinite(state.dispersion)
        assert len(state.recent) <= max(policy.scan_lengths) - 1
        assert SurgeState.from_json(state.to_json()) == state
