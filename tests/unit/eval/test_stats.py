"""Bootstrap metrics: a plain mean matches the shared bootstrap exactly; ratios, strata, undefined resamples."""

from __future__ import annotations

import numpy as np
import pytest

from alignlab.eval.stats import Stats, bootstrap_columns, matches, ratio
from alignlab.metrics import bootstrap_ci

SAMPLES = [{"id": i, "correct": c, "group": g} for i, (c, g) in enumerate(
    [(True, "a"), (False, "a"), (True, "b"), (True, "b"), (False, "b")])]


def test_mean_is_the_shared_bootstrap_with_its_source_recorded():
    metric = Stats(n_resamples=500, seed=3).mean(SAMPLES, "correct", description="accuracy")
    reference = bootstrap_ci([1, 0, 1, 1, 0], n_resamples=500, seed=3)
    assert (metric["value"], metric["low"], metric["high"]) == (reference.value, reference.low, reference.high)
    assert metric["n"] == 5 and metric["mean_of"] == {"field": "correct", "where": {}}


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
