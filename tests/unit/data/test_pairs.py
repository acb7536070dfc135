"""Rankings and ratings into pairwise records."""

from __future__ import annotations

from alignlab.data import RowChecker, expand_ranking_to_pairs, ratings_to_pairs, weighted_score


def test_ranking_expansion_skips_ties_and_sets_margins():
    ranking = {"id": "r1", "prompt": "p", "responses": ["a", "b", "c", "d"], "ranks": [2, 1, 2, 4],
               "source": "s"}
    pairs = expand_ranking_to_pairs(ranking)
    got = {(p["chosen"], p["rejected"], p["margin"]) for p in pairs}
    # a and c tie at rank 2: no pair between them.
    assert got == {("b", "a", 1), ("a", "d", 2), ("b", "c", 1), ("b", "d", 3), ("c", "d", 2)}
    assert {p["id"] for p in pairs} == {"r1-1v0", "r1-0v3", "r1-1v2", "r1-1v3", "r1-2v3"}
    assert all(p["source"] == "s" and p["prompt"] == "p" for p in pairs)
    checker = RowChecker("pairwise")
    assert all(checker.check(p, i) == [] for i, p in enumerate(pairs))


def test_ranking_with_all_ties_gives_no_pairs():
    assert expand_ranking_to_pairs({"prompt": "p", "responses": ["a", "b"], "ranks": [1, 1]}) == []


def rated(response, prompt="p", **ratings):
    return {"prompt": prompt, "response": response, "ratings": ratings}


def test_weighted_score():
    assert weighted_score({"helpfulness": 3, "verbosity": 4}, {"helpfulness": 1.0, "verbosity": -0.5}) == 1.0
    assert weighted_score({"helpfulness": 3}, {"correctness": 1.0}) is None


def test_ratings_pair_up_within_each_prompt():
    records = [rated("a", helpfulness=4), rated("b", helpfulness=2), rated("c", helpfulness=2),
               rated("x", prompt="other", helpfulness=1), rated("y", prompt="other", helpfulness=3)]
    pairs = list(ratings_to_pairs(records))
    assert {(p["chosen"], p["rejected"], p["margin"]) for p in pairs} == {
        ("a", "b", 2), ("a", "c", 2), ("y", "x", 2)}


def test_ratings_weights_min_gap_and_best_vs_worst():
    records = [rated("a", helpfulness=4, verbosity=4), rated("b", helpfulness=3, verbosity=0),
               rated("c", helpfulness=1, verbosity=0)]
    weights = {"helpfulness": 1.0, "verbosity": -0.5}  # scores: a 2.0, b 3.0, c 1.0
    assert {(p["chosen"], p["rejected"]) for p in ratings_to_pairs(records, weights)} == {
        ("b", "a"), ("b", "c"), ("a", "c")}
    assert {(p["chosen"], p["rejected"]) for p in ratings_to_pairs(records, weights, min_gap=1.5)} == {("b", "c")}
    assert [(p["chosen"], p["rejected"]) for p in ratings_to_pairs(records, weights, best_vs_worst=True)] == [
        ("b", "c")]


def test_ratings_missing_the_weighted_attribute_are_skipped():
    records = [rated("a", helpfulness=4), rated("b", correctness=1)]
    assert list(ratings_to_pairs(records)) == []
