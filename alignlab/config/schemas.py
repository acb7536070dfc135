"""Config schemas of the foundation: the tiny model factory and the demo. Each stage has its own module
(`config/rm.py`, ...) and registers its kind in `alignlab.config.CONFIGS`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from alignlab.config.base import RunSection, StrictModel

TinySize = Literal["nano", "micro", "small", "base"]


class TinyShape(StrictModel):
    """The shape of a tiny Llama-style model (`alignlab.models.tiny`): one schema and one set of bounds for the
    model factory (`alignlab models tiny`, the demo, pipelines) and for pretraining from scratch (`model.tiny`)."""

    size: TinySize = Field("nano", description="nano ~1M, micro ~5M, small ~15M, base ~30M parameters.")
    vocab_size: int = Field(2048, ge=300, le=65536, description="Byte-level BPE vocabulary size.")
    max_position_embeddings: int = Field(1024, ge=16, description="Context length of the new model.")
    seed: int = Field(0, ge=0, description="Seed of the random initial weights.")


class TinyModelConfig(TinyShape):
    """A tiny Llama-style causal LM and reward model built offline from a tokenizer trained on shipped text."""

    corpus: list[Path] = Field(default_factory=list, description="Text files (default: shipped TinyStories).")


class DemoSizes(StrictModel):
    """How much work each demo stage does (the defaults finish in about ten minutes on 2 CPU cores)."""

    pretrain_steps: int = Field(150, ge=1, description="Causal-LM steps on the shipped TinyStories excerpt.")
    sft_steps: int = Field(150, ge=1, description="SFT steps on chat-formatted synthetic stories.")
    sft_examples: int = Field(1200, ge=10, description="Synthetic pairs whose two sides make the SFT data.")
    pool: int = Field(320, ge=2, description="Prompts answered twice per round.")
    batch: int = Field(224, ge=2, description="Pairs annotated per round (chosen from the pool).")
    rm_epochs: float = Field(2.0, gt=0)
    dpo_epochs: float = Field(2.0, gt=0)
    heldout_prompts: int = Field(200, ge=10, description="Held-out prompts of the rule win rate.")
    eval_limit: int = Field(8, ge=0, description="Examples per suite of the standard bundle (0: no suites).")


class DemoAnnotators(StrictModel):
    annotators: int = Field(3, ge=1, description="Simulated raters per pair.")
    noise: float = Field(0.1, ge=0.0, le=1.0, description="Probability a rater answers at random.")
    position_bias: float = Field(0.05, ge=0.0, le=1.0, description="Probability a rater picks the first shown.")


class DemoConfig(StrictModel):
    """`alignlab demo`: the whole lifecycle as a pipeline on embedded defaults (`alignlab.demo` builds it;
    configs/pipelines/demo.yaml spells the same pipeline out)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="demo", threads=1))
    rounds: int = Field(2, ge=1, description="Feedback rounds.")
    rule: Literal["keyword", "sentiment", "longer", "fluent_sentiment"] = Field(
        "fluent_sentiment", description="The annotators' hidden rule (alignlab.annotation.simulated).")
    tiny_model: TinyModelConfig = Field(default_factory=lambda: TinyModelConfig(max_position_embeddings=512))
    annotation: DemoAnnotators = Field(default_factory=DemoAnnotators)
    sizes: DemoSizes = Field(default_factory=DemoSizes)
