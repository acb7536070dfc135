"""`rm eval` metrics on a stub reward model whose scores are known, so every number can be checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from alignlab.algorithms.rm_eval import evaluate_pairs, evaluate_ratings, format_report, headline
from alignlab.models.reward import RewardScores


class WordTokenizer:
    """One token per word: lengths are word counts."""

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [text.split() for text in texts]}


class StubRM:
    """Scores = number of words, or a fixed table; optional ensemble spread."""

    def __init__(self, table=None, spread=None, attributes=()):
        self.tokenizer = WordTokenizer()
        self.table = table or {}
        self.spread = spread or {}
        self.attributes = attributes
        self.weights = np.ones(len(attributes)) / max(1, len(attributes))

    def score(self, prompts, responses, batch_size=16):
        reward = np.asarray([self.table.get(r, len(r.split())) for r in responses], dtype=float)
        std = np.asarray([self.spread.get(r, 0.0) for r in responses]) if self.spread else None
        attributes = np.stack([reward, reward], axis=1) if self.attributes else None
        return RewardScores(reward=reward, std=std, attributes=attributes, attribute_names=self.attributes)


def pair(chosen, rejected, **extra):
    return {"prompt": "p", "chosen": chosen, "rejected": rejected, **extra}


def test_longer_is_better_model_shows_length_bias():
    pairs = [pair("a b c", "a", category="x"), pair("a b", "a", category="x"),   # chosen longer: right
             pair("a", "a b c", category="y"), pair("a", "a b", category="y")]   # chosen shorter: wrong
    metrics = evaluate_pairs(StubRM(), pairs, seed=0)
    assert metrics["accuracy"] == 0.5
    bias = metrics["length_bias"]
    assert bias["chosen_longer"] == {"n": 2, "accuracy": 1.0}
    assert bias["chosen_shorter"] == {"n": 2, "accuracy": 0.0}
    assert bias["reward_length_pearson"] == pytest.approx(1.0)
    assert bias["shorter_wins_baseline"] == 0.5
    assert metrics["sections"]["by"] == "category"
    assert metrics["sections"]["table"] == {"x": {"n": 2, "accuracy": 1.0}, "y": {"n": 2, "accuracy": 0.0}}


def test_sections_are_averaged_unweighted_and_ties_count_half():
    table = {"good": 1.0, "bad": 0.0, "same": 0.5}
    pairs = [pair("good", "bad", source="big")] * 3 + [pair("bad", "good", source="big"),
                                                        pair("same", "same", source="small")]
    metrics = evaluate_pairs(StubRM(table), pairs)
    assert metrics["accuracy"] == pytest.approx((3 + 0 + 0.5) / 5)
    assert metrics["sections"]["by"] == "source"
    assert metrics["sections"]["section_mean"] == pytest.approx((0.75 + 0.5) / 2)
    low, high = metrics["accuracy_ci95"]
    assert low <= metrics["accuracy"] <= high


def test_calibration_uses_sigmoid_of_the_reward_difference():
    table = {"c": np.log(3.0), "r": 0.0}  # sigmoid(log 3) = 0.75 for every pair, all right
    metrics = evaluate_pairs(StubRM(table), [pair("c", "r")] * 4)
    assert metrics["calibration"]["ece"] == pytest.approx(0.25)
    assert metrics["calibration"]["brier"] == pytest.approx(0.0625)


def test_agreement_ceiling_and_ensemble_uncertainty():
    pairs = [pair("a b", "a", agreement=1.0), pair("a b", "a", agreement=2 / 3),
             pair("a", "a b", agreement=2 / 3), pair("a b c", "a")]
    spread = {"a": 0.0, "a b": 0.2, "a b c": 1.0}
    metrics = evaluate_pairs(StubRM(spread=spread), pairs)
    agreement = metrics["agreement"]
    assert agreement["pairs"] == 3 and agreement["ceiling"] == pytest.approx(7 / 9)
    assert agreement["accuracy"] == pytest.approx(2 / 3)
    assert agreement["accuracy_vs_ceiling"] == pytest.approx((2 / 3) / (7 / 9))
    assert agreement["accuracy_unanimous"] == 1.0 and agreement["accuracy_split"] == 0.5
    uncertainty = metrics["uncertainty"]
    # pair spreads 0.1, 0.1, 0.1, 0.5: the first two (both right) are the least uncertain half
    assert uncertainty["mean_std"] == pytest.approx(0.8 / 4)
    assert (uncertainty["accuracy_low_uncertainty"], uncertainty["accuracy_high_uncertainty"]) == (1.0, 0.5)
    report = format_report(metrics)
    assert "agreement ceiling 0.778" in report and "ensemble spread" in report and "length bias" in report


def test_ratings_metrics_per_attribute_and_pairs():
    records = [{"prompt": "p", "response": "a b", "ratings": {"helpfulness": 2, "correctness": 2}},
               {"prompt": "p", "response": "a b c d", "ratings": {"helpfulness": 4, "correctness": 3}},
               {"prompt": "q", "response": "a", "ratings": {"helpfulness": 0, "correctness": 1}}]
    rm = StubRM(attributes=("helpfulness", "correctness"))
    metrics = evaluate_ratings(rm, records, weights={"helpfulness": 0.5, "correctness": 0.5})
    assert metrics["attributes"]["helpfulness"]["mae"] == pytest.approx(1 / 3)  # predictions 2, 4, 1
    assert metrics["attributes"]["helpfulness"]["spearman"] == pytest.approx(1.0)
    assert metrics["pairwise"]["pairs"] == 1 and metrics["pairwise"]["accuracy"] == 1.0
    assert set(headline(metrics)) >= {"accuracy", "helpfulness_mae", "correctness_spearman"}
