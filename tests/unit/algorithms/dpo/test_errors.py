"""Bad input to `train_dpo` / `train_kto`: one-line errors, raised before the run directory exists."""

from __future__ import annotations

import json

import pytest
import torch

from alignlab.algorithms.dpo import train_dpo
from alignlab.algorithms.kto import train_kto
from alignlab.backends.train.refcache import CacheKey, RefCacheMismatch, save_cache
from alignlab.errors import AlignlabError, DataError, ModelLoadError
from tests.unit.algorithms.dpo.conftest import dpo_config, kto_config


def _fails(tmp_path, call, error_type, needle):
    with pytest.raises(error_type) as err:
        call()
    message = str(err.value)
    assert needle in message and "\n" not in message
    assert not (tmp_path / "runs" / "dpo").exists() and not (tmp_path / "runs" / "kto").exists()  # nothing written
    return message


def test_unpaired_data_given_to_dpo(tmp_path, policy):
    data = tmp_path / "thumbs.jsonl"
    data.write_text(json.dumps({"prompt": "p", "completion": "c", "label": True}) + "\n")
    config = dpo_config(tmp_path, policy, data={"path": str(data)})
    _fails(tmp_path, lambda: train_dpo(config, echo=lambda _: None), DataError, "`alignlab train kto`")


def test_paired_data_given_to_kto_without_the_flag(tmp_path, policy):
    # data.format says unpaired (KTO's default) but the synthetic set is pairs: named at read time.
    config = kto_config(tmp_path, policy, data={"path": "synthetic:sentiment?n=40&seed=0"})
    _fails(tmp_path, lambda: train_kto(config, echo=lambda _: None), DataError, "set data.unpair: true")


def test_prompt_longer_than_max_length(tmp_path, policy):
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps({"prompt": "tell me a story " * 40, "chosen": "yes", "rejected": "no"}) + "\n")
    config = dpo_config(tmp_path, policy, data={"path": str(data), "test_size": 0.0, "max_length": 32})
    message = _fails(tmp_path, lambda: train_dpo(config, echo=lambda _: None), DataError, "the prompt alone has")
    assert message.startswith(f"{data}:1: ")


def test_reference_with_another_tokenizer(tmp_path, policy):
    from alignlab.models import build_tiny_models

    other = build_tiny_models(tmp_path / "other", size="nano", vocab_size=600, seed=1)
    config = dpo_config(tmp_path, policy, reference={"model": str(other.policy_dir)})
    _fails(tmp_path, lambda: train_dpo(config, echo=lambda _: None), ModelLoadError,
           "its tokenizer differs from the policy's")


def test_cache_file_from_another_model(tmp_path, policy):
    pinned = tmp_path / "pinned.safetensors"
    key = CacheKey("dpo", "0" * 64, "1" * 64, "2" * 64, 96, "chat/truncate_response")
    save_cache(pinned, key, {"train/ref_chosen_logps": torch.zeros(1)})
    config = dpo_config(tmp_path, policy, reference={"cache_file": str(pinned)})
    _fails(tmp_path, lambda: train_dpo(config, echo=lambda _: None), RefCacheMismatch,
           "reference log-probs computed for another reference model")


def test_weighting_by_a_field_the_data_lacks(tmp_path, policy):
    config = dpo_config(tmp_path, policy, data={"weighting": {"source": "agreement"}})
    _fails(tmp_path, lambda: train_dpo(config, echo=lambda _: None), AlignlabError, "no training record has")
