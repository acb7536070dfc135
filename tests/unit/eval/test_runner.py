"""`alignlab.evaluate`: the eval folder, traceability to samples.jsonl, resume, and one-line bad-input errors."""

from __future__ import annotations

import json
import shutil

import pytest

from alignlab.errors import ConfigError, ModelLoadError, RunError
from alignlab.eval.context import MissingInputError
from alignlab.eval.runner import build_config, evaluate
from alignlab.eval.stats import Stats
from alignlab.eval.suite import build_suite

FAST = ["eval.bootstrap_resamples=100", "generation.max_new_tokens=4", "eval.batch_size=8"]


@pytest.fixture(scope="module")
def evaluated(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "tiny-eval"
    lines: list[str] = []
    result = evaluate(str(tiny.policy_dir), "bbq,xstest", out=out, limit=6, overrides=FAST, progress=lines.append)
    return out, result, lines


def test_folder_layout_and_summary(evaluated):
    out, result, lines = evaluated
    assert {p.name for p in out.iterdir()} == {"config.yaml", "env.json", "summary.json", "bbq", "xstest"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "alignlab eval" and summary["suite_order"] == ["bbq", "xstest"]
    assert summary["suites"]["bbq"]["metrics"] == result["bbq"]
    info = json.loads((out / "bbq" / "metrics.json").read_text())
    assert info["examples"] == {"available": 600, "evaluated": 6, "limit": 6, "seed": 0}
    assert info["data"][0]["file"] == "eval_data/bbq/bbq_subset.jsonl" and len(info["data"][0]["sha256"]) == 64
    assert info["metric_order"][0] == "accuracy" and lines[0].startswith("bbq: 6 examples")


@pytest.mark.parametrize("suite", ["bbq", "xstest"])
def test_every_number_is_recomputed_from_samples_jsonl(evaluated, suite):
    out, result, _ = evaluated
    samples = [json.loads(line) for line in (out / suite / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 6
    assert build_suite(suite).metrics(samples, Stats(n_resamples=100)) == result[suite]


def test_rerun_reads_finished_suites_and_a_changed_config_is_refused(evaluated, tiny):
    out, result, _ = evaluated
    lines: list[str] = []
    again = evaluate(str(tiny.policy_dir), "bbq,xstest", out=out, limit=6, overrides=FAST, progress=lines.append)
    assert again.metrics == result.metrics and all("finished earlier" in line for line in lines)
    with pytest.raises(RunError, match="different config"):
        evaluate(str(tiny.policy_dir), "bbq,xstest", out=out, limit=7, overrides=FAST)


def test_missing_inputs_fail_before_any_folder_is_written(tiny, tmp_path):
    with pytest.raises(MissingInputError, match="--baseline PATH"):
        evaluate(str(tiny.policy_dir), "bbq,winrate", judge=str(tiny.reward_dir), out=tmp_path / "a")
    with pytest.raises(MissingInputError, match="needs a judge"):
        evaluate(None, "reward_bench", out=tmp_path / "b")
    with pytest.raises(MissingInputError, match="is a causal lm, but suite 'reward_bench' needs a reward model"):
        evaluate(None, "reward_bench", judge=str(tiny.policy_dir), out=tmp_path / "c")
    with pytest.raises(MissingInputError, match="pass --model PATH"):
        evaluate(None, "bbq", out=tmp_path / "d")
    assert not any(tmp_path.iterdir())


def test_a_model_without_a_chat_template_is_refused_only_where_one_is_needed(tiny, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(tiny.policy_dir, plain)
    (plain / "chat_template.jinja").unlink()
    with pytest.raises(ModelLoadError, match="no chat template, and suite 'xstest'") as err:
        evaluate(str(plain), "bbq,xstest", out=tmp_path / "out", limit=2, overrides=FAST)
    assert "generation.chat_template=auto" in str(err.value) and "\n" not in str(err.value)
    result = evaluate(str(plain), "xstest", out=tmp_path / "out2", limit=2,
                      overrides=[*FAST, "generation.chat_template=auto"])
    assert result["xstest"]["refusal_rate_unsafe"]["n"] == 1


def test_a_model_folder_without_tokenizer_is_one_line(tiny, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny.policy_dir / name, bare / name)
    with pytest.raises(ModelLoadError, match="no tokenizer files here"):
        evaluate(str(bare), "xstest", out=tmp_path / "out")


def test_config_errors_name_the_flag_or_the_file_line(tmp_path):
    with pytest.raises(ConfigError, match=r"--suite bqq: eval.suites: unknown eval suite 'bqq'. Did you mean 'bbq'"):
        build_config(suites="bqq")
    bad = tmp_path / "eval.yaml"
    bad.write_text("eval:\n  suites: [bbq]\n  options:\n    winrate:\n      tie_margn: 0.1\n")
    with pytest.raises(ConfigError, match=r"eval.yaml:3: eval.options: .*options.winrate.tie_margn"):
        build_config(bad)
    with pytest.raises(ConfigError, match="unknown rollout engine 'vlm'"):
        build_config(overrides=["generation.engine=vlm"])
