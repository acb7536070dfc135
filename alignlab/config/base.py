"""Config sections shared by every stage: run, model, data, train.

Each stage's schema composes these sections; every model forbids unknown keys so that a typo is an error
that names the key, never a silently ignored setting (TRL's YAML parsing drops unknown keys).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
DataFormat = Literal["pairwise", "ranking", "ratings", "unpaired"]
DType = Literal["auto", "float32", "bfloat16", "float16"]


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


def refuse_renamed(data: Any, renames: dict[str, str]) -> Any:
    """A before-validator's body: a key that was renamed is refused in one line naming its new spelling."""
    if isinstance(data, dict):
        for old, new in renames.items():
            if old in data:
                from pydantic_core import PydanticCustomError

                message = f"{old} was renamed: use {new}"
                raise PydanticCustomError("alignlab", message.replace("{", "{{").replace("}", "}}"))
    return data


class RunSection(StrictModel):
    name: str = Field("run", pattern=RUN_NAME_PATTERN, description="Run directory name under output_dir.")
    output_dir: Path = Field(Path("runs"), description="Parent folder of run directories.")
    seed: int = Field(0, ge=0, description="Seed for python, numpy and torch.")
    threads: int | None = Field(None, ge=1, description="torch intra-op threads (default: torch's choice).")


class ModelSection(StrictModel):
    name_or_path: str = Field(..., min_length=1, description="Hub id or local folder.")
    revision: str | None = None
    trust_remote_code: bool = Field(False, description="Run code shipped with the model (off by default).")
    dtype: DType = "auto"


class DataSection(StrictModel):
    path: str = Field(..., min_length=1, description="File, folder, or HF dataset name.")
    format: DataFormat = "pairwise"
    test_size: float = Field(0.1, ge=0.0, lt=1.0, description="Held-out share when no test split exists.")
    max_length: int = Field(1024, ge=8, description="Longest tokenized example (prompt + response).")


# transformers' `SchedulerType` values (a unit test keeps the two lists equal).
LrScheduler = Literal["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
                      "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
                      "warmup_stable_decay", "greedy"]
# TRL / transformers argument names accepted for our shorter keys.
TRL_TRAIN_ALIASES = {"learning_rate": "lr", "num_train_epochs": "epochs", "per_device_train_batch_size": "batch_size",
                     "gradient_accumulation_steps": "grad_accum"}
CALLBACK_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


class TrackingFields(StrictModel):
    """Experiment tracking, shared by every trainer's `train` section (TRL-based and the online loop).

    `metrics.jsonl` in the run folder stays the source of truth; every line written there also goes to the
    trackers named in `report_to` through transformers' own reporting integrations (`alignlab.utils.tracking`)."""

    report_to: list[str] = Field(default_factory=list, description="Trackers, as transformers names them: "
                                 "tensorboard, wandb, mlflow, trackio, comet_ml, ... ('all': every installed one; "
                                 "[] or 'none': only metrics.jsonl). TensorBoard writes <run>/tensorboard/.")
    callbacks: list[Annotated[str, Field(pattern=CALLBACK_PATTERN)]] = Field(
        default_factory=list, description="Your own transformers `TrainerCallback` classes as 'module:Class'; "
                                          "the online loop calls their on_train_begin, on_log and on_train_end.")
    run_group: str | None = Field(None, description="Tracker group (W&B group; the pipeline sets its own name).")

    @field_validator("report_to", mode="before")
    @classmethod
    def _report_to(cls, value: object) -> object:
        if value is None or value == "none":
            return []
        return [value] if isinstance(value, str) else value


class HubFields(StrictModel):
    """Hand-off of the trained policy to the hub (`alignlab.models.card.push_to_hub`), after its model card."""

    push_to_hub: bool = Field(False, description="Upload the final model to `hub_model_id` (huggingface_hub).")
    hub_model_id: str | None = Field(None, pattern=r"^[\w.-]+(/[\w.-]+)?$", description="user/name on the hub.")
    hub_private_repo: bool = Field(True, description="Create the hub repo as private.")

    @model_validator(mode="after")
    def _hub(self) -> HubFields:
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("train.push_to_hub needs train.hub_model_id (e.g. my-org/tiny-dpo)")
        return self


class TrainSection(TrackingFields, HubFields):
    """Optimisation settings of the TRL/transformers trainers, under TRL's own names where they differ from ours
    (`learning_rate`, `num_train_epochs`, `per_device_train_batch_size`, `gradient_accumulation_steps` are accepted
    as aliases). Anything else TRL's `*Config` takes goes in `trainer_args`, checked against that dataclass."""

    lr: float = Field(5e-5, gt=0)
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_steps: int = Field(-1, ge=-1, description="Stop after this many optimizer steps (-1: epochs decide).")
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(100, ge=1)
    lr_scheduler_type: LrScheduler = "linear"
    optim: str = Field("adamw_torch", min_length=1, description="transformers' optimizer name (OptimizerNames).")
    max_grad_norm: float = Field(1.0, ge=0.0)
    bf16: bool | None = Field(None, description="bf16 mixed precision (default: on where a CUDA GPU supports it).")
    gradient_checkpointing: bool | None = Field(None, description="Recompute activations (default: per method).")
    eval_steps: int | None = Field(None, ge=1, description="Held-out evaluation every N steps (default: per method).")
    save_total_limit: int | None = Field(2, ge=1, description="Checkpoints kept (null: all).")
    trainer_args: dict[str, Any] = Field(default_factory=dict, description="Any other field of the method's TRL "
                                         "`*Config` / `TrainingArguments` (e.g. adam_beta2, lr_scheduler_kwargs); "
                                         "unknown names are errors with a suggestion.")

    @model_validator(mode="before")
    @classmethod
    def _trl_names(cls, data: object) -> object:
        """TRL's names for our keys: the TRL name, when given, wins (an override may add it to a file's `lr`)."""
        if isinstance(data, dict):
            data = dict(data)
            for trl_name, ours in TRL_TRAIN_ALIASES.items():
                if trl_name in data:
                    data[ours] = data.pop(trl_name)
        return data

