"""One config schema per stage. Later stages add theirs here and register them in `CONFIGS`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from alignlab.config.base import DataSection, ModelSection, RunSection, StrictModel, TrainSection

TinySize = Literal["nano", "micro", "small", "base"]


class TinyModelConfig(StrictModel):
    """A tiny Llama-style causal LM and reward model built offline from a tokenizer trained on shipped text."""

    size: TinySize = Field("nano", description="nano ~1M, micro ~5M, small ~15M, base ~30M parameters.")
    vocab_size: int = Field(2048, ge=300, le=65536, description="Byte-level BPE vocabulary size.")
    corpus: list[Path] = Field(default_factory=list, description="Text files (default: shipped TinyStories).")
    max_position_embeddings: int = Field(1024, ge=64)
    seed: int = Field(0, ge=0)


class AuditSection(StrictModel):
    path: str = Field("preference_data/hh_rlhf_harmless/train.jsonl", description="Preference data to audit.")
    format: Literal["pairwise", "ranking", "ratings", "unpaired"] = "pairwise"


class DemoConfig(StrictModel):
    """`alignlab demo`: the main job on embedded defaults."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="demo"))
    tiny_model: TinyModelConfig = Field(default_factory=TinyModelConfig)
    audit: AuditSection = Field(default_factory=AuditSection)


class RMSection(StrictModel):
    type: Literal["bradley_terry", "multi_attribute", "ensemble"] = "bradley_terry"
    attributes: list[str] = Field(default_factory=list, description="Output names for multi_attribute.")
    attribute_weights: dict[str, float] = Field(default_factory=dict)
    ensemble_size: int = Field(1, ge=1)
    use_margin: bool = False
    center_rewards_coefficient: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _check_attributes(self) -> RMSection:
        if self.type == "multi_attribute" and not self.attributes:
            raise ValueError("multi_attribute needs `attributes`, e.g. [helpfulness, correctness]")
        unknown = set(self.attribute_weights) - set(self.attributes)
        if unknown:
            raise ValueError(f"attribute_weights names {sorted(unknown)} not in attributes {self.attributes}")
        return self


class RMConfig(StrictModel):
    """Reward-model training (`alignlab rm train`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="rm"))
    model: ModelSection
    data: DataSection
    train: TrainSection = Field(default_factory=TrainSection)
    rm: RMSection = Field(default_factory=RMSection)
