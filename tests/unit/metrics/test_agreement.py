"""Agreement statistics against hand-computed values and published worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alignlab.metrics.agreement import (
    codes_for,
    cohen_kappa,
    counts_from_labels,
    fleiss_kappa,
    krippendorff_alpha,
)

nan = float("nan")


def test_cohen_kappa_by_hand():
    # p_o = 4/6 (items 1, 3, 4, 5 agree); both raters use a and b half the time, so p_e = 0.5.
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3
    a = ["a", "a", "b", "b", "a", "b"]
    b = ["a", "b", "b", "b", "a", "a"]
    assert cohen_kappa(a, b) == pytest.approx(1 / 3)


def test_cohen_kappa_perfect_chance_and_undefined():
    assert cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == pytest.approx(1.0)
    # Rater b says "y" whenever a says "x" and vice versa: p_o = 0, p_e = 0.5 -> -1.
    assert cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))  # one label only: chance agreement is 1
    assert math.isnan(cohen_kappa([], []))


def test_weighted_cohen_kappa_by_hand():
    # Labels 0, 1, 2; pairs (0,0), (1,2), (2,2), (0,1). Linear weights |i - j|.
    # observed disagreement = (0 + 1 + 0 + 1) / 4 = 0.5
    # marginals a: 0 -> 2/4, 1 -> 1/4, 2 -> 1/4; b: 0 -> 1/4, 1 -> 1/4, 2 -> 2/4
    # expected = sum_ij a_i b_j |i - j| = .5*.25*1 + .5*.5*2 + .25*.25*1 + .25*.5*1 + .25*.25*2 + .25*.25*1
    #          = .125 + .5 + .0625 + .125 + .125 + .0625 = 1.0  -> kappa = 1 - 0.5 / 1.0 = 0.5
    a, b = [0, 1, 2, 0], [0, 2, 2, 1]
    assert cohen_kappa(a, b, labels=[0, 1, 2], weights="linear") == pytest.approx(0.5)


def test_cohen_kappa_matches_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 200)
    b = np.clip(a + rng.integers(-1, 2, 200), 0, 4)
    for weights in (None, "linear", "quadratic"):
        ours = cohen_kappa(list(a), list(b), labels=range(5), weights=weights)
        theirs = sklearn_metrics.cohen_kappa_score(a, b, labels=list(range(5)), weights=weights)
        assert ours == pytest.approx(theirs)


def test_cohen_kappa_rejects_bad_input():
    with pytest.raises(ValueError, match="different numbers of items"):
        cohen_kappa(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="not one of"):
        cohen_kappa(["a"], ["c"], labels=["a", "b"])


def test_fleiss_kappa_by_hand():
    # 3 items x 3 raters, 2 categories. P_i = 1, 1/3, 1 -> mean 7/9.
    # p = (5/9, 4/9) -> P_e = 41/81. kappa = (7/9 - 41/81) / (1 - 41/81) = 22/40.
    assert fleiss_kappa([[3, 0], [2, 1], [0, 3]]) == pytest.approx(0.55)


def test_fleiss_kappa_wikipedia_example():
    # Fleiss (1971) style table from the Wikipedia article: 10 items, 14 raters, 5 categories -> 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_two_raters_equals_scott_pi():
    # With two raters per item Fleiss' kappa is Scott's pi: p_o = 2/4, pooled p = (4/8, 4/8), p_e = 1/2 -> 0.
    items = [["a", "a"], ["b", "b"], ["a", "b"], ["b", "a"]]
    table, labels = counts_from_labels(items)
    assert labels == ["a", "b"]
    assert fleiss_kappa(table) == pytest.approx(0.0)


def test_fleiss_kappa_variable_raters_and_singletons():
    # The single-rating item carries no agreement information and is skipped.
    assert fleiss_kappa([[3, 0], [2, 1], [0, 3], [1, 0]]) == pytest.approx(0.55)
    assert math.isnan(fleiss_kappa([[1, 0], [0, 1]]))


def test_krippendorff_two_by_three_by_hand():
    # Units (0,0), (0,1), (1,1): coincidences o = [[2, 1], [1, 2]], n_c = (3, 3), n = 6.
    # alpha = 1 - (n - 1) * sum(o * d) / sum(n_c n_k d) = 1 - 5 * 2 / 18 = 4/9 for every level with two values.
    data = [[0, 0, 1], [0, 1, 1]]
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(data, level) == pytest.approx(4 / 9)


def test_krippendorff_interval_by_hand():
    # Units (1,2), (2,2), (3,1): o_12 = o_21 = 1, o_22 = 2, o_13 = o_31 = 1; n = (2, 3, 1), n = 6.
    # sum o d^2 = 1 + 1 + 4 + 4 = 10; sum n_c n_k d^2 = 2 * (6*1 + 2*4 + 3*1) = 34.
    # alpha = 1 - 5 * 10 / 34 = -16/34
    assert krippendorff_alpha([[1, 2, 3], [2, 2, 1]], "interval") == pytest.approx(-16 / 34)


def test_krippendorff_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 observers x 12 units with
    # missing values: nominal 0.743, ordinal 0.815, interval 0.849.
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(data, "ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_undefined_and_errors():
    assert math.isnan(krippendorff_alpha([[1, nan], [nan, 2]]))  # nothing pairable
    assert math.isnan(krippendorff_alpha([[1, 1], [1, 1]]))  # one value only
    with pytest.raises(ValueError, match="unknown level"):
        krippendorff_alpha([[0, 1], [1, 0]], "ratio")


def test_nominal_alpha_agrees_with_kappas_on_complete_two_rater_data():
    # Complete data, two raters: alpha approaches Scott's pi (= Fleiss here) as n grows; exact relation
    # alpha = 1 - (2n - 1)/(2n) * (1 - pi).
    a = ["a", "a", "b", "b", "a", "b", "c", "c"]
    b = ["a", "b", "b", "b", "a", "a", "c", "a"]
    pi = fleiss_kappa(counts_from_labels(list(zip(a, b, strict=True)))[0])
    alpha = krippendorff_alpha(codes_for([a, b]), "nominal")
    n = len(a)
    assert alpha == pytest.approx(1 - (2 * n - 1) / (2 * n) * (1 - pi))


def test_codes_for_keeps_missing_and_order():
    codes = codes_for([["bad", "good", None], ["good", None, "ok"]], order=["bad", "ok", "good"])
    assert np.array_equal(np.isnan(codes), [[False, False, True], [False, True, False]])
    assert codes[0, 0] == 0 and codes[0, 1] == 2 and codes[1, 2] == 1
