"""Shared setup for online-RL tests: one tiny SFT'd nano policy per session and config builders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alignlab.config.dpo import TinyPolicySection
from tests.conftest import merge_sections

PROMPTS = "synthetic:sentiment?n=200&seed=0&chat=1"


def online_config(kind: str, tmp: Path, policy: Path, **sections: Any):
    """A PPO/GRPO/RLOO config for tests: a few tiny rounds, outputs under `tmp`."""
    from alignlab.config import CONFIGS

    base = {
        "run": {"name": kind, "output_dir": str(tmp / "runs"), "seed": 0, "threads": 1},
        "model": {"name_or_path": str(policy)},
        "data": {"path": PROMPTS, "test_size": 0.1, "max_prompt_length": 64},
        "rollout": {"max_new_tokens": 12},
        "rewards": [{"rule": "sentiment"}],
        "train": {"steps": 2, "prompts_per_step": 4, "lr": 1e-4, "minibatch_size": 4, "eval_prompts": 6,
                  "save_steps": 1, "eval_steps": 10, "sample_steps": 1, "samples": 2},
    }
    if kind in ("grpo", "rloo"):
        base[kind] = {"num_generations": 2}
    return CONFIGS.get(kind).model_validate(merge_sections(base, sections))


@pytest.fixture(scope="session")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from alignlab.algorithms.tiny_policy import build_tiny_policy
    from alignlab.data.synthetic import load_synthetic

    torch.set_num_threads(1)
    _fmt, records = load_synthetic(PROMPTS)
    out = tmp_path_factory.mktemp("online") / "nano-sft"
    return build_tiny_policy(TinyPolicySection(size="nano", sft_steps=20, sft_lr=2e-3), out, records)


@pytest.fixture(scope="session")
def tokenizer(policy: Path):
    from alignlab.models import load_tokenizer

    return load_tokenizer(policy)


@pytest.fixture(scope="session")
def reward_folder(tmp_path_factory: pytest.TempPathFactory, policy: Path) -> Path:
    """A sequence-classifier reward model sharing the policy's tokenizer (random head: scores, not quality)."""
    from alignlab.models import load_reward_model

    out = tmp_path_factory.mktemp("rm") / "rm"
    from alignlab.models import load_tokenizer

    tokenizer = load_tokenizer(policy)
    model = load_reward_model(policy, num_labels=1, seed=0, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
