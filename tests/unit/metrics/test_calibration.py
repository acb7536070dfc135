"""Calibration and rank metrics against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alignlab.metrics.calibration import (
    average_ranks,
    brier_score,
    expected_calibration_error,
    mean_absolute_error,
    pearson,
    reliability_bins,
    sigmoid,
    spearman,
)


def test_sigmoid_is_stable_at_extremes():
    values = sigmoid([-1000.0, 0.0, 1000.0])
    assert values.tolist() == [0.0, 0.5, 1.0]
    assert sigmoid([math.log(3)])[0] == pytest.approx(0.75)


def test_top_label_ece_hand_computed():
    # p = P(chosen wins). Predicted winner: chosen for 0.9, 0.8, 0.6; rejected for 0.3 (confidence 0.7, wrong).
    probs = [0.9, 0.8, 0.6, 0.3]
    # 5 bins over [0.5, 1]: 0.6 -> (0.5,0.6], 0.7 -> (0.6,0.7], 0.8 -> (0.7,0.8], 0.9 -> (0.8,0.9]
    # each bin one pair: |1-0.9| + |1-0.8| + |1-0.6| + |0-0.7| = 0.1 + 0.2 + 0.4 + 0.7 = 1.4, / 4
    assert expected_calibration_error(probs, n_bins=5) == pytest.approx(1.4 / 4)
    counts = [row["count"] for row in reliability_bins(probs, n_bins=5)]
    assert counts == [1, 1, 1, 1, 0]


def test_underconfidence_counts_and_calibration_is_zero():
    # four pairs at 75% confidence, all right: accuracy 1.0 against confidence 0.75
    assert expected_calibration_error([0.75] * 4) == pytest.approx(0.25)
    # three right at 0.75 and one wrong at confidence 0.75 (p = 0.25): accuracy 0.75 = confidence
    assert expected_calibration_error([0.75, 0.75, 0.75, 0.25]) == pytest.approx(0.0)


def test_brier_hand_computed_and_empty_is_nan():
    assert brier_score([1.0, 0.5, 0.0]) == pytest.approx((0 + 0.25 + 1) / 3)
    assert math.isnan(brier_score([]))
    assert math.isnan(expected_calibration_error([]))


def test_average_ranks_share_ties():
    assert average_ranks([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]


def test_spearman_and_pearson():
    assert spearman([1, 2, 3, 4], [10, 100, 1000, 10000]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [10, 100, 1000, 10000]) < 0.9
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks of y = [1, 3, 2]: d = 0, -1, 1 -> rho = 1 - 6 * 2 / (3 * 8) = 0.5
    assert spearman([1, 2, 3], [5, 9, 7]) == pytest.approx(0.5)
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert pearson([1, 2], [1, 2]) is None


def test_mae():
    assert mean_absolute_error([1.0, 2.0], np.array([2.0, 0.0])) == pytest.approx(1.5)
