"""Run directories: layout, atomic checkpoints, resume, finished runs, config mismatch."""

from __future__ import annotations

import json

import pytest

from alignlab.config import load_config
from alignlab.config.schemas import DemoConfig
from alignlab.errors import RunError
from alignlab.runs import open_run


def make_config(*overrides):
    return load_config(None, DemoConfig, list(overrides))


def test_new_run_writes_config_and_env(tmp_path):
    run = open_run(make_config("run.seed=5"), tmp_path, "r1", seed=5)
    assert not run.resumed and not run.finished
    assert (tmp_path / "r1" / "config.yaml").read_text().startswith("run:")
    env = json.loads((tmp_path / "r1" / "env.json").read_text())
    assert env["seed"] == 5
    assert env["threads"] >= 1
    assert env["device"] == "cpu" or env["device"]
    assert "torch" in env["packages"] and "alignlab" in env["packages"]
    assert (tmp_path / "r1" / "checkpoints").is_dir()


def test_resume_finds_last_complete_checkpoint_and_drops_later_metrics(tmp_path):
    config = make_config()
    run = open_run(config, tmp_path, "r")
    for step in (1, 2, 3, 4):
        run.log(step, loss=1.0 / step)
        if step == 2:
            with run.checkpoint(step) as ckpt:
                (ckpt / "weights.bin").write_bytes(b"x")
    # a save interrupted mid-way must not count as a checkpoint
    with pytest.raises(RuntimeError), run.checkpoint(4) as ckpt:
        (ckpt / "weights.bin").write_bytes(b"partial")
        raise RuntimeError("killed")
    with run.metrics_path.open("a") as handle:
        handle.write('{"step": 5, "loss"')  # a line a crash cut short

    again = open_run(config, tmp_path, "r")
    assert again.resumed and not again.finished
    assert again.latest_checkpoint().name == "step_2"
    assert [m["step"] for m in again.metrics()] == [1, 2]
    assert not any(p.name.endswith(".tmp") for p in again.checkpoints_dir.iterdir())


def test_keep_last_prunes_old_checkpoints(tmp_path):
    run = open_run(make_config(), tmp_path, "r")
    for step in (1, 2, 3):
        with run.checkpoint(step, keep_last=2) as ckpt:
            (ckpt / "w").write_text(str(step))
    assert [s for s, _ in run.checkpoints()] == [2, 3]


def test_finished_run_is_not_redone_unless_forced(tmp_path):
    config = make_config()
    run = open_run(config, tmp_path, "r")
    run.log(1, loss=0.5)
    run.finish({"loss": 0.5})
    again = open_run(config, tmp_path, "r")
    assert again.finished and again.summary()["loss"] == 0.5
    forced = open_run(config, tmp_path, "r", force=True)
    assert not forced.finished and not forced.resumed
    assert forced.metrics() == []


def test_different_config_in_same_folder_is_refused(tmp_path):
    open_run(make_config("run.seed=1"), tmp_path, "r")
    with pytest.raises(RunError, match=r"different config \(run.seed: 1 there, 2 now\)"):
        open_run(make_config("run.seed=2"), tmp_path, "r")


def test_non_run_folder_is_refused(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not a run directory"):
        open_run(make_config(), tmp_path, "r")


def test_a_trainer_checkpoint_counts_once_published_as_step_n(tmp_path):
    run = open_run(make_config(), tmp_path, "r")
    for step in (10, 20, 30):  # what a Trainer writes in place, trainer_state.json last
        (run.checkpoints_dir / f"checkpoint-{step}").mkdir()
        (run.checkpoints_dir / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
        assert run.latest_checkpoint() == (run.checkpoints_dir / f"step_{step - 10}" if step > 10 else None)
        assert run.publish_trainer_checkpoint(step, keep_last=2) == run.checkpoints_dir / f"step_{step}"
    assert run.latest_checkpoint() == run.checkpoints_dir / "step_30"
    assert sorted(p.name for p in run.checkpoints_dir.iterdir()) == ["step_20", "step_30"]  # keep_last
    (run.checkpoints_dir / "checkpoint-40").mkdir()  # a save that stopped before trainer_state.json
    assert run.publish_trainer_checkpoint(40) is None and run.latest_checkpoint() == run.checkpoints_dir / "step_30"
