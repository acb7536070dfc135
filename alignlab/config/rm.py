"""Reward-model training config (`alignlab rm train`).

    run:   {name: tiny_bt, output_dir: runs, seed: 0}
    model: {name_or_path: tiny:nano}          # hub id, local folder, or tiny:<size> (built offline on first use)
    data:  {path: preference_data/hh_rlhf_harmless/train.jsonl, eval_path: .../test.jsonl, max_length: 512}
    train: {lr: 1e-4, batch_size: 8, epochs: 1}
    rm:    {type: bradley_terry, chat_template: auto, lora: {r: 16}}

Sections `run`, `model` and `train` are the shared ones (`alignlab.config.base`); `data` adds what reward
models need (a held-out file, the ratings scale) and `rm` holds the method. Cross-field rules (attributes for
multi_attribute, ratings data for regression) are checked here, so a wrong combination fails before any
model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from alignlab.config.base import DataSection, ModelSection, RunSection, StrictModel, TrainSection, refuse_renamed
from alignlab.data.prompts import CHAT_TEMPLATE_HELP, ChatTemplateMode

RMType = Literal["bradley_terry", "multi_attribute", "ensemble"]
MemberType = Literal["bradley_terry", "multi_attribute"]


class RMDataSection(DataSection):
    format: Literal["pairwise", "ranking", "ratings"] = "pairwise"
    eval_path: str | None = Field(
        None, description="Held-out file for the final evaluation (default: a test_size split of `path`, by prompt)."
    )
    scale: tuple[float, float] = Field((0, 4), description="Inclusive rating scale of ratings data (HelpSteer: 0-4).")
    max_length: int = Field(512, ge=8, description="Longest tokenized prompt + response; longer inputs lose the "
                                                   "start of the prompt (the response end is kept), in training "
                                                   "and scoring alike.")

    @model_validator(mode="after")
    def _check_scale(self) -> RMDataSection:
        if self.scale[0] >= self.scale[1]:
            raise ValueError(f"scale must be (low, high) with low < high, got {list(self.scale)}")
        return self


class LoraSection(StrictModel):
    """LoRA adapters (peft) on the backbone; the score head is trained in full and the adapter is merged into
    the saved model, so it loads with plain transformers."""

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class RMSection(StrictModel):
    type: RMType = "bradley_terry"
    chat_template: ChatTemplateMode = Field(
        "auto", description=CHAT_TEMPLATE_HELP + " The plain form is prompt + response + eos. The choice is stored "
                            "with the model and reused for scoring.")
    use_margin: bool = Field(False, description="Use each pair's `margin` in the Bradley-Terry loss.")
    example_weight: Literal["none", "weight", "agreement"] = Field(
        "weight", description="Per-pair loss weight: the record's `weight`, its annotator `agreement`, or none.")
    single_annotator_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="example_weight agreement: the weight of a pair one annotator labelled "
        "(agreement null); a unanimous panel's pair weighs 1.")
    center_rewards_coefficient: float | None = Field(None, ge=0, description="Reward centring (0.01 recommended).")
    attributes: list[str] = Field(default_factory=list, description="Output names for multi_attribute.")
    attribute_weights: dict[str, float] = Field(
        default_factory=dict, description="Attribute -> weight of the scalar reward (default: equal weights); for "
                                          "bradley_terry on ratings data, the score that pairs responses.")
    regression_bt_coefficient: float = Field(
        0.0, ge=0, description="multi_attribute: weight of a Bradley-Terry term on the weighted combination.")
    ensemble_size: int = Field(4, ge=2, description="Members of an ensemble (type: ensemble).")
    ensemble_member: MemberType = "bradley_terry"
    ensemble_bootstrap: bool = Field(False, description="Each member trains on a bootstrap resample of the data.")
    batching: Literal["auto", "padded", "length_grouped", "shared_prompt"] = Field(
        "auto", description="padded: random batches (TRL's way); length_grouped: batches of similar length; "
                            "shared_prompt: length-grouped, and each pair's shared prompt computed once. "
                            "auto: shared_prompt for pairs, length_grouped for ratings.")
    lora: LoraSection | None = None
    output_dir: Path | None = Field(None, description="Where the trained model goes (default reward_models/<name>).")

    @model_validator(mode="after")
    def _check_attributes(self) -> RMSection:
        regression = self.type == "multi_attribute" or (self.type == "ensemble"
                                                        and self.ensemble_member == "multi_attribute")
        if regression and not self.attributes:
            raise ValueError("multi_attribute needs `attributes`, e.g. [helpfulness, correctness]")
        unknown = set(self.attribute_weights) - set(self.attributes) if self.attributes else set()
        if unknown:
            raise ValueError(f"attribute_weights names {sorted(unknown)} not in attributes {self.attributes}")
        if regression and self.batching == "shared_prompt":
            raise ValueError("batching: shared_prompt packs chosen/rejected pairs; multi_attribute trains on rated "
                             "responses (use auto or length_grouped)")
        if len(set(self.attributes)) != len(self.attributes):
            raise ValueError(f"attributes repeat a name: {self.attributes}")
        return self

    def regression(self) -> bool:
        return self.type == "multi_attribute" or (self.type == "ensemble" and self.ensemble_member == "multi_attribute")

    def batching_for(self, member: str) -> str:
        """The batching a member of kind `member` trains with ("auto" resolved)."""
        if self.batching != "auto":
            return self.batching
        return "length_grouped" if member == "multi_attribute" else "shared_prompt"

    def weights(self) -> dict[str, float]:
        """Attribute -> weight of the scalar reward; equal weights (1/A) when none are given."""
        if not self.attributes:
            return dict(self.attribute_weights) or {"helpfulness": 1.0}
        if self.attribute_weights:
            return {name: self.attribute_weights.get(name, 0.0) for name in self.attributes}
        return {name: 1.0 / len(self.attributes) for name in self.attributes}

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return refuse_renamed(data, {"template": "chat_template: auto | always | never (chat was always, plain "
                                                 "was never)"})


class RMConfig(StrictModel):
    """Reward-model training (`alignlab rm train`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="rm"))
    model: ModelSection
    data: RMDataSection
    train: TrainSection = Field(default_factory=TrainSection)
    rm: RMSection = Field(default_factory=RMSection)

    @model_validator(mode="after")
    def _check_data_for_method(self) -> RMConfig:
        if self.rm.regression() and self.data.format != "ratings":
            raise ValueError(f"multi_attribute regression trains on ratings; data.format is {self.data.format!r} "
                             "(set data.format: ratings)")
        return self
