"""Models: the tiny offline model factory and loaders for hub ids or local folders (safetensors only).

    from alignlab.models import build_tiny_models, load_causal_lm, load_reward_model, load_tokenizer
    tiny = build_tiny_models("runs/tiny", size="nano", seed=0)
    policy = load_causal_lm(tiny.policy_dir)
    reward = load_reward_model(tiny.reward_dir)
    tokenizer = load_tokenizer(tiny.policy_dir)

Importing this package is cheap: torch and transformers are imported inside the functions that need them.
"""

from alignlab.models.info import describe_model
from alignlab.models.loading import (
    load_causal_lm,
    load_model_config,
    load_reward_model,
    load_tokenizer,
)
from alignlab.models.tiny import TINY_SIZES, TinyModels, TinySize, build_tiny_models

__all__ = [
    "TINY_SIZES",
    "TinyModels",
    "TinySize",
    "build_tiny_models",
    "describe_model",
    "load_causal_lm",
    "load_model_config",
    "load_reward_model",
    "load_tokenizer",
]
