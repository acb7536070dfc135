"""Shared setup for DPO/KTO tests: one tiny SFT'd nano policy per session (a few seconds on 2 cores) and
helpers that build configs without YAML files. Training runs use one thread: on a shared 2-core machine two
OpenMP threads per process can be many times slower than one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alignlab.config.dpo import DPOConfig, KTOConfig, TinyPolicySection
from tests.conftest import merge_sections

PAIRS = "synthetic:sentiment?n=320&seed=0&chat=1"
UNPAIRED = "synthetic:unpaired-sentiment?n=480&seed=0&chat=1"

# Summed fp32 log-probs of 10-30 tokens reach about -66, where one fp32 step is 7.6e-6: two layouts (packed or
# shared rows vs padded ones) add in another order and differ by a step or two (1.5e-5 measured on one CPU).
# 1e-5 plus one part in a million allows that and nothing more; a mask or position error moves a sum by 1e-2+.
SUMS = {"atol": 1e-5, "rtol": 1e-6}


def dpo_config(tmp: Path, policy: Path, **sections: Any) -> DPOConfig:
    """A DPOConfig for tests: nano-friendly training, outputs (and the reference cache) under `tmp`."""
    base = {
        "run": {"name": "dpo", "output_dir": str(tmp / "runs"), "seed": 0, "threads": 1},
        "model": {"name_or_path": str(policy)},
        "data": {"path": PAIRS, "test_size": 0.25, "max_length": 96},
        "train": {"lr": 1e-3, "batch_size": 8, "max_steps": 24, "logging_steps": 4, "save_steps": 12},
        "dpo": {"beta": 0.1},
        "reference": {"cache_dir": str(tmp / "refcache")},
    }
    return DPOConfig.model_validate(merge_sections(base, sections))


def kto_config(tmp: Path, policy: Path, **sections: Any) -> KTOConfig:
    base = {
        "run": {"name": "kto", "output_dir": str(tmp / "runs"), "seed": 0, "threads": 1},
        "model": {"name_or_path": str(policy)},
        "data": {"path": UNPAIRED, "test_size": 0.25, "max_length": 96},
        "train": {"lr": 1e-3, "batch_size": 8, "max_steps": 36, "logging_steps": 6, "save_steps": 36},
        "kto": {"beta": 0.5},
        "reference": {"cache_dir": str(tmp / "refcache")},
    }
    return KTOConfig.model_validate(merge_sections(base, sections))


@pytest.fixture(scope="session")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A nano policy SFT'd for a few steps on the pairs' prompts and both responses (no preference)."""
    import torch

    from alignlab.algorithms.preference_data import read_records
    from alignlab.algorithms.tiny_policy import build_tiny_policy

    torch.set_num_threads(1)
    _fmt, items = read_records(PAIRS, "pairwise")
    out = tmp_path_factory.mktemp("policy") / "nano-sft"
    return build_tiny_policy(TinyPolicySection(size="nano", sft_steps=20, sft_lr=2e-3), out,
                             [record for _where, record in items])


@pytest.fixture(scope="session")
def tokenizer(policy: Path):
    from alignlab.models import load_tokenizer

    return load_tokenizer(policy)


@pytest.fixture(scope="module")
def logprob_model():
    """A random nano Llama (64-token vocabulary) with the fused log-prob head: for forward-equality tests."""
    import torch
    from transformers import LlamaForCausalLM

    from alignlab.backends.train.preference import patch_log_prob_head
    from alignlab.models.tiny import tiny_llama_config

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config("nano", vocab_size=64)).eval()
    patch_log_prob_head(model)
    return model


def kto_step_host():
    """The state `AlignlabKTOTrainer._policy_logps` reads, without building a trainer: the trainer's own
    `_policy_kl_logps`, `_append` and `_count_tokens` bound to a namespace holding the objective and metrics."""
    import types
    from collections import defaultdict

    from alignlab.backends.train.preference import AlignlabKTOTrainer, KTOObjective

    host = types.SimpleNamespace(objective=KTOObjective(), _metrics={"train": defaultdict(list)},
                                 _choice_log=lambda share, saving: None)
    for name in ("_policy_kl_logps", "_append", "_count_tokens"):
        setattr(host, name, types.MethodType(getattr(AlignlabKTOTrainer, name), host))
    return host
