"""Dataset agreement, annotator statistics and human win rates against hand-computed values."""

from __future__ import annotations

import pytest

from alignlab.annotation.stats import annotator_stats, dataset_agreement, human_win_rates
from alignlab.annotation.templates import TEMPLATES
from tests.unit.annotation.helpers import judged, section

# Two annotators, four pairs, identity display order ("a" = the input's first response = vote "0").
#   u1: a, a, b, tie        u2: a, b, b, tie      -> agree on items 1, 3, 4
VOTES = {"r1": ("a", "a"), "r2": ("a", "b"), "r3": ("b", "b"), "r4": ("tie", "tie")}


def pulled(votes=VOTES, models=None):
    return [judged(rid, {"u1": {"preference": a}, "u2": {"preference": b}}, order=[0, 1],
                   fields={"prompt": "P", "response_a": "x", "response_b": "y"},
                   info={"models": models or [None, None]})
            for rid, (a, b) in votes.items()]


def test_pairwise_agreement_by_hand():
    stats = dataset_agreement(TEMPLATES.get("pairwise")(), section(), pulled())["preference"]
    # Cohen: p_o = 3/4; u1 uses (0, tie, 1) at (2/4, 1/4, 1/4), u2 at (1/4, 1/4, 2/4)
    #   p_e = .5*.25 + .25*.25 + .25*.5 = .3125 -> kappa = (.75 - .3125) / .6875 = 0.63636
    assert stats["cohen_kappa"] == pytest.approx(0.6364, abs=1e-4)
    assert stats["cohen_kappa_rater_pairs"] == 1
    # Fleiss (Scott's pi for two raters): P = .75, pooled (3/8, 2/8, 3/8) -> P_e = 22/64 -> 0.61905
    assert stats["fleiss_kappa"] == pytest.approx(0.6190, abs=1e-4)
    # Krippendorff nominal: n = 8, disagreeing coincidences 2, sum n_c n_k (c != k) = 42 -> 1 - 7*2/42 = 2/3
    assert stats["krippendorff_alpha_nominal"] == pytest.approx(0.6667, abs=1e-4)
    # Ordinal with 0 < tie < 1: delta(0,1) = (3+2+3 - 3)^2 = 25, delta(0,tie) = delta(tie,1) = 2.5^2
    #   sum o delta = 2 * 25 = 50; sum n_c n_k delta = 2 * (3*2*6.25 + 2*3*6.25 + 3*3*25) = 600
    #   alpha = 1 - 7 * 50 / 600 = 0.41667
    assert stats["krippendorff_alpha_ordinal"] == pytest.approx(0.4167, abs=1e-4)
    assert stats["pairwise_agreement"] == pytest.approx(0.75)
    assert (stats["units"], stats["units_with_overlap"], stats["annotators"]) == (4, 4, 2)


def test_annotator_stats_leave_one_out_and_position_preference():
    records = pulled()
    records.append(judged("r5", {"u1": {"preference": "a"}}, order=[1, 0], status={"u1": "discarded"}))
    stats = annotator_stats(TEMPLATES.get("pairwise")(), section(), records)
    assert stats["u1"]["submitted"] == 4 and stats["u1"]["discarded"] == 1
    assert stats["u1"]["agreement_with_majority"] == pytest.approx(0.75)  # u2 agrees on 3 of 4
    assert stats["u1"]["position_a_share"] == pytest.approx(2 / 3, abs=1e-4)  # a, a, b (tie left out)
    assert stats["u2"]["position_a_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["u2"]["ties"] == 1


def test_human_win_rate_counts_ties_half():
    # models [m1, m2] on every record; m1 is "0". Per record m1 scores: r1 1, r2 .5, r3 0, r4 .5 -> 0.5
    rates = human_win_rates(TEMPLATES.get("pairwise")(), pulled(models=["m1", "m2"]), resamples=500)
    (rate,) = rates
    assert (rate["model"], rate["opponent"], rate["records"]) == ("m1", "m2", 4)
    assert rate["win_rate"] == pytest.approx(0.5)
    assert rate["ci_low"] <= 0.5 <= rate["ci_high"]
    assert (rate["wins"], rate["ties"], rate["losses"]) == (1, 2, 1)
    swapped = human_win_rates(TEMPLATES.get("pairwise")(), pulled({"r1": ("a", "a")}, models=["z", "b"]))
    assert swapped[0]["model"] == "b" and swapped[0]["win_rate"] == 0.0  # z (first) won, so b lost


def test_ratings_agreement_uses_ordinal_and_interval_alpha():
    ratings = TEMPLATES.get("ratings")()
    records = [judged(f"r{i}", {"u1": {"helpfulness": a}, "u2": {"helpfulness": b}}, order=[0])
               for i, (a, b) in enumerate([(1, 2), (2, 2), (3, 1)])]
    stats = dataset_agreement(ratings, section(template="ratings", attributes=["helpfulness"]), records)
    # The interval example of tests/unit/metrics/test_agreement.py: alpha = 1 - 5 * 10 / 34
    assert stats["helpfulness"]["krippendorff_alpha_interval"] == pytest.approx(1 - 50 / 34, abs=1e-4)
    assert "krippendorff_alpha_ordinal" in stats["helpfulness"]


def test_agreement_without_overlap_is_undefined_not_an_error():
    records = [judged("r1", {"u1": {"preference": "a"}}), judged("r2", {"u2": {"preference": "b"}})]
    stats = dataset_agreement(TEMPLATES.get("pairwise")(), section(), records)["preference"]
    assert stats["units_with_overlap"] == 0 and stats["cohen_kappa"] is None
    assert stats["krippendorff_alpha_nominal"] is None
