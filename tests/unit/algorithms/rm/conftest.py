"""Shared setup for reward-model tests: one nano tiny model build and one trained Bradley-Terry model per
session (a few seconds on 2 cores), plus a helper that builds an `RMConfig` without a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alignlab.config.rm import RMConfig
from alignlab.models.tiny import TinyModels, build_tiny_models


def make_config(tmp: Path, base: Path | str, **sections: dict[str, Any]) -> RMConfig:
    """An RMConfig for tests: nano-friendly training defaults, outputs under `tmp`, sections merged in."""
    config: dict[str, Any] = {
        "run": {"name": "test", "output_dir": str(tmp / "runs"), "seed": 0, "threads": 1},
        "model": {"name_or_path": str(base)},
        "data": {"path": "synthetic:keyword?n=240&seed=0&chat=1", "test_size": 0.2, "max_length": 96},
        "train": {"lr": 2e-3, "batch_size": 8, "max_steps": 30, "logging_steps": 5, "save_steps": 15},
        "rm": {"output_dir": str(tmp / "models" / "rm")},
    }
    for name, values in sections.items():
        config[name] = {**config.get(name, {}), **values}
    return RMConfig.model_validate(config)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return build_tiny_models(tmp_path_factory.mktemp("tiny") / "nano", size="nano", seed=0)


@pytest.fixture(scope="session")
def tokenizer(tiny: TinyModels):
    from alignlab.models.loading import load_tokenizer

    return load_tokenizer(tiny.policy_dir)


@pytest.fixture(scope="session")
def trained_bt(tiny: TinyModels, tmp_path_factory: pytest.TempPathFactory):
    """A Bradley-Terry model trained through the public API on the `keyword` set: (config, result)."""
    import torch

    from alignlab.algorithms.rm import train

    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("bt")
    config = make_config(tmp, tiny.policy_dir)
    return config, train(config, echo=lambda _line: None)
