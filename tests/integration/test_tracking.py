"""Experiment tracking: `train.report_to` and `train.callbacks` reach every trainer; metrics.jsonl stays the truth.

TensorBoard event files are read back with tensorboard's own reader (`EventAccumulator`) and compared with the
run's metrics.jsonl, for a TRL-based trainer (the reward model, through the real CLI) and for the metric path
the online loop and held-out evaluations use (`Run.log`). W&B runs in offline mode when it is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorboard")

CALLBACK_MODULE = '''
import json
from transformers import TrainerCallback

class Recorder(TrainerCallback):
    def _note(self, event, state):
        with open("events.jsonl", "a") as handle:
            handle.write(json.dumps({"event": event, "step": state.global_step}) + "\\n")
    def on_train_begin(self, args, state, control, **kwargs):
        self._note("train_begin", state)
    def on_step_end(self, args, state, control, **kwargs):
        self._note("step_end", state)
    def on_log(self, args, state, control, logs=None, **kwargs):
        self._note("log", state)
    def on_train_end(self, args, state, control, **kwargs):
        self._note("train_end", state)
'''


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def metric_lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_trl_trainer_reports_to_tensorboard_and_runs_user_callbacks(tmp_path):
    (tmp_path / "my_callbacks.py").write_text(CALLBACK_MODULE)
    done = subprocess.run(
        [sys.executable, "-c", "from alignlab.cli import main; main()", "rm", "train", "--config",
         "configs/rm/tiny_bt.yaml", f"run.output_dir={tmp_path / 'runs'}", f"rm.output_dir={tmp_path / 'model'}",
         "data.path=synthetic:keyword?n=120&seed=0&chat=1", "train.max_steps=6", "train.logging_steps=2",
         "rm.example_weight=none", "train.report_to=[tensorboard]", "train.callbacks=[my_callbacks:Recorder]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = tmp_path / "runs" / "tiny_bt"
    board = scalars(run_dir / "tensorboard")
    logged = [line for line in metric_lines(run_dir) if "loss" in line]
    assert logged and [(line["step"], pytest.approx(line["loss"], rel=1e-6)) for line in logged] == \
        [(step, value) for step, value in board["train/loss"]]
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "train_begin" and kinds[-1] == "train_end"
    assert kinds.count("step_end") == 6 and kinds.count("log") >= 3


def test_run_log_mirrors_every_line_to_tensorboard_and_closes_on_finish(tmp_path):
    from alignlab.runs import open_run

    config = {"run": {"name": "online"}, "train": {"report_to": ["tensorboard"], "run_group": "pipeline-a"}}
    run = open_run(config, tmp_path, "online")
    for step, reward in [(0, 0.1), (1, 0.25), (2, 0.5)]:
        run.log(step, **{"reward/mean": reward, "kl": step * 0.01, "note": "text is skipped"})
    run.finish({"steps": 2})
    board = scalars(tmp_path / "online" / "tensorboard")
    assert [v for _, v in board["train/reward/mean"]] == pytest.approx([0.1, 0.25, 0.5])
    assert [s for s, _ in board["train/kl"]] == [0, 1, 2]
    assert [line["reward/mean"] for line in metric_lines(tmp_path / "online")] == [0.1, 0.25, 0.5]
    assert run.tracking._args is None  # closed by finish


def test_no_tracker_means_no_tracking_object(tmp_path):
    from alignlab.runs import open_run

    run = open_run({"train": {"report_to": []}}, tmp_path, "plain")
    run.log(1, loss=0.5)
    assert run.tracking is None and not (tmp_path / "plain" / "tensorboard").exists()


def test_bad_tracker_and_bad_callback_are_one_line_config_errors(tmp_path):
    from alignlab.errors import ConfigError
    from alignlab.runs import open_run

    with pytest.raises(ConfigError, match=r"unknown tracker 'tensorbord'; did you mean 'tensorboard'"):
        open_run({"train": {"report_to": ["tensorbord"]}}, tmp_path, "a")
    with pytest.raises(ConfigError, match=r"cannot import 'no_such_module_xyz'"):
        open_run({"train": {"callbacks": ["no_such_module_xyz:Callback"]}}, tmp_path, "b")
    with pytest.raises(ConfigError, match=r"has no TrainerCallback subclass named 'Path'"):
        open_run({"train": {"callbacks": ["pathlib:Path"]}}, tmp_path, "c")


def test_wandb_offline_when_installed(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from alignlab.runs import open_run

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    run = open_run({"train": {"report_to": ["wandb"], "run_group": "demo"}}, tmp_path, "w")
    run.log(1, loss=0.5)
    run.finish({})
    assert list((tmp_path / "w").rglob("*.wandb"))


def test_pipeline_stages_share_the_pipeline_trackers_as_one_group():
    from alignlab.config.pipeline import PipelineConfig
    from alignlab.pipeline.stages import trainer_data

    pipeline = PipelineConfig.model_validate({"run": {"name": "loop"}, "report_to": ["tensorboard"],
                                              "stages": [{"name": "rm", "kind": "rm"}]})

    class Kind:
        @staticmethod
        def fill(data, paths):
            return None

    data = trainer_data(Kind, pipeline.stages[0], pipeline, Path("runs/loop/stages/rm-1/run"), {})
    assert data["train"]["report_to"] == ["tensorboard"] and data["train"]["run_group"] == "loop"
    own = pipeline.stages[0].model_copy(update={"config": {"train": {"report_to": []}}})
    assert trainer_data(Kind, own, pipeline, Path("runs/loop/stages/rm-1/run"), {})["train"]["report_to"] == []
