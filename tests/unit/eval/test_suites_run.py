"""Each suite's `run` on the tiny model: one sample per example, and the sample's numbers equal what the
scorer, generator and classifiers give when called directly (random weights: numbers are near chance)."""

from __future__ import annotations

import dataclasses

import pytest

from alignlab.eval.data import eval_data_dir, subsample
from alignlab.eval.judges import LMJudge, get_judge, parse_rating, parse_verdict
from alignlab.eval.refusal import StringMatchRefusal
from alignlab.eval.stats import Stats
from alignlab.eval.suite import SUITES, build_suite

N = 3


def run(name: str, context, n: int = N, options: dict | None = None) -> list[dict]:
    suite = build_suite(name, options)
    examples = subsample(suite.load(eval_data_dir()), n, strata=suite.strata)
    samples = suite.run(examples, context)
    two_languages = name in ("multijail", "xsafety")  # one sample per example and language
    assert [s.get("pair_id") if two_languages else s["id"] for s in samples] == [
        e["id"] for e in examples] * (2 if two_languages else 1)
    suite.metrics(samples, Stats(n_resamples=50))  # every suite scores its own samples
    return samples


def test_bbq_samples_hold_the_scores_of_the_three_answers(context):
    samples = run("bbq", context)
    sample = samples[0]
    direct = context.policy.loglikelihood([(f"{sample['context']}\n\nQ: {sample['question']}\nA:", f" {a}")
                                           for a in sample["answers"]])
    assert sample["logliks"] == pytest.approx([r.logprob for r in direct], abs=1e-4)
    assert sample["prediction"] == max(range(3), key=lambda i: sample["logliks"][i])
    assert sample["correct"] == (sample["prediction"] == sample["label"])


def test_bbq_lm_eval_construction_scores_two_people_and_ten_unknowns(context):
    from alignlab.eval.suites.bbq import LM_EVAL_UNKNOWN

    samples = run("bbq", context, options={"choices": "lm_eval"})
    sample = samples[0]
    people = [a for i, a in enumerate(sample["answers"]) if i != sample["unknown_index"]]
    assert sample["scored_answers"] == people + list(LM_EVAL_UNKNOWN) and len(sample["logliks"]) == 12
    best = max(range(12), key=lambda i: sample["logliks"][i])
    expected = sample["unknown_index"] if best >= 2 else [i for i in range(3) if i != sample["unknown_index"]][best]
    assert sample["prediction"] == expected and sample["choices"] == "lm_eval"


@pytest.mark.parametrize("name", ["crows_pairs", "stereoset", "perplexity"])
def test_loglikelihood_suites(name, context):
    samples = run(name, context)
    if name == "crows_pairs":
        direct = context.policy.loglikelihood([("", samples[0]["sent_more"])])[0].logprob
        assert samples[0]["loglik_more"] == pytest.approx(direct, abs=1e-4)
    if name == "perplexity":
        assert all(s["n_tokens"] > 0 and s["logprob"] < 0 for s in samples)


@pytest.mark.parametrize("name", ["xstest", "harmbench", "advbench", "simple_safety_tests"])
def test_refusal_suites_classify_their_own_generations(name, context):
    samples = run(name, context)
    assert [s["refused"] for s in samples] == StringMatchRefusal().classify([], [s["response"] for s in samples])
    assert all(s["refusal_judge"] == "string_match" and s["harm_judge"] is None for s in samples)
    assert [s["harmful"] for s in samples] == [s["verdict"] == "full_compliance" for s in samples]


def test_safety_suites_with_the_trained_judge_report_its_classes_and_accuracy(context):
    models = {key: value for key, value in context._cache.items() if key != "refusal"}  # reuse the loaded models
    trained = dataclasses.replace(context, refusal_classifier="refusal", _cache=models)
    samples = run("xstest", trained, n=4)
    labels = get_judge("refusal").judge([s["prompt"] for s in samples], [s["response"] for s in samples])
    assert [s["verdict"] for s in samples] == [r.label for r in labels]
    result = build_suite("xstest").metrics(samples, Stats(n_resamples=50))
    card = get_judge("refusal").card
    assert result["judge/refusal/accuracy"]["value"] == card["measured"]["accuracy"]
    assert result["judge/refusal/accuracy"]["judge"] == "refusal"
    for metric in result.values():  # no interval collapses to a point on a handful of examples
        if metric.get("n") and metric.get("low") is not None:
            assert metric["low"] < metric["high"]


@pytest.mark.parametrize("name", ["multijail", "xsafety"])
def test_parity_suites_answer_in_both_languages(name, context):
    samples = run(name, context)
    assert [s["language"] for s in samples] == ["en"] * N + ["ar"] * N
    assert {s["pair_id"] for s in samples[:N]} == {s["pair_id"] for s in samples[N:]}


def test_toxicity_scores_continuations_with_the_shipped_classifier(context):
    samples = run("toxicity", context)
    assert [s["toxicity"] for s in samples] == pytest.approx(
        get_judge("toxicity").scores([s["continuation"] for s in samples]))
    assert all("\n" not in s["continuation"] for s in samples)  # the continuation stops at its line


def test_mt_bench_context_use_and_per_turn_judge_scores(context):
    samples = run("mt_bench", context, n=2)
    sample = samples[0]
    lm = context.policy
    history = [{"role": "user", "content": sample["turn_1"]}, {"role": "assistant", "content": sample["answer_1"]},
               {"role": "user", "content": sample["turn_2"]}]
    full, alone = lm.loglikelihood([(lm.chat_prompt(history), sample["answer_2"]),
                                    (lm.chat_prompt(history[-1:]), sample["answer_2"])])
    assert sample["context_use"] == pytest.approx((full.logprob - alone.logprob) / full.n_tokens, abs=1e-5)
    judge = context.judge("test", kinds=("reward_model",))
    assert sample["judge_turn2"] == pytest.approx(judge.score([[*history, {"role": "assistant",
                                                                          "content": sample["answer_2"]}]])[0])


def test_reward_bench_scores_chosen_and_rejected(context):
    samples = run("reward_bench", context, n=4)
    judge = context.judge("test", kinds=("reward_model",))
    first = samples[0]
    chosen = judge.score([[*first["prompt"], {"role": "assistant", "content": first["chosen"]}]])[0]
    assert first["score_chosen"] == pytest.approx(chosen, abs=1e-5)
    assert first["correct"] == (first["score_chosen"] > first["score_rejected"])
    assert first["tie"] == (first["score_chosen"] == first["score_rejected"])


def test_winrate_against_itself_ties_everywhere(context):
    samples = run("winrate", context)  # baseline = the model: same greedy answers, same reward-model scores
    assert all(s["candidate"] == s["baseline"] and s["outcomes"] == [0.5, 0.5] for s in samples)
    result = build_suite("winrate").metrics(samples, Stats(n_resamples=50))
    assert result["win_rate"]["value"] == pytest.approx(0.5) and result["tie_rate"]["value"] == 1.0


def test_winrate_with_a_causal_lm_judge_judges_both_orders(context, tiny):
    from alignlab.eval.context import ModelRef

    lm_judged = dataclasses.replace(context, judge_ref=ModelRef(str(tiny.policy_dir)), _cache={})
    samples = run("winrate", lm_judged, n=2)
    assert all(s["judge_kind"] == "causal_lm" and len(s["verdicts"]) == 2 for s in samples)
    assert all(v in ("A>>B", "A>B", "A=B", "B>A", "B>>A", "invalid") for s in samples for v in s["verdicts"])
    assert isinstance(lm_judged.judge("test", kinds=("causal_lm",)), LMJudge)


def test_verdict_and_rating_parsing():
    assert parse_verdict("A is better. [[A]]") == "A"
    assert parse_verdict("[[A]] ... on reflection [[C]]") == "tie"
    assert parse_verdict("no verdict") == "invalid"
    assert parse_rating("Rating: [[7]]") == 7.0 and parse_rating("Rating: 7") is None


def test_every_suite_declares_what_it_is():
    for name in SUITES.names():
        cls = SUITES.get(name)
        assert cls.name == name and cls.sources and cls.category and cls.method
        assert all((eval_data_dir() / s.folder).is_dir() for s in cls.sources)
