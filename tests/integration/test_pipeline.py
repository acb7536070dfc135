"""`alignlab pipeline run` end to end: a tiny two-round pipeline through the CLI, killed mid-stage with SIGKILL
and resumed without redoing finished stages, and a failing external stage reported in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

TINY = """
run: {{name: tiny, output_dir: {out}, seed: 0, threads: 1}}
rounds: 2
rule: sentiment
stages:
  - name: pretrain
    kind: pretrain
    config:
      model: {{tiny: {{size: nano, vocab_size: 512, max_position_embeddings: 256}}}}
      data: {{block_size: 64, max_tokens: 20000}}
      train: {{lr: 2.0e-3, batch_size: 16, max_steps: 8, logging_steps: 4, save_steps: 8}}
  - name: sft
    kind: sft
    inputs: {{model: pretrain}}
    config:
      data: {{path: "synthetic:sentiment?n=120&seed=0", max_length: 96}}
      train: {{lr: 1.0e-3, batch_size: 16, max_steps: 8, logging_steps: 4, save_steps: 8}}
  - name: generate
    kind: generate
    inputs: {{policy: [dpo@previous, sft], selector: rm@previous}}
    config: {{pool: 40, batch: 28, max_new_tokens: 20}}
  - name: annotate
    kind: annotate
    inputs: {{candidates: generate, previous: annotate@previous}}
    config: {{annotators: 3, noise: 0.1}}
  - name: rm
    kind: rm
    inputs: {{data: annotate, model: pretrain}}
    config:
      data: {{test_size: 0.2, max_length: 96}}
      train: {{lr: 1.0e-3, batch_size: 8, logging_steps: 2, save_steps: 2}}
      rm: {{type: ensemble, ensemble_size: 2}}
  - name: dpo
    kind: dpo
    inputs: {{policy: sft, data: annotate}}
    config:
      data: {{test_size: 0.2, max_length: 96}}
      train: {{lr: 5.0e-4, batch_size: 4, logging_steps: 2, save_steps: 2}}
  - name: eval
    kind: eval
    inputs: {{model: dpo, baseline: sft, judge: rm}}
    config: {{rule_winrate: {{prompts: 12, samples: 1, max_new_tokens: 20}}}}
  - name: report
    kind: report
    inputs: {{evals: eval, annotations: annotate, reward_models: rm}}
"""


def _records(root: Path) -> dict[str, dict]:
    out = {}
    for path in (root / "stages").glob("*/stage.json"):
        record = json.loads(path.read_text())
        out[record["key"]] = record | {"mtime": path.stat().st_mtime_ns}
    return out


def test_tiny_two_round_pipeline_killed_mid_stage_resumes(cli, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.format(out=tmp_path / "runs"))
    root = tmp_path / "runs" / "tiny"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen([sys.executable, "-c", "from alignlab.cli import main; main()", "pipeline", "run",
                                "--config", str(config)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:  # kill it while round 1's reward model trains: its folder exists and has no stage.json yet
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            running = [p for p in (root / "stages").glob("rm-r1-*") if not (p / "stage.json").exists()]
            if running and any(running[0].rglob("*.json")):
                break
            time.sleep(0.2)
        assert process.poll() is None, "the pipeline ended before the kill"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    before = _records(root)
    assert set(before) == {"pretrain", "sft", "generate@r1", "annotate@r1"}

    result = cli("pipeline", "run", "--config", str(config))
    assert result.returncode == 0, result.stderr[-2000:]
    after = _records(root)
    for key, record in before.items():  # finished stages were reused, not redone
        assert f"[{key}] finished earlier, reused" in result.stdout
        assert after[key]["mtime"] == record["mtime"] and after[key]["hash"] == record["hash"]
    assert "[rm@r1] resuming rm" in result.stdout
    assert set(after) == {"pretrain", "sft", "report", *(f"{s}@r{r}" for s in ("generate", "annotate", "rm", "dpo",
                                                                             "eval") for r in (1, 2))}
    # data accumulates; round 2's batch was chosen by the round-1 ensemble's spread
    assert after["annotate@r2"]["metrics"]["total_pairs"] == (after["annotate@r1"]["metrics"]["new_pairs"]
                                                              + after["annotate@r2"]["metrics"]["new_pairs"])
    assert after["generate@r1"]["metrics"]["strategy"] == "random"
    assert after["generate@r2"]["metrics"]["strategy"] == "uncertainty"
    win = after["eval@r2"]["metrics"]["rule"]["win_rate"]
    assert 0.0 <= win["low"] <= win["value"] <= win["high"] <= 1.0
    report = Path(after["report"]["outputs"]["report"])
    page = report.read_text()
    assert f"report: {report}" in result.stdout
    assert page.count("<tr><td>1</td>") == 1 and page.count("<tr><td>2</td>") == 1  # both rounds side by side
    assert "rule win rate vs baseline" in page and "<script" not in page
    assert f"{100 * win['value']:.1f}%" in page  # round 2's win rate, in its row and the headline
    assert "held-out prompts judged by the hidden rule" in page
    summary = json.loads((root / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["report"] == str(report)

    again = cli("pipeline", "run", "--config", str(config))  # everything finished: all reused
    assert again.returncode == 0 and again.stdout.count("finished earlier, reused") == len(after)


def test_failing_external_stage_reports_exit_code_and_log_tail(cli, tmp_path):
    config = tmp_path / "ext.yaml"
    config.write_text(f"run: {{name: ext, output_dir: {tmp_path}}}\nstages:\n"
                      "  - {name: base, kind: tiny_model, config: {size: nano, vocab_size: 512}}\n"
                      "  - name: their_trainer\n    kind: external\n    inputs: {model: base}\n"
                      "    config: {command: ['{python}', '-c', \"import sys; print('out of memory in step 7'); "
                      "sys.exit(3)\"]}\n")
    result = cli("pipeline", "run", "--config", str(config))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith("error: stage 'their_trainer': ")
    assert "exit code 3" in error[0] and "out of memory in step 7" in error[0]
    assert list((tmp_path / "ext" / "stages").glob("base-*/stage.json"))  # the finished stage is kept


def test_bad_pipeline_input_is_one_line_before_any_work(cli, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(f"run: {{name: bad, output_dir: {tmp_path}}}\nrounds: 0\nstages:\n"
                      "  - {name: base, kind: tiny_model}\n")
    result = cli("pipeline", "run", "--config", str(config))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "rounds 0" in result.stderr
    assert not (tmp_path / "bad").exists()
