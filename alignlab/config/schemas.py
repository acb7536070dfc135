"""Config schemas of the foundation: the tiny model factory and the demo. Each stage has its own module
(`config/rm.py`, ...) and registers its kind in `alignlab.config.CONFIGS`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from alignlab.config.base import RunSection, StrictModel

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
