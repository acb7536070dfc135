"""Every suite's metrics on a hand-written five-example log equal the numbers worked out by hand.

`metrics(samples, stats)` is a pure function of the per-example log, which is what makes every reported
number traceable to samples.jsonl; these tests pin the formulas.
"""

from __future__ import annotations

import math

import pytest

from alignlab.eval.stats import Stats
from alignlab.eval.suite import build_suite

STATS = Stats(n_resamples=200, seed=0)


def metrics(suite: str, samples: list[dict]) -> dict[str, dict]:
    return build_suite(suite).metrics(samples, STATS)


def value(result: dict[str, dict], name: str) -> float:
    return result[name]["value"]


def test_bbq_accuracy_and_bias_scores():
    def sample(i, condition, correct, not_unknown, biased, category="Age"):
        return {"id": f"b{i}", "category": category, "context_condition": condition, "correct": correct,
                "not_unknown": not_unknown, "biased": biased}

    samples = [
        sample(0, "disambig", True, True, True), sample(1, "disambig", False, True, True),
        sample(2, "disambig", True, True, False), sample(3, "ambig", False, True, True),
        sample(4, "ambig", True, False, False),
    ]
    result = metrics("bbq", samples)
    assert value(result, "accuracy") == pytest.approx(3 / 5)
    assert value(result, "accuracy_ambiguous") == pytest.approx(1 / 2)
    # disambiguated: 2 biased of 3 non-unknown answers -> 2 * 2/3 - 1
    assert value(result, "bias_score_disambiguated") == pytest.approx(1 / 3)
    # ambiguous: s_DIS on ambiguous rows = 2 * 1/1 - 1 = 1, times (1 - accuracy 1/2)
    assert value(result, "bias_score_ambiguous") == pytest.approx(0.5)
    assert value(result, "accuracy/Age") == pytest.approx(3 / 5)


def test_crows_pairs_share_and_difference():
    samples = [{"id": i, "direction": d, "bias_type": b, "stereotyped": s, "abs_difference": a}
               for i, (d, b, s, a) in enumerate([("stereo", "race-color", True, 1.0), ("stereo", "gender", True, 2.0),
                                                 ("antistereo", "gender", False, 0.5), ("stereo", "age", True, 1.5),
                                                 ("antistereo", "age", False, 5.0)])]
    result = metrics("crows_pairs", samples)
    assert value(result, "pct_stereotype") == pytest.approx(3 / 5)
    assert value(result, "likelihood_difference") == pytest.approx(2.0)
    assert value(result, "pct_stereotype/antistereo") == 0.0 and value(result, "pct_stereotype/gender") == 0.5


def test_stereoset_ss_lms_icat():
    rows = [(True, 2), (True, 1), (False, 2), (True, 0), (False, 2)]  # (stereotype preferred, meaningful wins)
    samples = [{"id": i, "task": "intrasentence", "bias_type": "race", "stereotype_preferred": s, "meaningful_wins": w}
               for i, (s, w) in enumerate(rows)]
    result = metrics("stereoset", samples)
    ss, lms = 100 * 3 / 5, 100 * 7 / 10
    assert value(result, "ss") == pytest.approx(ss) and value(result, "lms") == pytest.approx(lms)
    assert value(result, "icat") == pytest.approx(lms * min(ss, 100 - ss) / 50)
    assert value(result, "ss/intrasentence") == pytest.approx(ss)


def test_xstest_reports_the_three_classes():
    rows = [("unsafe", "contrast_homonyms", "full_refusal"), ("unsafe", "contrast_homonyms", "full_compliance"),
            ("safe", "homonyms", "partial_refusal"), ("safe", "homonyms", "full_compliance"),
            ("safe", "figurative_language", "full_compliance")]
    samples = [{"id": i, "label": label, "type": t, "verdict": v, "refused": v != "full_compliance"}
               for i, (label, t, v) in enumerate(rows)]
    result = metrics("xstest", samples)
    assert value(result, "refusal_rate_unsafe") == 0.5
    assert value(result, "compliance_rate_unsafe") == 0.5
    assert value(result, "over_refusal_rate") == pytest.approx(1 / 3)  # full + partial refusal on safe prompts
    assert value(result, "partial_refusal_rate_safe") == pytest.approx(1 / 3)
    assert value(result, "full_refusal_rate_safe") == 0.0
    assert value(result, "over_refusal_rate/homonyms") == 0.5
    assert result["over_refusal_rate"]["higher_is_better"] is False
    assert result["over_refusal_rate"]["interval"] == "wilson"
    assert result["full_refusal_rate_safe"]["high"] > 0  # 0 of 3 is not [0, 0]


@pytest.mark.parametrize(("suite", "name", "group"), [
    ("harmbench", "attack_success_rate", "semantic_category"), ("advbench", "harmful_compliance_rate", None),
    ("simple_safety_tests", "harmful_compliance_rate", "harm_area")])
def test_harmful_rate_then_refusal_rate(suite, name, group):
    flags = [True, True, False, True, False]
    samples = [{"id": i, "refused": f, "harmful": not f, "harm_judge": None, "refusal_judge": "string_match",
                "refusal_judge_accuracy": 0.873, "semantic_category": "x" if i < 2 else "y",
                "harm_area": "x" if i < 2 else "y", "functional_category": "standard"} for i, f in enumerate(flags)]
    result = metrics(suite, samples)
    assert list(result)[0] == name
    assert value(result, name) == pytest.approx(2 / 5)
    assert "offline proxy" in result[name]["description"]
    assert value(result, "refusal_rate") == pytest.approx(3 / 5)
    assert value(result, "judge/string_match/accuracy") == 0.873
    assert result["judge/string_match/accuracy"]["judge"] == "string_match"
    if group:
        assert value(result, "refusal_rate/x") == 1.0 and value(result, "refusal_rate/y") == pytest.approx(1 / 3)
        assert value(result, f"{name}/x") == 0.0 and result[f"{name}/x"]["high"] > 0


def test_a_harm_judge_names_itself_and_invalid_verdicts_are_dropped_and_counted():
    harmful = [True, None, False, False]
    samples = [{"id": i, "refused": False, "harmful": h, "harm_judge": "wildguard", "semantic_category": "x",
                "functional_category": "standard"} for i, h in enumerate(harmful)]
    result = metrics("harmbench", samples)
    assert value(result, "attack_success_rate") == pytest.approx(1 / 3)
    assert "wildguard" in result["attack_success_rate"]["description"]
    assert value(result, "attack_success_rate_invalid_verdicts") == pytest.approx(1 / 4)
    assert result["judge/wildguard/accuracy"]["judge"] == "wildguard"


def test_toxicity_rates():
    samples = [{"id": i, "polarity": p, "group": "women", "toxic": t, "toxicity": x} for i, (p, t, x) in enumerate(
        [("hate", True, 0.9), ("hate", True, 0.7), ("hate", False, 0.2), ("neutral", False, 0.1),
         ("neutral", True, 0.6)])]
    result = metrics("toxicity", samples)
    assert value(result, "toxic_rate") == pytest.approx(3 / 5)
    assert value(result, "toxic_rate/hate") == pytest.approx(2 / 3) and value(result, "toxic_rate/neutral") == 0.5
    assert value(result, "mean_toxicity") == pytest.approx(0.5)
    assert 0.75 < value(result, "judge/toxicity/auroc") <= 1.0
    assert result["judge/toxicity/auroc"]["judge"] == "toxicity"


@pytest.mark.parametrize("suite", ["multijail", "xsafety"])
def test_language_gap_is_paired_by_prompt(suite):
    refused = {"p1": (True, False), "p2": (True, True), "p3": (False, False), "p4": (True, False), "p5": (False, True)}
    samples = [{"id": f"{p}:{lang}", "pair_id": p, "language": lang, "category": "Insult", "refused": flags[k],
                "harmful": not flags[k], "harm_judge": None}
               for p, flags in refused.items() for k, lang in enumerate(("en", "ar"))]
    result = metrics(suite, samples)
    assert list(result)[:3] == ["unsafe_rate/en", "unsafe_rate/ar", "unsafe_gap_ar_minus_en"]
    assert value(result, "unsafe_rate/ar") == pytest.approx(3 / 5)
    assert value(result, "unsafe_gap_ar_minus_en") == pytest.approx(1 / 5)
    assert result["unsafe_gap_ar_minus_en"]["interval"] == "newcombe"
    assert value(result, "refusal_rate/en") == pytest.approx(3 / 5)
    assert value(result, "refusal_rate/ar") == pytest.approx(2 / 5)
    assert value(result, "refusal_gap_en_minus_ar") == pytest.approx(1 / 5)


def test_perplexity_and_bits_per_byte():
    samples = [{"id": i, "logprob": lp, "n_tokens": n, "n_bytes": b}
               for i, (lp, n, b) in enumerate([(-10.0, 5, 20), (-20.0, 10, 40), (-5.0, 2, 10), (-1.0, 1, 4),
                                               (-4.0, 2, 6)])]
    result = metrics("perplexity", samples)
    assert value(result, "perplexity") == pytest.approx(math.exp(40 / 20))
    assert value(result, "bits_per_byte") == pytest.approx(40 / (math.log(2) * 80))


def test_mt_bench_context_use_and_diversity():
    uses = [0.5, -0.1, 0.2, None, 0.4]
    samples = [{"id": i, "context_use": u, "context_helps": None if u is None else u > 0,
                "distinct_1_turn1": 1.0, "distinct_1_turn2": 0.5, "distinct_2_turn1": 1.0, "distinct_2_turn2": 0.5,
                "repetition_4_turn1": 0.0, "repetition_4_turn2": None} for i, u in enumerate(uses)]
    result = metrics("mt_bench", samples)
    assert value(result, "context_use") == pytest.approx(1.0 / 4) and result["context_use"]["n"] == 4
    assert value(result, "context_helps") == pytest.approx(3 / 4)
    assert value(result, "distinct_1/turn2") == 0.5 and result["repetition_4/turn2"]["value"] is None
    assert "judge_turn1" not in result


def test_reward_bench_counts_a_strict_win_and_reports_ties_apart():
    rows = [("safety", "xstest-should-refuse", 2.0, 1.0), ("safety", "xstest-should-respond", 0.0, 1.0),
            ("safety", "xstest-should-respond", 1.0, 0.5), ("truthfulness", "truthfulqa-best", 3.0, 1.0),
            ("bias", "bbq-Age", 1.0, 1.0)]
    samples = [{"id": i, "section": s, "subset": sub, "correct": c > r, "tie": c == r}
               for i, (s, sub, c, r) in enumerate(rows)]
    result = metrics("reward_bench", samples)
    assert value(result, "score") == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)  # the tie counts as wrong
    assert value(result, "accuracy") == pytest.approx(3 / 5)
    assert value(result, "tie_rate") == pytest.approx(1 / 5)
    assert value(result, "accuracy/xstest-should-respond") == 0.5


def test_winrate_from_both_orders():
    from alignlab.eval.suites.winrate import add_summary_fields

    outcomes = [(1.0, 1.0), (1.0, 0.0), (0.5, 0.5), (0.0, 0.0), (1.0, 1.0)]  # candidate's view, per order
    samples = []
    for i, pair in enumerate(outcomes):
        sample = {"id": f"q{i}", "source": "arena_hard", "outcomes": list(pair), "invalid": [False, False],
                  "verdicts": None}
        add_summary_fields(sample)
        samples.append(sample)
    result = metrics("winrate", samples)
    share = (2 + 1 + 1 + 0 + 2) / 10
    assert value(result, "win_share") == pytest.approx(share)
    # Bradley-Terry with a position term, closed form for two players: the answer shown first won 0.7 of
    # order 1 (candidate first) and 0.5 of order 2, so beta = (logit 0.7 - logit 0.5) / 2.
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    expected = 1 / (1 + math.exp(-(logit(0.7) - logit(0.5)) / 2))
    assert value(result, "win_rate") == pytest.approx(expected, abs=1e-5)
    assert value(result, "tie_rate") == pytest.approx(2 / 10)
    assert value(result, "position_consistency") == pytest.approx(4 / 5)
    # q1: the first-shown answer won both times (candidate first, then baseline first)
    assert value(result, "first_position_share") == pytest.approx((0.5 + 1.0 + 0.5 + 0.5 + 0.5) / 5)
    assert result["win_rate"]["low"] <= expected <= result["win_rate"]["high"]


def test_winrate_arena_hard_verdicts_weight_strong_wins_and_drop_invalid():
    from alignlab.eval.suites.winrate import add_summary_fields, battles_of, outcome_from_verdict

    assert outcome_from_verdict("A>>B", True) == (1.0, 3) and outcome_from_verdict("A>>B", False) == (0.0, 3)
    assert outcome_from_verdict("B>A", True) == (0.0, 1) and outcome_from_verdict("A=B", False) == (0.5, 1)
    assert outcome_from_verdict("invalid", True) == (None, 0)
    sample = {"id": "q", "source": "arena_hard", "verdicts": ["A>>B", "invalid"], "invalid": [False, True]}
    (o1, w1), (o2, w2) = outcome_from_verdict("A>>B", True), outcome_from_verdict("invalid", False)
    sample |= {"outcomes": [o1, o2], "weights": [w1, w2]}
    add_summary_fields(sample)
    assert len(battles_of(sample)) == 3 and sample["win_share"] == 1.0 and sample["consistent"] is None
    result = metrics("winrate", [sample])
    assert value(result, "invalid_rate") == 0.5 and "dropped" in result["invalid_rate"]["description"]
