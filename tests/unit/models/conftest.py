"""One `nano` tiny model build per test session, shared by the model tests (about a second on 2 cores)."""

from __future__ import annotations

import pytest

from alignlab.models.tiny import TinyModels, build_tiny_models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return build_tiny_models(tmp_path_factory.mktemp("tiny") / "nano", size="nano", seed=0)


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_models: TinyModels):
    """The saved tokenizer as any transformers user would load it."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_models.policy_dir)
