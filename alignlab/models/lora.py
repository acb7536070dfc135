"""LoRA settings as PEFT's `LoraConfig`, for every trainer that takes a `lora:` config section."""

from __future__ import annotations

from typing import Any


def lora_config(section: Any) -> Any:
    """PEFT's LoraConfig for a causal LM from a `lora:` section (None: full fine-tuning, no adapter)."""
    if section is None:
        return None
    from peft import LoraConfig

    return LoraConfig(r=section.r, lora_alpha=section.alpha, lora_dropout=section.dropout,
                      target_modules=section.target_modules, task_type="CAUSAL_LM")
