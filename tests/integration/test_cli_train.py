"""`alignlab train dpo|kto` as a user runs it: a SIGKILL mid-run and the same command again finishes with the
same final metrics as an uninterrupted run; bad input is one line on stderr with nothing written."""

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

CONFIG = """\
run: {{name: {name}, output_dir: {out}, seed: 0, threads: 1}}
model: {{name_or_path: {policy}}}
data: {{path: "synthetic:sentiment?n=320&seed=0&chat=1", test_size: 0.25, max_length: 96}}
train: {{lr: 1.0e-3, batch_size: 8, max_steps: 30, logging_steps: 5, save_steps: 10}}
reference: {{cache_dir: {out}/refcache}}
tiny_policy: {{size: nano, sft_steps: 10}}
"""
# Values that depend on wall time, not on the training.
# Wall-clock measures, different on every run: throughput and the utilisation figures derived from it.
_TIMING = ("runtime", "samples_per_second", "steps_per_second", "time", "flops_per_s", "peak_flops_per_s",
           "share_of_peak")


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(CONFIG.format(name=name, out=tmp_path / "runs", policy=tmp_path / "policy"))
    return path


def _final(run_dir: Path) -> dict[str, float]:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {f"{part}/{key}": value for part in ("train", "eval") for key, value in summary[part].items()
            if isinstance(value, float) and key not in _TIMING}


def _start(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from alignlab.cli import main; main()", "train", "dpo", "--config", str(config)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def test_sigkill_mid_run_then_the_same_command_finishes_like_an_uninterrupted_run(tmp_path, cli):
    straight = cli("train", "dpo", "--config", str(_write(tmp_path, "straight")))
    assert straight.returncode == 0, straight.stderr
    assert "held-out reward accuracy" in straight.stdout
    expected = _final(tmp_path / "runs" / "straight")

    config = _write(tmp_path, "killed")
    run_dir = tmp_path / "runs" / "killed"
    process = _start(config)
    deadline = time.monotonic() + 300
    while not (run_dir / "checkpoints" / "step_10" / "trainer_state.json").is_file():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (run_dir / "summary.json").exists()

    resumed = cli("train", "dpo", "--config", str(config))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    got = _final(run_dir)
    assert got.keys() == expected.keys() and "eval/rewards/accuracies" in got
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-5), key
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps == sorted(set(steps)) == [5, 10, 15, 20, 25, 30]  # no step logged twice

    again = cli("train", "dpo", "--config", str(config))  # a finished run is not redone
    assert again.returncode == 0 and "already finished" in again.stdout


def test_unpaired_data_to_dpo_is_one_line_and_writes_nothing(tmp_path, cli):
    data = tmp_path / "thumbs.jsonl"
    data.write_text(json.dumps({"prompt": "p", "completion": "c", "label": True}) + "\n")
    config = _write(tmp_path, "bad")
    result = cli("train", "dpo", "--config", str(config), f"data.path={data}")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {data}: holds unpaired rows")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "policy").exists()


def test_bad_kto_config_is_one_line(tmp_path, cli):
    config = tmp_path / "kto.yaml"
    config.write_text("model: {name_or_path: x}\ndata: {path: p.jsonl}\ntrain: {batch_size: 1}\n")
    result = cli("train", "kto", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {config}: (top level): train.batch_size 1: KTO estimates")
    assert result.stderr.strip().count("\n") == 0
