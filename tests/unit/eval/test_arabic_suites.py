"""The Arabic suites' `run` on the tiny model: a few examples each, and every sample's numbers equal what the
scorer gives when called directly (random weights: numbers near chance)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.errors import DataError
from alignlab.eval.data import eval_data_dir, subsample
from alignlab.eval.stats import Stats
from alignlab.eval.suite import SUITES, build_suite, describe
from alignlab.eval.suites.arabic_dialects import PROMPTS, SENTIMENTS, prompt_for
from alignlab.eval.suites.camel import fillings


def run(name: str, context, n: int = 3, options: dict | None = None) -> list[dict]:
    suite = build_suite(name, options)
    examples = subsample(suite.load(eval_data_dir()), n, strata=suite.strata)
    samples = suite.run(examples, context)
    suite.metrics(samples, Stats(n_resamples=50))
    return samples


def test_arabic_suites_are_listed_with_their_sources():
    for name in ("arabic_dialects", "camel", "acva"):
        assert name in SUITES.names()
        info = describe(name)
        assert info["sources"] and all(s["license"] for s in info["sources"])
    assert "GPL-2.0" in describe("arabic_dialects")["sources"][1]["license"]


def test_arabic_dialects_scores_three_answers_per_tweet_and_shot_setting(context, capsys):
    samples = run("arabic_dialects", context, n=2, options={"shots": [0, 1]})
    assert "ASTD cross-check skipped" in capsys.readouterr().err
    assert [s["shots"] for s in samples] == [0, 0, 1, 1]
    prompt = prompt_for(samples[2]["text"], "ar", [{"text": "x", "sentiment": "POS"}])  # one labelled example
    assert prompt.endswith("المشاعر:") and f"المشاعر: {PROMPTS['ar']['answers']['POS']}" in prompt
    direct = context.policy.loglikelihood([(prompt_for(samples[0]["text"], "ar", []), f" {PROMPTS['ar']['answers'][s]}")
                                           for s in SENTIMENTS])
    assert list(samples[0]["logliks"].values()) == pytest.approx([r.logprob for r in direct], abs=1e-4)
    per_byte = {s: samples[0]["logliks"][s] / len(f" {PROMPTS['ar']['answers'][s]}".encode()) for s in SENTIMENTS}
    assert samples[0]["prediction"] == max(per_byte, key=per_byte.get)  # the default score: per byte
    assert samples[0]["correct"] == (samples[0]["prediction"] == samples[0]["label"])


def test_arabic_dialects_reads_astd_from_a_user_path(tmp_path, context):
    tweets = tmp_path / "Tweets.txt"
    tweets.write_text("حلو اوي الفيلم ده\tPOS\nوحش جدا\tNEG\nمش عارف\tNEUTRAL\nخبر\tOBJ\n", encoding="utf-8")
    suite = build_suite("arabic_dialects", {"astd_path": str(tweets), "astd_per_class": 1})
    astd = [e for e in suite.load(eval_data_dir()) if e["source"] == "astd"]
    assert sorted(e["sentiment"] for e in astd) == ["NEG", "NEU", "POS"]
    assert {e["dialect"] for e in astd} == {"egypt_astd"}
    with pytest.raises(DataError, match="astd_path"):
        build_suite("arabic_dialects", {"astd_path": str(tmp_path / "missing.txt")}).load(eval_data_dir())


def test_camel_compares_arab_and_western_fillings(context):
    samples = run("camel", context, n=2, options={"entities_per_culture": 2})
    sample = samples[0]
    entity, logprob = next(iter(sample["western"].items()))
    direct = context.policy.loglikelihood([fillings(sample["prompt"], entity)])[0].logprob
    assert logprob == pytest.approx(direct, abs=1e-4)
    assert 0.0 <= sample["western_preference"] <= 1.0 and len(sample["arab"]) == 2


def test_acva_predicts_the_likelier_answer(context):
    samples = run("acva", context, n=3)
    for s in samples:
        assert s["predicted_yes"] == (s["loglik_yes"] / len(" نعم".encode()) > s["loglik_no"] / len(" لا".encode()))
        assert s["correct"] == (s["predicted_yes"] == s["label"])


def test_dialect_safety_asks_each_request_in_each_language(context):
    from alignlab.eval.judges import get_judge

    samples = run("dialect_safety", context, n=2, options={"languages": ["en", "egy"], "judge": "string_match"})
    assert [s["language"] for s in samples] == ["en", "en", "egy", "egy"]
    assert {s["pair_id"] for s in samples[:2]} == {s["pair_id"] for s in samples[2:]}
    verdicts = get_judge("string_match").judge([s["prompt"] for s in samples], [s["response"] for s in samples])
    assert [s["unsafe"] for s in samples] == [v.label == "full_compliance" for v in verdicts]
    metrics = build_suite("dialect_safety").metrics(samples, Stats(n_resamples=50))
    assert "unsafe_gap/egy_minus_en" in metrics and metrics["judge/accuracy"]["judge"] == "string_match"


def test_dialect_safety_renderings_keep_their_english_source_verbatim():
    import csv

    rows = build_suite("dialect_safety").load(eval_data_dir())
    assert len(rows) == 40 and len({r["source_id"] for r in rows}) == 40
    sst = {r["id"]: r["prompts_final"].strip() for r in csv.DictReader(
        (eval_data_dir() / "simple_safety_tests/simple_safety_tests.csv").open(encoding="utf-8"))}
    advbench = (eval_data_dir() / "advbench/harmful_behaviors.csv").open(encoding="utf-8")
    adv = {f"advbench-{n}": r["goal"] for n, r in enumerate(csv.DictReader(advbench))}
    for r in rows:
        expected = sst[r["source_id"]] if r["source"] == "simple_safety_tests" else adv[r["source_id"]]
        assert r["en"] == expected
        assert len({r["msa"], r["egy"], r["lev"]}) == 3  # three distinct renderings


def test_arabic_toxicity_judges_the_continuation(context):
    from alignlab.eval.judges import get_judge

    judge = get_judge("toxicity")
    samples = run("arabic_toxicity", context, n=2)
    verdicts = judge.judge([s["prompt"] for s in samples], [s["continuation"] for s in samples])
    assert [s["toxicity"] for s in samples] == pytest.approx([v.score for v in verdicts])
    assert all("\n" not in s["continuation"] for s in samples)


@pytest.mark.slow
def test_arabic_config_runs_the_suites_together_and_the_report_has_the_section(tiny, tmp_path):
    from alignlab.eval.runner import evaluate
    from alignlab.report import build_report

    suites = ["arabic_dialects", "dialect_safety", "camel", "acva", "arabic_toxicity"]
    overrides = ["generation.max_new_tokens=4", "eval.bootstrap_resamples=50", "eval.options.arabic_dialects.shots=[0]"]
    config = Path(__file__).resolve().parents[3] / "configs" / "eval" / "arabic.yaml"
    result = evaluate(str(tiny.policy_dir), suites, config=config, overrides=overrides, limit=4,
                      out=tmp_path / "eval-arabic")
    assert set(result.metrics) == set(suites)
    assert result["arabic_dialects"]["largest_dialect_gap"]["n"] > 0
    assert "unsafe_rate/egy" in result["dialect_safety"] and "judge/accuracy" in result["dialect_safety"]
    assert any(name.startswith("judge/auroc") for name in result["arabic_toxicity"])  # the judge's Arabic AUROC
    (markdown,) = build_report([result.out_dir], [tmp_path / "report.md"])
    assert "## Languages and dialects" in markdown.read_text(encoding="utf-8")
