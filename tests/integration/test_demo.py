"""`alignlab demo`: the lifecycle pipeline on embedded defaults. The full demo takes minutes (see the README
for its numbers); here a reduced config runs through the same code: every stage, both rounds, one report."""

from __future__ import annotations

import json
from pathlib import Path

from alignlab.config import load_config
from alignlab.config.pipeline import PipelineConfig
from alignlab.config.schemas import DemoConfig
from alignlab.demo import demo_pipeline
from alignlab.pipeline import build_graph
from tests.conftest import ROOT

REDUCED = ["sizes.pretrain_steps=6", "sizes.sft_steps=6", "sizes.sft_examples=100", "sizes.pool=32",
           "sizes.batch=24", "sizes.rm_epochs=1", "sizes.dpo_epochs=1", "sizes.heldout_prompts=10",
           "sizes.eval_limit=2", "tiny_model.vocab_size=512", "tiny_model.max_position_embeddings=256"]


def test_shipped_demo_yaml_is_the_builtin_default():
    assert load_config(ROOT / "configs" / "demo.yaml", DemoConfig) == DemoConfig()


def test_pipelines_demo_yaml_is_the_demo_pipeline():
    shipped = load_config(ROOT / "configs" / "pipelines" / "demo.yaml", PipelineConfig)
    assert shipped == demo_pipeline(DemoConfig())
    keys = [node.key for node in build_graph(shipped).order]
    assert keys[:2] == ["pretrain", "sft"] and keys[-1] == "report"
    assert {"generate@r2", "annotate@r2", "rm@r2", "dpo@r2", "eval@r2"} <= set(keys)


def test_reduced_demo_end_to_end_prints_report_with_both_rounds(cli, tmp_path):
    result = cli("demo", f"run.output_dir={tmp_path}", *REDUCED)
    assert result.returncode == 0, result.stderr[-3000:]
    root = tmp_path / "demo"
    assert f"pipeline folder: {root}" in result.stdout
    report = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert report.is_file() and report.suffix == ".html" and root in report.parents
    summary = json.loads((root / "summary.json").read_text())
    kinds = [stage["kind"] for stage in summary["stages"]]
    assert kinds[:2] == ["pretrain", "sft"] and kinds.count("dpo") == 2 and kinds.count("annotate") == 2
    page = report.read_text()
    assert page.count("<tr><td>1</td>") == 1 and page.count("<tr><td>2</td>") == 1
    assert "held-out prompts judged by the hidden rule" in page
    assert "bbq" in page and "xstest" in page  # the standard bundle, sub-sampled, for the policy and SFT
    # generation quality beside the win rate, per round, with the baseline's; samples side by side
    assert "Generation quality beside the win rate" in page and page.count("(round ") >= 2
    assert "reference perplexity" in page and "sampled KL" in page and "agreement ceiling" in page
    assert "Side-by-side samples" in page
    assert isinstance(summary["guard"], list)  # what the degeneration guard did (flag: nothing changes)
    evals = [s for s in summary["stages"] if s["kind"] == "eval" and s["round"]]
    for stage in evals:
        quality = stage["metrics"]["rule"]["quality"]
        assert {"distinct_2", "repeated_2gram_rate", "reference_perplexity", "sampled_kl"} <= set(quality)
        assert quality["distinct_2"]["low"] <= quality["distinct_2"]["value"] <= quality["distinct_2"]["high"]
    for line in ("eval@r1: rule win rate vs baseline", "eval@r2: rule win rate vs baseline"):
        assert line in result.stdout

    again = cli("demo", f"run.output_dir={tmp_path}", *REDUCED)  # finished: every stage reused
    assert again.returncode == 0 and again.stdout.count("finished earlier, reused") == len(kinds)


def test_demo_bad_override_is_one_line_and_creates_nothing(cli, tmp_path):
    result = cli("demo", f"run.output_dir={tmp_path}", "tiny_model.size=huge")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "tiny_model.size" in result.stderr and "'nano'" in result.stderr
    assert not (tmp_path / "demo").exists()
