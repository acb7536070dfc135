"""Generation-quality metrics: hand-computed values, intervals that cover them, guards that trip on collapse."""

from __future__ import annotations

import math

import pytest

from alignlab.metrics.generation import (
    GenerationGuard,
    degeneration_reasons,
    distinct_n,
    reference_metrics,
    repeated_ngram_rate,
    text_metrics,
)

VARIED = ["Tom saw the big dog.", "Lily found a red ball in the park.", "Sam and Mia went to the river.",
          "The cat liked the warm sun.", "Ben made a cake for his mum."]


def test_distinct_n_counts_unique_ngrams_over_all_texts():
    # "a b a" + "a b": bigrams (a,b),(b,a),(a,b) -> 2 unique of 3; unigrams a,b,a,a,b -> 2 unique of 5
    assert distinct_n(["a b a", "a b"], 2)["value"] == pytest.approx(2 / 3)
    assert distinct_n(["a b a", "a b"], 1)["value"] == pytest.approx(2 / 5)


def test_collapsed_outputs_have_low_distinct_2_with_an_interval_that_separates_them():
    collapsed = distinct_n(["good nice nice good"] * 40, 2, seed=1)
    varied = distinct_n([f"{name} {verb} the {thing} by the {place}." for name, verb, thing, place in zip(
        ("Tom", "Lily", "Sam", "Mia", "Ben") * 8, ("saw", "found", "liked", "made") * 10,
        ("dog", "ball", "cake", "boat", "kite", "tree", "cup", "hat") * 5,
        ("river", "park", "house", "school", "sea", "hill", "farm") * 6, strict=False)], 2, seed=1)
    assert collapsed["high"] < varied["low"]
    assert collapsed["low"] <= collapsed["value"] <= collapsed["high"]
    assert varied["low"] <= varied["value"] <= varied["high"]  # recentred: resampling repeats texts


def test_repeated_ngram_rate():
    assert repeated_ngram_rate("great great great") == 0.5  # bigrams (g,g),(g,g): one repeats
    assert repeated_ngram_rate("Tom saw the dog.") == 0.0
    assert repeated_ngram_rate("") == 0.0


def test_text_metrics_has_each_metric_with_an_interval():
    metrics = text_metrics(VARIED, finished=[True, True, False, True, True])
    assert set(metrics) == {"distinct_1", "distinct_2", "repeated_2gram_rate", "mean_words", "finished"}
    assert metrics["finished"]["value"] == pytest.approx(0.8)
    assert metrics["mean_words"]["value"] == pytest.approx(sum(len(t.split()) for t in VARIED) / 5)
    for metric in metrics.values():
        assert metric["low"] <= metric["value"] <= metric["high"] and metric["n"] == 5


def test_reference_perplexity_is_token_weighted_and_kl_is_the_mean_log_ratio():
    out = reference_metrics([-2.0, -6.0], [2, 2], policy_logprobs=[-1.0, -3.0])
    assert out["reference_perplexity"]["value"] == pytest.approx(math.exp(8.0 / 4))
    assert out["sampled_kl"]["value"] == pytest.approx(((-1 + 2) + (-3 + 6)) / 2)


def test_degeneration_reasons_follow_the_guard_thresholds():
    base = {"distinct_2": {"value": 0.9}, "reference_perplexity": {"value": 10.0}}
    fine = {"distinct_2": {"value": 0.8}, "reference_perplexity": {"value": 14.0}, "sampled_kl": {"value": 3.0}}
    assert degeneration_reasons(fine, base, GenerationGuard()) == []
    bad = {"distinct_2": {"value": 0.5}, "reference_perplexity": {"value": 40.0}, "sampled_kl": {"value": 9.0}}
    reasons = degeneration_reasons(bad, base, GenerationGuard(max_kl=5.0))
    assert len(reasons) == 3 and "distinct-2" in reasons[0] and "perplexity" in reasons[1] and "KL" in reasons[2]
    assert degeneration_reasons(bad, base, GenerationGuard(min_distinct_2_ratio=None,
                                                           max_perplexity_ratio=None)) == []
