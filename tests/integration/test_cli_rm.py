"""`alignlab rm train / eval / score` through the real CLI: the shipped tiny config trains (shortened), eval
prints accuracy with a CI, calibration and length bias, score adds rewards, and bad input is one line."""

from __future__ import annotations

import json

import pytest

CONFIG = "configs/rm/tiny_bt.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from tests.conftest import run_cli

    tmp = tmp_path_factory.mktemp("rm_cli")
    model_dir = tmp / "models" / "tiny_bt"
    result = run_cli("rm", "train", "--config", CONFIG, f"run.output_dir={tmp / 'runs'}",
                     f"rm.output_dir={model_dir}", "data.path=synthetic:keyword?n=300&seed=0&chat=1",
                     "train.max_steps=25", "train.batch_size=8", "rm.example_weight=none")
    return tmp, model_dir, result


def test_train_prints_held_out_metrics_and_writes_the_model(trained):
    tmp, model_dir, result = trained
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "95% CI" in result.stdout and f"model: {model_dir}" in result.stdout
    summary = json.loads((tmp / "runs" / "tiny_bt" / "summary.json").read_text())
    assert summary["eval"]["accuracy"] >= 0.75
    assert (tmp / "runs" / "_tiny" / "nano-seed0" / "policy" / "config.json").is_file()  # tiny:nano built once


def test_eval_and_score(trained, cli, tmp_path):
    _, model_dir, _ = trained
    result = cli("rm", "eval", "--model", str(model_dir), "--data", "synthetic:keyword?n=60&seed=9&chat=1",
                 "--out", str(tmp_path / "metrics.json"))
    assert result.returncode == 0, result.stderr
    for text in ("pairs 60", "95% CI", "calibration: ECE", "Brier", "length bias:", "by category"):
        assert text in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["pairs"] == 60 and len(metrics["calibration"]["bins"]) == 10

    rows = [{"prompt": "Tell me a story.", "response": "Tom saw the dog please."},
            {"prompt": [{"role": "user", "content": "Hi"}], "chosen": "Mia had a cake please.", "rejected": "No."},
            {"prompt": "Tell me a story.", "responses": ["No.", "Tom saw the dog please.", "Mia had a cake."]},
            {"prompt": "Tell me a story.", "response": "Mia had a cake."}]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = cli("rm", "score", "--model", str(model_dir), "--data", str(data), "--out", str(tmp_path / "out.jsonl"))
    assert result.returncode == 0, result.stderr
    scored = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert isinstance(scored[0]["reward"], float)
    assert {"reward_chosen", "reward_rejected"} <= set(scored[1]) and scored[1]["prompt"] == rows[1]["prompt"]
    # a list of responses: one reward each, in order, equal to scoring each response on its own row
    assert scored[2]["responses"] == rows[2]["responses"] and len(scored[2]["rewards"]) == 3
    assert scored[2]["rewards"][1] == pytest.approx(scored[0]["reward"], abs=1e-5)
    assert scored[2]["rewards"][2] == pytest.approx(scored[3]["reward"], abs=1e-5)

    data.write_text(json.dumps({"prompt": "p", "responses": []}) + "\n")
    line = one_line_error(cli("rm", "score", "--model", str(model_dir), "--data", str(data), "--out",
                              str(tmp_path / "bad.jsonl")))
    assert line == f"error: {data}:1: responses: expected a non-empty list of strings, got []"
    assert not (tmp_path / "bad.jsonl").exists()


def one_line_error(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_bad_input_is_one_line(trained, cli, tmp_path):
    ratings = tmp_path / "ratings.jsonl"
    ratings.write_text(json.dumps({"prompt": "p", "response": "r", "ratings": {"helpfulness": 7}}) + "\n")
    line = one_line_error(cli("rm", "train", "--config", "configs/rm/tiny_multiattr.yaml", f"data.path={ratings}",
                              f"run.output_dir={tmp_path}", "rm.attributes=[helpfulness]",
                              "rm.attribute_weights={}"))
    assert line == (f"error: {ratings}:1: ratings.helpfulness: rating 7 is outside data.scale 0..4; set data.scale "
                    "to the scale of this data (e.g. data.scale=[1,10])")
    assert not (tmp_path / "tiny_multiattr").exists()  # nothing is created for a run that cannot start

    line = one_line_error(cli("rm", "train", "--config", CONFIG, "rm.typo=1"))
    assert line.startswith("error: override 'rm.typo=1': rm.typo: unknown key; did you mean 'type'? "
                           "(valid keys here: type,")

    line = one_line_error(cli("rm", "eval", "--model", "preference_data", "--data", "x.jsonl"))
    assert line == "error: preference_data: no config.json here (not a transformers model folder)"

    policy = trained[0] / "runs" / "_tiny" / "nano-seed0" / "policy"  # a causal LM: no trained reward head
    line = one_line_error(cli("rm", "score", "--model", str(policy), "--data", "x.jsonl", "--out", "y.jsonl"))
    assert "not a sequence classifier (LlamaForCausalLM)" in line

