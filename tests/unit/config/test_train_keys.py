"""The `train` section speaks TRL: its keys are TrainingArguments fields (checked against the dataclass), TRL's
names are accepted, typos get a suggestion, and `trainer_args` is checked against the method's TRL config."""

from __future__ import annotations

import dataclasses
import json
import typing
from types import SimpleNamespace

import pytest

from alignlab.config.base import TRL_TRAIN_ALIASES, LrScheduler, TrainSection
from alignlab.errors import ConfigError

# Our keys that are not TrainingArguments fields under the same name: our short names (TRL's are aliases),
# tracking and hub settings alignlab applies itself, and warmup_ratio (transformers 5 takes a float warmup_steps).
OURS = {"lr", "epochs", "batch_size", "grad_accum", "callbacks", "run_group", "trainer_args", "warmup_ratio",
        "gradient_checkpointing"}


def test_train_keys_are_training_arguments_fields():
    from transformers import TrainingArguments

    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    assert set(TrainSection.model_fields) - OURS <= fields
    assert set(TRL_TRAIN_ALIASES) <= fields
    assert {"report_to", "hub_private_repo"} <= fields


def test_scheduler_names_match_transformers():
    from transformers.trainer_utils import SchedulerType

    assert set(typing.get_args(LrScheduler)) == {s.value for s in SchedulerType}


def test_trl_names_and_typos(tmp_path):
    from alignlab.config import load_config
    from alignlab.config.rm import RMConfig

    config = load_config("configs/rm/tiny_bt.yaml", RMConfig, ["train.learning_rate=3e-4",
                                                               "train.gradient_accumulation_steps=4"])
    assert (config.train.lr, config.train.grad_accum) == (3e-4, 4)
    with pytest.raises(ConfigError, match=r"train.lr_sheduler_type: unknown key; did you mean 'lr_scheduler_type'"):
        load_config("configs/rm/tiny_bt.yaml", RMConfig, ["train.lr_sheduler_type=cosine"])
    with pytest.raises(ConfigError, match="push_to_hub needs train.hub_model_id"):
        load_config("configs/rm/tiny_bt.yaml", RMConfig, ["train.push_to_hub=true"])


def test_trainer_arguments_carry_the_keys_and_check_trainer_args(tmp_path):
    from trl import DPOConfig

    from alignlab.backends.train.hf import trainer_arguments

    run = SimpleNamespace(checkpoints_dir=tmp_path)
    train = TrainSection(lr_scheduler_type="cosine", optim="adafactor", max_grad_norm=0.5, save_total_limit=1,
                         eval_steps=7, trainer_args={"adam_beta2": 0.9})
    args = trainer_arguments(DPOConfig, run=run, train=train, seed=0)
    assert (args.lr_scheduler_type.value, args.optim.value, args.max_grad_norm) == ("cosine", "adafactor", 0.5)
    assert (args.save_total_limit, args.eval_steps, args.adam_beta2, args.report_to) == (1, 7, 0.9, [])
    with pytest.raises(ConfigError, match=r"trainer_args.adam_beta3: not an argument of TRL's DPOConfig; did you "
                                          r"mean 'adam_beta2'"):
        trainer_arguments(DPOConfig, run=run, train=TrainSection(trainer_args={"adam_beta3": 0.9}), seed=0)
    with pytest.raises(ConfigError, match="use train.report_to instead"):
        trainer_arguments(DPOConfig, run=run, train=TrainSection(trainer_args={"report_to": "wandb"}), seed=0)


def test_bf16_asked_for_on_a_cpu_is_autocast_on_the_cpu_not_a_transformers_error(tmp_path):
    """A TRL recipe's `bf16: true` on a machine without a GPU used to end in transformers' ValueError ("Your
    setup doesn't support bf16/gpu"): the arguments asked for the GPU. It is CPU bf16 autocast now."""
    import torch
    from trl import DPOConfig

    from alignlab.backends.train.hf import trainer_arguments

    if torch.cuda.is_available():
        pytest.skip("a CPU-only machine's behaviour")
    run = SimpleNamespace(checkpoints_dir=tmp_path)
    args = trainer_arguments(DPOConfig, run=run, train=TrainSection(bf16=True), seed=0)
    assert args.bf16 is True and args.use_cpu is True and args.device.type == "cpu"
    assert trainer_arguments(DPOConfig, run=run, train=TrainSection(bf16=False), seed=0).bf16 is False


def test_unset_bf16_follows_the_model_size_and_the_choice_is_recorded_in_env_json(tmp_path, monkeypatch):
    """`train.bf16` unset: precision is chosen from the trained model's size on this device and written with
    its reason into env.json; an explicit `train.bf16` wins and is recorded as asked for."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import DPOConfig

    from alignlab.backends.train.hf import trainer_arguments
    from alignlab.runs import Run
    from alignlab.utils import precision

    if torch.cuda.is_available():
        pytest.skip("a CPU-only machine's behaviour")
    (tmp_path / "env.json").write_text(json.dumps({"seed": 0}))
    run = Run(dir=tmp_path, config={})
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2))
    args = trainer_arguments(DPOConfig, run=run, train=TrainSection(), seed=0, model=model)
    env = json.loads((tmp_path / "env.json").read_text())
    assert args.bf16 is False and env["seed"] == 0 and env["precision"]["name"] == "fp32"
    assert "runs as fast in fp32" in env["precision"]["reason"] or "no bf16 matmul" in env["precision"]["reason"]

    monkeypatch.setattr(precision, "CPU_BF16_MIN_PARAMS", 1)  # as if the model were big enough
    args = trainer_arguments(DPOConfig, run=run, train=TrainSection(), seed=0, model=model)
    expected = "bf16" if precision.cpu_bf16_flags() else "fp32"
    assert json.loads((tmp_path / "env.json").read_text())["precision"]["name"] == expected
    assert args.bf16 is (expected == "bf16")

    trainer_arguments(DPOConfig, run=run, train=TrainSection(bf16=False), seed=0, model=model)
    assert json.loads((tmp_path / "env.json").read_text())["precision"] == {"name": "fp32", "reason": "train.bf16"}
