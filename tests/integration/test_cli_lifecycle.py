"""`alignlab train pretrain | cpt | sft | external` as a user runs them: a SIGKILL mid-run and the same command
again resumes and finishes; bad input is one line on stderr, a non-zero exit and nothing written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PRETRAIN = """\
run: {{name: {name}, output_dir: {out}, seed: 0, threads: 1}}
model: {{tiny: {{size: nano, vocab_size: 1024, max_position_embeddings: 256}}}}
data: {{block_size: {block}, max_tokens: 30000, test_size: 0.1}}
train: {{lr: 3.0e-3, batch_size: 16, max_steps: 30, logging_steps: 5, save_steps: 10}}
"""


def _write(tmp_path: Path, name: str, block: int = 64) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(PRETRAIN.format(name=name, out=tmp_path / "runs", block=block))
    return path


def test_sigkill_mid_pretrain_then_the_same_command_resumes_and_sft_follows(tmp_path, cli):
    config = _write(tmp_path, "pre")
    run_dir = tmp_path / "runs" / "pre"
    process = subprocess.Popen(
        [sys.executable, "-c", "from alignlab.cli import main; main()", "train", "pretrain", "--config", str(config)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.monotonic() + 300
    while not (run_dir / "checkpoints" / "step_10" / "trainer_state.json").is_file():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run_dir / "summary.json").exists()

    resumed = cli("train", "pretrain", "--config", str(config))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout and "held-out loss" in resumed.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["steps"] == 30 and summary["eval"]["loss"] < summary["eval_before"]["loss"]
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps == [5, 10, 15, 20, 25, 30]  # no step logged twice

    again = cli("train", "pretrain", "--config", str(config))
    assert again.returncode == 0 and "already finished" in again.stdout

    sft = cli("train", "sft", "--config", str(ROOT / "configs/sft/tiny.yaml"), f"model.name_or_path={summary['model']}",
              f"run.output_dir={tmp_path / 'runs'}", "train.max_steps=6", "train.save_steps=6", "data.max_length=96")
    assert sft.returncode == 0, sft.stderr
    sft_summary = json.loads((tmp_path / "runs" / "sft_tiny" / "summary.json").read_text())
    assert sft_summary["loss_on"] == "assistant" and Path(sft_summary["model"], "model.safetensors").is_file()


@pytest.mark.parametrize(("kind", "overrides", "expected"), [
    ("pretrain", ["data.paths=[missing.txt]"], "missing.txt: file not found (data.paths)"),
    ("pretrain", ["data.block_size=512"], "data.block_size 512 is larger than the context"),
    ("sft", ["model.name_or_path=no/such/model-dir", "data.path=synthetic:keyword?n=10"], "no/such/model-dir"),
    ("external", ["command=[no-such-program-here]"], "not found on PATH"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, cli, kind, overrides, expected):
    config = _write(tmp_path, "bad") if kind == "pretrain" else ROOT / f"configs/{kind}/tiny.yaml"
    result = cli("train", kind, "--config", str(config), f"run.output_dir={tmp_path / 'runs'}", *overrides)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_failing_external_command_reports_its_exit_code_and_log_tail(tmp_path, cli):
    command = '[python3, -c, "import sys; print(\'step 1\'); print(\'boom: bad flag\'); sys.exit(7)"]'
    result = cli("train", "external", "--config", str(ROOT / "configs/external/tiny.yaml"),
                 f"run.output_dir={tmp_path / 'runs'}", f"command={command}")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "exit code 7" in lines[0] and "boom: bad flag" in lines[0], result.stderr
    assert (tmp_path / "runs" / "external_tiny" / "external.log").is_file()
