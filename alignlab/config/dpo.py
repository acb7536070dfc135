"""Offline policy-optimisation configs: `alignlab train dpo` (DPOConfig) and `alignlab train kto` (KTOConfig).

Loss names are checked against the loss registries (`alignlab.losses.preference.DPO_LOSSES`,
`alignlab.losses.kto.KTO_LOSSES`) when the config loads, so a typo fails before any model is read, listing the
valid names (TRL only fails once training starts). Other checks made here: KTO's batch size > 1 (its KL estimate
needs other examples in the batch), label smoothing only with losses that read it, SimPO/ORPO standing alone.

Sections beyond the shared run/model/data/train:
- `data.truncation`: what happens to an example longer than `data.max_length` (stated, never silent).
- `data.weighting`: agreement-aware training, a per-example weight w in [0, 1] from the data's `agreement`,
  `margin` or `weight` field, applied as a loss weight or as label smoothing e = (1 - w) / 2.
- `reference`: the reference model (default: the initial policy; with LoRA the adapter-disabled base) and the
  reference log-prob cache.
- `lora`: train a LoRA adapter instead of every weight.
- `tiny_policy`: build a tiny offline policy at `model.name_or_path` when nothing is there (demos and tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alignlab.config.base import DataSection, ModelSection, RunSection, StrictModel, TrainSection
from alignlab.config.schemas import TinySize

Truncation = Literal["truncate_response", "truncate_prompt", "drop", "error"]


class WeightingSection(StrictModel):
    """Per-example trust from the data: w = 1 for every example unless `source` names a field.

    - agreement: w = 2a - 1 clipped to [0, 1] (a = share of annotators who agreed with the label; a split
      vote gives 0, a unanimous one 1). With mode label_smoothing this is e = 1 - a, the chance the label is
      wrong under a majority vote. A record one annotator labelled (agreement null, `annotators` of one)
      gets w = `single_annotator_weight`.
    - margin: w = margin / the largest margin in the training split.
    - weight: the record's own `weight` (used as is as a loss weight; clipped to [0, 1] for label smoothing).
    A record without the field gets w = 1; a training split where no record has it is an error.
    """

    source: Literal["none", "agreement", "margin", "weight"] = "none"
    mode: Literal["loss_weight", "label_smoothing"] = Field(
        "loss_weight", description="loss_weight: loss_i * w_i (mean over the batch); label_smoothing: "
        "e_i = (1 - w_i) / 2, for loss types that read label smoothing (sigmoid = cDPO, robust).")
    max_label_smoothing: float = Field(0.4, ge=0.0, lt=0.5, description="Cap on e_i (robust divides by 1 - 2e).")
    single_annotator_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="source agreement: w of a record one annotator labelled (agreement "
        "null): half the trust of a unanimous panel by default.")


class PreferenceDataSection(DataSection):
    eval_path: str | None = Field(None, description="Held-out file; default: data.test_size of data.path.")
    chat_template: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: use the tokenizer's chat template when it has one (string prompts become one "
        "user turn, multi-turn prompts keep every turn); never: plain text, prompt + response + eos.")
    truncation: Truncation = Field(
        "truncate_response", description="Examples longer than max_length: truncate_response keeps the whole "
        "prompt and cuts responses at the end (a prompt that alone fills max_length is an error); "
        "truncate_prompt drops the prompt's oldest tokens; drop skips the example; error stops.")
    max_examples: int | None = Field(None, ge=1, description="Use only the first N training examples.")
    group_by_length: bool = Field(False, description="Batch examples of similar length together (less padding, "
                                  "faster on varied lengths; batches are then less random). DPO only.")
    weighting: WeightingSection = Field(default_factory=WeightingSection)


class ReferenceSection(StrictModel):
    model: str | None = Field(None, description="A separate reference model (same tokenizer). Default: the "
                              "policy as loaded; with LoRA the base model with the adapter disabled.")
    cache: bool = Field(True, description="Compute reference log-probs once, before training, and keep them "
                        "in cache_dir keyed by (reference model, tokenizer, data, max_length); later runs and "
                        "rounds reuse them. false: run the reference model beside the policy at every step.")
    cache_dir: Path | None = Field(None, description="Default: .alignlab_refcache/ beside the data file "
                                   "(beside run.output_dir for synthetic or hub data).")
    cache_file: Path | None = Field(None, description="Pin one file instead (e.g. shipped with the data): "
                                    "used when it matches, written when absent, refused when made for another key.")
    batch_size: int | None = Field(None, ge=1, description="Batch size of the reference pass (default 2x train).")


class LoraSection(StrictModel):
    r: int = Field(8, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class TinyPolicySection(StrictModel):
    """Build a tiny policy at model.name_or_path when that folder does not exist: `alignlab models tiny`
    weights, then `sft_steps` causal-LM steps on the training prompts and responses (both sides, so the
    policy learns the format and no preference)."""

    size: TinySize = "nano"
    sft_steps: int = Field(40, ge=0)
    sft_lr: float = Field(2e-3, gt=0)
    seed: int = Field(0, ge=0)


class EvalSection(StrictModel):
    at_checkpoints: bool = Field(True, description="Evaluate on the held-out split at every checkpoint.")
    hooks: list[str] = Field(default_factory=list, description="Extra evaluations run at every checkpoint and "
                             "at the end, by name from alignlab.hooks.CHECKPOINT_HOOKS.")

    @field_validator("hooks")
    @classmethod
    def _known_hooks(cls, hooks: list[str]) -> list[str]:
        if hooks:
            from alignlab.hooks import CHECKPOINT_HOOKS

            for name in hooks:
                _check_name(CHECKPOINT_HOOKS, name)
        return hooks


def _invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is printed as is (no "Value error, " prefix)."""
    return PydanticCustomError("alignlab", message.replace("{", "{{").replace("}", "}}"))


def _check_name(registry, name: str) -> None:
    from alignlab.registry import UnknownNameError

    try:
        registry.check(name)
    except UnknownNameError as err:
        raise _invalid(str(err)) from None


class DPOSection(StrictModel):
    loss_type: list[str] = Field(default_factory=lambda: ["sigmoid"], description="One name or a list summed "
                                 "with loss_weights, e.g. [sigmoid, sft] (RPO); simpo and orpo stand alone.")
    loss_weights: list[float] | None = None
    beta: float = Field(0.1, gt=0, description="KL strength (IPO: tau; SimPO: reward scale; ORPO: lambda).")
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5, description="cDPO / robust DPO flip probability.")
    simpo_gamma: float = Field(0.5, ge=0.0, description="SimPO target margin gamma.")
    discopop_tau: float = Field(0.05, gt=0)
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory (large models on GPU).")

    @field_validator("loss_type", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("loss_type")
    @classmethod
    def _known_losses(cls, value: list[str]) -> list[str]:
        from alignlab.losses.preference import loss_type_names
        from alignlab.registry import Registry

        names = Registry("DPO loss_type")
        for name in loss_type_names():
            names.register(name, name)
        for name in value:
            _check_name(names, name)
        if not value:
            raise _invalid("loss_type is empty; e.g. sigmoid")
        return value

    @model_validator(mode="after")
    def _check_losses(self) -> DPOSection:
        from alignlab.losses.preference import DPO_LOSSES, REFERENCE_FREE_LOSSES
        free = [name for name in self.loss_type if name in REFERENCE_FREE_LOSSES]
        if free and len(self.loss_type) > 1:
            raise _invalid(f"{free[0]} is a reference-free objective and cannot be combined; use it alone")
        if self.loss_weights is not None and len(self.loss_weights) != len(self.loss_type):
            raise _invalid(f"loss_weights has {len(self.loss_weights)} values for {len(self.loss_type)} loss types")
        uses_smoothing = {n for n in self.loss_type if n in DPO_LOSSES and DPO_LOSSES.get(n).uses_label_smoothing}
        if self.label_smoothing > 0 and not (uses_smoothing or "simpo" in free):
            raise _invalid(f"label_smoothing is ignored by {self.loss_type}; use sigmoid (cDPO), robust or exo_pair")
        if "exo_pair" in self.loss_type and self.label_smoothing == 0:
            raise _invalid("exo_pair needs label_smoothing > 0 (the EXO paper uses 1e-3)")
        return self

    def uses_reference(self) -> bool:
        from alignlab.losses.preference import REFERENCE_FREE_LOSSES

        return not any(name in REFERENCE_FREE_LOSSES for name in self.loss_type)


class DPOConfig(StrictModel):
    """Direct preference optimisation and its variants (`alignlab train dpo`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="dpo"))
    model: ModelSection
    data: PreferenceDataSection
    train: TrainSection = Field(default_factory=TrainSection)
    dpo: DPOSection = Field(default_factory=DPOSection)
    reference: ReferenceSection = Field(default_factory=ReferenceSection)
    lora: LoraSection | None = None
    tiny_policy: TinyPolicySection | None = None
    eval: EvalSection = Field(default_factory=EvalSection)

    @model_validator(mode="after")
    def _check(self) -> DPOConfig:
        if self.data.format == "unpaired":
            raise _invalid("data.format unpaired: DPO trains on pairs (prompt, chosen, rejected); train "
                             "thumbs-up/down data with `alignlab train kto`")
        _check_weighting(self.data.weighting, self.dpo.loss_type)
        return self


def _check_weighting(weighting: WeightingSection, loss_type: list[str]) -> None:
    if weighting.mode != "label_smoothing" or weighting.source == "none":
        return
    from alignlab.losses.preference import DPO_LOSSES

    if not any(name in DPO_LOSSES and DPO_LOSSES.get(name).uses_label_smoothing for name in loss_type) \
            and "simpo" not in loss_type:
        raise _invalid(f"data.weighting.mode label_smoothing needs a loss that reads it (sigmoid = cDPO, "
                         f"robust, exo_pair, simpo), not {loss_type}; or use mode loss_weight")


class KTODataSection(PreferenceDataSection):
    format: Literal["pairwise", "ranking", "ratings", "unpaired"] = "unpaired"
    unpair: bool = Field(False, description="Turn each pair into two examples (chosen: desirable, rejected: "
                         "undesirable). Without it, paired data given to KTO is an error.")


class KTOSection(StrictModel):
    loss_type: str = Field("kto", description="kto or apo_zero_unpaired.")
    beta: float = Field(0.1, gt=0)
    desirable_weight: float = Field(1.0, gt=0, description="lambda_D; raise it when desirable examples are rarer.")
    undesirable_weight: float = Field(1.0, gt=0, description="lambda_U.")
    gradient_checkpointing: bool = False

    @field_validator("loss_type")
    @classmethod
    def _known(cls, name: str) -> str:
        from alignlab.losses.kto import KTO_LOSSES

        _check_name(KTO_LOSSES, name)
        return name


class KTOConfig(StrictModel):
    """Kahneman-Tversky optimisation from unpaired thumbs-up/down data (`alignlab train kto`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="kto"))
    model: ModelSection
    data: KTODataSection
    train: TrainSection = Field(default_factory=TrainSection)
    kto: KTOSection = Field(default_factory=KTOSection)
    reference: ReferenceSection = Field(default_factory=ReferenceSection)
    lora: LoraSection | None = None
    tiny_policy: TinyPolicySection | None = None
    eval: EvalSection = Field(default_factory=EvalSection)

    @model_validator(mode="after")
    def _check(self) -> KTOConfig:
        from alignlab.losses.kto import KTO_USES_KL

        if self.kto.loss_type in KTO_USES_KL and self.train.batch_size < 2:
            raise _invalid(f"train.batch_size {self.train.batch_size}: KTO estimates its KL reference point from "
                             "the other examples in a batch, so it needs batch_size >= 2")
        if self.data.weighting.mode == "label_smoothing" and self.data.weighting.source != "none":
            raise _invalid("data.weighting.mode label_smoothing is for pairwise losses; KTO takes loss_weight")
        if self.data.group_by_length:
            raise _invalid("data.group_by_length: KTO keeps the data order (its KL pairs are formed within "
                           "consecutive batches); set it to false")
        if self.data.format != "unpaired" and not self.data.unpair:
            raise _invalid(f"data.format {self.data.format}: KTO trains on unpaired examples (prompt, completion, "
                             "label); set data.unpair: true to split each pair into a desirable and an undesirable "
                             "example")
        return self


def reference_cache_dir(reference: ReferenceSection, data_path: str, output_dir: Path) -> Path:
    """Where reference log-probs for `data_path` are cached (see ReferenceSection.cache_dir)."""
    if reference.cache_dir is not None:
        return reference.cache_dir
    path = Path(data_path)
    if path.is_file():
        return path.parent / ".alignlab_refcache"
    return output_dir / ".alignlab_refcache"
