"""Shared setup for lifecycle tests: one tiny pretrained nano model per session (a few seconds on one core) and
config builders. Training runs use one thread: on a shared 2-core machine that is fastest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alignlab.config.lifecycle import PretrainConfig, SFTConfig
from tests.conftest import merge_sections

SFT_DATA = "synthetic:sentiment?n=240&seed=0"


def pretrain_config(tmp: Path, **sections: Any) -> PretrainConfig:
    """Nano from scratch on the first 24k tokens of the shipped corpus, blocks of 64."""
    base = {
        "run": {"name": "pretrain", "output_dir": str(tmp / "runs"), "seed": 0, "threads": 1},
        "model": {"tiny": {"size": "nano", "vocab_size": 1024, "max_position_embeddings": 256}},
        "data": {"block_size": 64, "max_tokens": 24_000, "test_size": 0.1},
        "train": {"lr": 3e-3, "batch_size": 16, "max_steps": 20, "logging_steps": 5, "save_steps": 10},
    }
    return PretrainConfig.model_validate(merge_sections(base, sections))


def sft_config(tmp: Path, model: Path, **sections: Any) -> SFTConfig:
    base = {
        "run": {"name": "sft", "output_dir": str(tmp / "runs"), "seed": 0, "threads": 1},
        "model": {"name_or_path": str(model)},
        "data": {"path": SFT_DATA, "test_size": 0.15, "max_length": 96},
        "train": {"lr": 2e-3, "batch_size": 16, "max_steps": 16, "logging_steps": 4, "save_steps": 16},
    }
    return SFTConfig.model_validate(merge_sections(base, sections))


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model folder of a short nano pretraining run (tokenizer with the tiny chat template)."""
    import torch

    from alignlab.algorithms.pretrain import train_pretrain

    torch.set_num_threads(1)
    run = train_pretrain(pretrain_config(tmp_path_factory.mktemp("pretrained")), echo=lambda _: None)
    return Path(run.summary()["model"])


@pytest.fixture(scope="session")
def tokenizer(pretrained: Path):
    from alignlab.models import load_tokenizer

    return load_tokenizer(pretrained)
