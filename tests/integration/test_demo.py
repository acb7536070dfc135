"""`alignlab demo`: runs end to end on defaults, says where its output is, resumes and skips when finished."""

from __future__ import annotations

import json

from alignlab.config import load_config
from alignlab.config.schemas import DemoConfig
from tests.conftest import ROOT


def test_shipped_demo_yaml_is_the_builtin_default():
    assert load_config(ROOT / "configs" / "demo.yaml", DemoConfig) == DemoConfig()


def test_demo_end_to_end_skips_when_finished_and_resumes(cli, tmp_path):
    result = cli("demo", f"run.output_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "demo"
    assert f"run directory: {run_dir}" in result.stdout
    assert f"policy model: {run_dir / 'models' / 'tiny' / 'policy'}" in result.stdout
    assert f"reward model: {run_dir / 'models' / 'tiny' / 'reward'}" in result.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    assert (run_dir / "models" / "tiny" / "policy" / "model.safetensors").is_file()
    assert (run_dir / "models" / "tiny" / "reward" / "model.safetensors").is_file()
    assert (run_dir / "audit" / "audit.html").is_file()
    audit = json.loads((run_dir / "audit" / "audit.json").read_text())
    assert audit["length_bias"] == summary["audit"]["length_bias"]
    assert summary["validate"]["rows"] > 2000
    stages = [json.loads(line)["stage"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert stages == ["tiny_model", "validate", "audit"]

    again = cli("demo", f"run.output_dir={tmp_path}")
    assert again.returncode == 0, again.stderr
    assert "already finished" in again.stdout

    # as if the run had stopped before finishing: built models are reused, not rebuilt
    weights = run_dir / "models" / "tiny" / "policy" / "model.safetensors"
    built_at = weights.stat().st_mtime_ns
    (run_dir / "summary.json").unlink()
    resumed = cli("demo", f"run.output_dir={tmp_path}")
    assert resumed.returncode == 0, resumed.stderr
    assert weights.stat().st_mtime_ns == built_at
    assert (run_dir / "summary.json").is_file()


def test_demo_bad_override_is_one_line_and_creates_nothing(cli, tmp_path):
    result = cli("demo", f"run.output_dir={tmp_path}", "tiny_model.size=huge")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "tiny_model.size" in result.stderr and "'nano'" in result.stderr
    assert not (tmp_path / "demo").exists()
