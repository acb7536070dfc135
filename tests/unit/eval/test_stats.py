"""Bootstrap metrics: a plain mean matches the shared bootstrap exactly; ratios, strata, undefined resamples."""

from __future__ import annotations

import numpy as np
import pytest

from alignlab.eval.stats import Stats, bootstrap_columns, matches, ratio
from alignlab.metrics import bootstrap_ci

SAMPLES = [{"id": i, "correct": c, "group": g} for i, (c, g) in enumerate(
    [(True, "a"), (False, "a"), (True, "b"), (True, "b"), (False, "b")])]


def test_mean_of_a_number_is_the_shared_bootstrap_with_its_source_recorded():
    samples = [{"id": i, "score": x} for i, x in enumerate([0.2, 1.5, 0.7, 0.9, 0.1])]
    metric = Stats(n_resamples=500, seed=3).mean(samples, "score", description="score")
    reference = bootstrap_ci([0.2, 1.5, 0.7, 0.9, 0.1], n_resamples=500, seed=3)
    assert (metric["value"], metric["low"], metric["high"]) == (reference.value, reference.low, reference.high)
    assert metric["n"] == 5 and metric["mean_of"] == {"field": "score", "where": {}}
    assert metric["interval"] == "bootstrap"


def test_a_proportion_gets_a_wilson_interval_never_a_point():
    stats = Stats()
    none = stats.mean([{"r": False}] * 50, "r", description="")
    assert none["value"] == 0.0 and none["low"] == 0.0 and 0.06 < none["high"] < 0.08  # XSTest at 0 of 50
    every = stats.mean([{"r": True}] * 20, "r", description="")
    assert every["value"] == 1.0 and every["high"] == 1.0 and every["low"] < 1.0
    one = stats.mean([{"r": True}], "r", description="")
    assert one["interval"] == "wilson" and 0.15 < one["low"] < 0.25 and one["high"] == 1.0
    three = stats.mean(SAMPLES, "correct", description="")  # 3 of 5, by the closed form
    assert three["low"] == pytest.approx(0.2307, abs=1e-3) and three["high"] == pytest.approx(0.8824, abs=1e-3)
    assert stats.mean([], "r", description="")["value"] is None


def test_paired_difference_interval_is_newcombes_and_not_a_point_at_zero():
    from alignlab.eval.stats import newcombe_paired

    stats = Stats()
    zero = stats.paired_difference([False] * 20, [False] * 20, description="")
    assert zero["value"] == 0.0 and zero["low"] < 0 < zero["high"]
    first = [1] * 8 + [1] * 5 + [0] * 4 + [0] * 18
    second = [1] * 8 + [0] * 5 + [1] * 4 + [0] * 18
    low, high = newcombe_paired(first, second)
    assert low < 1 / 35 < high and -1 <= low and high <= 1
    swapped = newcombe_paired(second, first)  # the difference the other way round mirrors the interval
    assert swapped == (pytest.approx(-high), pytest.approx(-low))
    # concordant pairs carry information: a perfectly correlated design is narrower than an anti-correlated one
    same = newcombe_paired([1] * 10 + [0] * 10, [1] * 10 + [0] * 10)
    opposite = newcombe_paired([1] * 10 + [0] * 10, [0] * 10 + [1] * 10)
    assert same[1] - same[0] < opposite[1] - opposite[0]


def test_where_and_grouped_means():
    stats = Stats(n_resamples=200)
    assert stats.mean(SAMPLES, "correct", where={"group": "b"}, description="")["value"] == pytest.approx(2 / 3)
    grouped = stats.grouped_means(SAMPLES, "correct", "group", prefix="accuracy", description="acc")
    assert {k: v["value"] for k, v in grouped.items()} == {"accuracy/a": 0.5, "accuracy/b": pytest.approx(2 / 3)}
    assert matches({"x": 1}, {"x": [1, 2]}) and not matches({"x": 3}, {"x": [1, 2]})


def test_ratio_leaves_out_undefined_resamples():
    # numerator 1 of denominator 1 in a single row: most resamples miss that row and are undefined
    value, low, high, n, undefined = bootstrap_columns({"num": [1, 0, 0, 0], "den": [1, 0, 0, 0]},
                                                       ratio("num", "den"), n_resamples=300, seed=0)
    assert value == 1.0 and low == high == 1.0 and n == 4 and 0 < undefined < 300


def test_strata_keep_group_sizes_fixed():
    seen = []

    def statistic(columns):
        seen.append(columns["in_a"].sum(axis=1))
        return columns["x"].mean(axis=1)

    bootstrap_columns({"x": [1, 0, 1, 1, 0], "in_a": [1, 1, 0, 0, 0]}, statistic, n_resamples=50,
                      strata=["a", "a", "b", "b", "b"])
    assert np.all(np.concatenate(seen) == 2)  # every resample keeps both "a" rows' count


def test_empty_metric_is_none_not_nan():
    metric = Stats().mean([], "correct", description="nothing")
    assert metric["value"] is None and metric["n"] == 0
