"""Percentiles and the median of per-pair ratios."""

from __future__ import annotations

import pytest

from bench.ladder.stats import pair_ratios, percentile


class TestPercentile:
    @pytest.mark.parametrize(
        ("q", "expected"), [(0, 1.0), (50, 3.0), (100, 5.0), (25, 2.0), (90, 4.6), (99, 4.96)]
    )
    def test_interpolates_between_ranks(self, q: float, expected: float) -> None:
        assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], q) == pytest.approx(expected)

    def test_one_value_is_every_percentile(self) -> None:
        assert percentile([7.0], 99) == 7.0

    def test_nothing_has_no_percentile(self) -> None:
        with pytest.raises(ValueError):
            percentile([], 50)


class TestPairRatios:
    def test_the_median_is_of_the_pairs_not_the_ratio_of_medians(self) -> None:
        """Drift cancels within a pair: (10/5, 30/10, 8/8) -> median 2.0, range 1.0-3.0."""
        ratios = pair_ratios([10.0, 30.0, 8.0], [5.0, 10.0, 8.0])
        assert (ratios.median, ratios.low, ratios.high) == (2.0, 1.0, 3.0)
        assert ratios.as_dict()["pairs"] == [2.0, 3.0, 1.0]

    def test_pairs_must_match(self) -> None:
        with pytest.raises(ValueError):
            pair_ratios([1.0, 2.0], [1.0])
