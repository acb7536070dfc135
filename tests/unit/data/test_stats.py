"""Audit statistics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from alignlab.data.stats import (
    bias_level,
    binomial_test,
    describe,
    histogram,
    percentile,
    proportion,
    wilson_interval,
)


def test_binomial_test_exact_values():
    assert binomial_test(7, 7) == pytest.approx(2 / 2**7)  # both tails: all heads or all tails
    assert binomial_test(3, 10) == pytest.approx(2 * (1 + 10 + 45 + 120) / 1024)  # 0.34375
    assert binomial_test(5, 10) == 1.0
    # 62 of 100: 2 * P(X <= 38) for Binomial(100, 1/2).
    tail = sum(math.comb(100, i) for i in range(39)) / 2**100
    assert binomial_test(62, 100) == pytest.approx(2 * tail, rel=1e-12)
    assert binomial_test(0, 0) == 1.0


def test_binomial_test_large_n_is_fast_and_tiny():
    assert binomial_test(620_000, 1_000_000) == 0.0  # far below the smallest double
    assert 0.04 < binomial_test(501_000, 1_000_000) < 0.05


def test_wilson_interval_by_hand():
    z = 1.959963984540054
    n, share = 100, 0.62
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert wilson_interval(62, 100) == pytest.approx((centre - half, centre + half))
    assert wilson_interval(62, 100) == pytest.approx((0.52210, 0.70902), abs=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)


def test_bias_levels():
    assert bias_level(proportion(62, 100)) == "strong"
    assert bias_level(proportion(5, 10)) == "none"
    assert bias_level(proportion(5_600, 10_000)) == "moderate"
    assert bias_level(proportion(5_200, 10_000)) == "weak"
    assert bias_level(proportion(0, 0)) == "none"


def test_percentiles_and_describe():
    values = [1, 2, 3, 4, 100]
    assert percentile(sorted(values), 50) == 3
    assert percentile(sorted(values), 95) == pytest.approx(4 + 0.8 * 96)  # numpy's linear interpolation
    assert describe(values) == {"count": 5, "mean": 22, "median": 3, "p95": pytest.approx(80.8), "max": 100}
    assert describe([])["count"] == 0


def test_histogram_clips_outliers_into_end_bins():
    hist = histogram(list(range(100)) + [10_000], bins=10)
    assert sum(hist["counts"]) == 101
    assert hist["edges"][-1] < 10_000
    assert histogram([], bins=3) == {"edges": [], "counts": []}
