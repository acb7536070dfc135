"""`alignlab eval run` and `alignlab report` as a user runs them, on a tiny model; bad input is one line."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from alignlab.models.tiny import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("cli_eval") / "nano", size="nano", seed=0)


def one_line_error(result) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_eval_run_writes_metrics_with_cis_and_samples_then_a_report(cli, tiny, tmp_path):
    out = tmp_path / "eval"
    result = cli("eval", "run", "--suite", "bbq,crows_pairs,xstest,winrate", "--model", str(tiny.policy_dir),
                 "--judge", str(tiny.reward_dir), "--baseline", str(tiny.policy_dir), "--out", str(out),
                 "--limit", "8", "generation.max_new_tokens=8", "eval.bootstrap_resamples=200", "run.threads=1")
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:4]] == ["bbq", "crows_pairs", "xstest",
                                                                               "winrate"]
    summary = json.loads((out / "summary.json").read_text())
    for suite in ("bbq", "crows_pairs", "xstest", "winrate"):
        headline = summary["suites"][suite]["metric_order"][0]
        metric = summary["suites"][suite]["metrics"][headline]
        assert metric["low"] <= metric["value"] <= metric["high"] and metric["confidence"] == 0.95
        assert len((out / suite / "samples.jsonl").read_text().splitlines()) == 8
    report = cli("report", str(out), "--out", str(tmp_path / "report.html"), "--out", str(tmp_path / "report.md"))
    assert report.returncode == 0, report.stderr
    assert "winrate" in (tmp_path / "report.html").read_text() and (tmp_path / "report.md").is_file()


def test_eval_list_names_every_suite(cli):
    result = cli("eval", "list")
    assert result.returncode == 0
    for suite in ("bbq", "crows_pairs", "stereoset", "xstest", "winrate", "reward_bench", "multijail"):
        assert suite in result.stdout


def test_bad_input_is_one_line(cli, tiny, tmp_path):
    line = one_line_error(cli("eval", "run", "--suite", "bbq,xtest", "--model", str(tiny.policy_dir)))
    assert "unknown eval suite 'xtest'. Did you mean 'xstest'?" in line and "Valid: acva, advbench" in line
    line = one_line_error(cli("eval", "run", "--suite", "reward_bench", "--judge", str(tiny.policy_dir),
                              "--out", str(tmp_path / "x")))
    assert "is a causal lm, but suite 'reward_bench' needs a reward model" in line
    line = one_line_error(cli("report", str(tmp_path), "--out", str(tmp_path / "r.html")))
    assert "no results here" in line
