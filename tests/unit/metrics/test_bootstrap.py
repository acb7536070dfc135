from __future__ import annotations

import numpy as np
import pytest

from alignlab.metrics import bootstrap_ci, paired_bootstrap_diff


def test_interval_brackets_the_mean_and_matches_normal_theory():
    rng = np.random.default_rng(1)
    values = (rng.random(2000) < 0.7).astype(float)
    result = bootstrap_ci(values, n_resamples=4000, seed=3)
    assert result.value == pytest.approx(values.mean())
    assert result.low < result.value < result.high
    half_width = 1.96 * np.sqrt(result.value * (1 - result.value) / len(values))
    assert (result.high - result.low) / 2 == pytest.approx(half_width, rel=0.1)


def test_seeded_and_reproducible():
    values = [1, 0, 1, 1, 0, 1, 0, 1]
    assert bootstrap_ci(values, seed=5) == bootstrap_ci(values, seed=5)
    assert bootstrap_ci(values, seed=5) != bootstrap_ci(values, seed=6)


def test_constant_data_has_zero_width_and_empty_is_nan():
    result = bootstrap_ci([1.0] * 10)
    assert (result.low, result.value, result.high) == (1.0, 1.0, 1.0)
    assert np.isnan(bootstrap_ci([]).value)


def test_custom_statistic_and_paired_difference():
    median = bootstrap_ci([1, 2, 3, 100], statistic=lambda s: np.median(s, axis=1))
    assert median.value == 2.5
    diff = paired_bootstrap_diff([1, 1, 1, 0], [0, 0, 1, 0])
    assert diff.value == pytest.approx(0.5)
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap_diff([1, 2], [1])
