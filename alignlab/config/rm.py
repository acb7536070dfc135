"""Reward-model training config (`alignlab rm train`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from alignlab.config.base import DataSection, ModelSection, RunSection, StrictModel, TrainSection


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
