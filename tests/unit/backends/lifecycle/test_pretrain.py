"""Pretraining and CPT in-process on a tiny nano model: held-out loss goes down, the saved folder loads, an
interrupted run resumes to the same result, and bad input fails before anything is written."""

from __future__ import annotations

import json

import pytest

from alignlab.algorithms.pretrain import train_cpt, train_pretrain
from alignlab.config.lifecycle import CPTConfig
from alignlab.errors import ConfigError, DataError, RunError
from tests.unit.backends.lifecycle.conftest import pretrain_config

pytestmark = pytest.mark.slow


class Interrupt(Exception):
    pass


def test_pretrain_lowers_held_out_loss_and_saves_a_loadable_model(pretrained):
    from alignlab.models import load_causal_lm, load_tokenizer

    summary = json.loads((pretrained.parent / "summary.json").read_text())
    assert summary["eval"]["loss"] < summary["eval_before"]["loss"] - 1.0
    assert summary["eval"]["perplexity"] == pytest.approx(2.718281828 ** summary["eval"]["loss"], rel=1e-6)
    assert summary["data"]["train_blocks"] > summary["data"]["eval_blocks"] > 0
    assert summary["init"] == "random" and summary["steps"] == 20
    model, tokenizer = load_causal_lm(pretrained), load_tokenizer(pretrained)
    assert (pretrained / "model.safetensors").is_file()
    assert tokenizer.chat_template and len(tokenizer) == model.config.vocab_size


def test_cpt_continues_from_the_weights_on_new_text(tmp_path, pretrained):
    corpus = tmp_path / "shakespeare.txt"
    corpus.write_text((__import__("alignlab.paths", fromlist=["x"]).project_root()
                       / "data/lifecycle/shakespeare/tinyshakespeare_head.txt").read_text()[:60_000])
    config = CPTConfig.model_validate({
        "run": {"name": "cpt", "output_dir": str(tmp_path / "runs"), "threads": 1},
        "model": {"name_or_path": str(pretrained)},
        "data": {"paths": [str(corpus)], "block_size": 64, "test_size": 0.1},
        "train": {"lr": 3e-3, "batch_size": 16, "max_steps": 12, "logging_steps": 4, "save_steps": 12}})
    summary = train_cpt(config, echo=lambda _: None).summary()
    assert summary["init"] == "pretrained"
    assert summary["eval"]["loss"] < summary["eval_before"]["loss"]


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch):
    from transformers import TrainerCallback

    import alignlab.backends.lifecycle.causal_lm as causal_lm

    straight = train_pretrain(pretrain_config(tmp_path, run={"name": "straight"}), echo=lambda _: None).summary()

    class StopAfter(TrainerCallback):  # a crash right after the step-10 checkpoint is complete
        def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
            raise Interrupt

    original = causal_lm.train_and_save

    def crashing(trainer, *args, **kwargs):
        trainer.add_callback(StopAfter())
        return original(trainer, *args, **kwargs)

    config = pretrain_config(tmp_path, run={"name": "resumed"})
    monkeypatch.setattr(causal_lm, "train_and_save", crashing)
    with pytest.raises(Interrupt):
        train_pretrain(config, echo=lambda _: None)
    monkeypatch.undo()
    run_dir = tmp_path / "runs" / "resumed"
    assert not (run_dir / "summary.json").exists()
    lines = []
    resumed = train_pretrain(config, echo=lines.append).summary()
    assert any("resuming from" in line and "step_10" in line for line in lines)
    assert resumed["eval"]["loss"] == pytest.approx(straight["eval"]["loss"], abs=1e-5)
    assert resumed["eval_before"]["loss"] == pytest.approx(straight["eval_before"]["loss"], abs=1e-6)
    steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()
             if "loss" in json.loads(line)]
    assert steps == [5, 10, 15, 20]


def test_bad_input_fails_in_one_line_before_the_run_directory_exists(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        train_pretrain(pretrain_config(tmp_path, data={"paths": [str(tmp_path / "missing.txt")]}))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(DataError, match="the corpus is empty"):
        train_pretrain(pretrain_config(tmp_path, data={"paths": [str(empty)]}))
    with pytest.raises(ConfigError, match=r"data.block_size 512 is larger than the context .* \(256 positions\)"):
        train_pretrain(pretrain_config(tmp_path, data={"block_size": 512}))
    assert not (tmp_path / "runs").exists()
    with pytest.raises(Exception, match="exactly one of model.tiny"):
        pretrain_config(tmp_path, model={"name_or_path": "x"})


def test_a_different_config_under_the_same_name_is_refused(tmp_path):
    train_pretrain(pretrain_config(tmp_path, train={"max_steps": 2, "save_steps": 2}), echo=lambda _: None)
    with pytest.raises(RunError, match="different config"):
        train_pretrain(pretrain_config(tmp_path, train={"max_steps": 3, "save_steps": 2}), echo=lambda _: None)
