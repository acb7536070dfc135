"""The external backend with real subprocesses: placeholders, the checkpoint it picks up, the log it keeps, and
the one-line error of a failing command."""

from __future__ import annotations

import json
import sys

import pytest

from alignlab.algorithms.external import run_external
from alignlab.backends.lifecycle.external import build_argv, find_checkpoint
from alignlab.config.lifecycle import ExternalConfig
from alignlab.errors import ConfigError, RunError

# A stand-in for another framework's trainer: writes two checkpoints, then a final model folder.
WRITER = """
import json, os, sys, time
out = sys.argv[1]
for name in ("checkpoint-5", "checkpoint-10", "final"):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    with open(os.path.join(out, name, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "saved": name}, f)
    time.sleep(0.02)
state = {"log_history": [{"loss": 2.5, "step": 10}, {"eval_loss": 2.0, "step": 10}]}
json.dump(state, open(os.path.join(out, "checkpoint-10", "trainer_state.json"), "w"))
print("trained 10 steps", flush=True)
"""
FAILING = "import sys\nfor i in range(30): print('line', i)\nprint('CUDA out of memory', file=sys.stderr)\nsys.exit(3)"


def _config(tmp_path, command, **extra) -> ExternalConfig:
    return ExternalConfig.model_validate({"run": {"name": "ext", "output_dir": str(tmp_path / "runs")},
                                          "command": command, **extra})


def test_the_newest_checkpoint_is_picked_up_and_the_log_is_kept(tmp_path):
    run = run_external(_config(tmp_path, ["{python}", "-c", WRITER, "{output_dir}"]), echo=lambda _: None)
    summary = run.summary()
    out = tmp_path / "runs" / "ext" / "output"
    assert summary["model"] == str(out / "final")
    assert summary["exit_code"] == 0 and summary["eval"]["loss"] == 2.0 and summary["train"]["loss"] == 2.5
    assert "trained 10 steps" in (run.dir / "external.log").read_text()
    glob_run = run_external(_config(tmp_path, ["{python}", "-c", WRITER, "{output_dir}"], checkpoint="checkpoint-*",
                                    run={"name": "glob", "output_dir": str(tmp_path / "runs")}), echo=lambda _: None)
    assert glob_run.summary()["model"].endswith("checkpoint-10")


def test_a_failing_command_is_one_line_with_its_exit_code_and_log_tail(tmp_path):
    with pytest.raises(RunError) as caught:
        run_external(_config(tmp_path, ["{python}", "-c", FAILING]), echo=lambda _: None)
    message = str(caught.value)
    assert "\n" not in message
    assert "exit code 3" in message and "external.log" in message
    assert "CUDA out of memory" in message and "line 29" in message and "line 0 " not in message
    log = (tmp_path / "runs" / "ext" / "external.log").read_text()
    assert "line 0\n" in log and "CUDA out of memory" in log
    assert not (tmp_path / "runs" / "ext" / "summary.json").exists()


def test_a_command_that_writes_no_checkpoint_is_an_error(tmp_path):
    with pytest.raises(RunError, match="wrote no checkpoint"):
        run_external(_config(tmp_path, "{python} -c 'print(1)'"), echo=lambda _: None)


def test_a_command_past_its_timeout_is_stopped(tmp_path):
    with pytest.raises(RunError, match="stopped after timeout_s=1"):
        run_external(_config(tmp_path, ["{python}", "-c", "import time; print('x', flush=True); time.sleep(60)"],
                             timeout_s=1), echo=lambda _: None)


def test_placeholders_and_bad_commands(tmp_path):
    config = _config(tmp_path, "train --model {model} --data '{data}' --out {output_dir} --x '{\"a\": 1}'",
                     model="m", data="my data.jsonl")
    argv = build_argv(config)
    assert argv[:5] == ["train", "--model", "m", "--data", "my data.jsonl"]
    assert argv[6].endswith("runs/ext/output") and argv[-1] == '{"a": 1}'
    assert build_argv(_config(tmp_path, ["{python}"]))[0] == sys.executable
    with pytest.raises(ConfigError, match=r"unknown placeholder \{outdir\} \(did you mean \{output_dir\}\?\)"):
        build_argv(_config(tmp_path, ["x", "{outdir}"]))
    with pytest.raises(ConfigError, match=r"uses \{model\} but model is not set"):
        build_argv(_config(tmp_path, ["x", "{model}"]))
    with pytest.raises(ConfigError, match="not found on PATH"):
        run_external(_config(tmp_path, ["no-such-program-here", "x"]))
    assert not (tmp_path / "runs" / "ext").exists()
    with pytest.raises(Exception, match="command is empty"):
        _config(tmp_path, [])


def test_find_checkpoint_ignores_hidden_temp_folders(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "config.json").write_text(json.dumps({}))
    (tmp_path / ".b.tmp").mkdir()
    (tmp_path / ".b.tmp" / "config.json").write_text(json.dumps({}))
    assert find_checkpoint(tmp_path) == tmp_path / "a"
    assert find_checkpoint(tmp_path / "missing") is None
