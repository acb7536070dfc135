"""Config sections shared by every stage: run, model, data, train.

Each stage's schema composes these sections; every model forbids unknown keys so that a typo is an error
that names the key, never a silently ignored setting (TRL's YAML parsing drops unknown keys).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
DataFormat = Literal["pairwise", "ranking", "ratings", "unpaired"]
DType = Literal["auto", "float32", "bfloat16", "float16"]


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


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


class TrainSection(StrictModel):
    lr: float = Field(5e-5, gt=0)
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_steps: int = Field(-1, ge=-1, description="Stop after this many optimizer steps (-1: epochs decide).")
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(100, ge=1)
