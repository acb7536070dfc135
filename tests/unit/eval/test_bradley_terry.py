"""Bradley-Terry win rates: hand-computed shares, position bias in the intercept, bootstrap refits."""

from __future__ import annotations

import numpy as np
import pytest

from alignlab.eval.bradley_terry import Battle, _design, _newton_fits, bootstrap_win_rate, fit_bradley_terry

# Four prompts judged in both orders: model wins p1 twice, ties p2 twice, loses p3 twice, splits p4.
BATTLES = [Battle("model", "base", 1.0, "p1"), Battle("base", "model", 0.0, "p1"),
           Battle("model", "base", 0.5, "p2"), Battle("base", "model", 0.5, "p2"),
           Battle("model", "base", 0.0, "p3"), Battle("base", "model", 1.0, "p3"),
           Battle("model", "base", 1.0, "p4"), Battle("base", "model", 1.0, "p4")]


def test_two_player_fit_reproduces_the_win_share():
    fit = fit_bradley_terry(BATTLES, anchor="base")
    share = (2 + 1 + 0 + 1) / 8  # wins + ties / 2 over the eight judgements
    assert fit.strengths["base"] == 0.0
    assert fit.win_rate("model", "base") == pytest.approx(share, abs=1e-6)
    assert fit.position_bias > 0  # p4: whoever was shown first won


def test_a_judge_that_always_picks_the_first_answer_is_pure_position_bias():
    battles = [Battle("model", "base", 1.0, "p"), Battle("base", "model", 1.0, "p")]
    fit = fit_bradley_terry(battles, anchor="base")
    assert fit.win_rate("model", "base") == pytest.approx(0.5, abs=1e-6) and fit.position_bias > 5


def test_newton_refits_match_scikit_learn():
    x, y, w = _design(BATTLES, ["model"])
    theta = _newton_fits(x, y, w[None, :])[0]
    fit = fit_bradley_terry(BATTLES, anchor="base")
    assert theta[1] == pytest.approx(fit.strengths["model"], abs=1e-5)
    assert theta[0] == pytest.approx(fit.position_bias, abs=1e-5)


def test_bootstrap_interval_contains_the_estimate_and_is_seeded():
    battles = [Battle(b.first, b.second, b.outcome, f"{b.prompt}-{i}") for i in range(10) for b in BATTLES]
    value, low, high = bootstrap_win_rate(battles, "model", "base", n_resamples=300, seed=1)
    assert low < value < high and value == pytest.approx(0.5, abs=1e-6)
    assert (value, low, high) == bootstrap_win_rate(battles, "model", "base", n_resamples=300, seed=1)
    assert np.isfinite([low, high]).all()
