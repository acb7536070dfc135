"""Loading tokenizers and models from folders or hub ids, and the one-line errors users see instead."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
import torch

from alignlab.errors import ConfigError, ModelLoadError
from alignlab.models import load_causal_lm, load_model_config, load_reward_model, load_tokenizer
from alignlab.models.loading import is_hub_id


def _one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_loads_the_tiny_policy_reward_and_tokenizer(tiny_models):
    tokenizer = load_tokenizer(tiny_models.policy_dir)
    assert tokenizer.pad_token == "<|pad|>"
    policy = load_causal_lm(tiny_models.policy_dir)
    assert type(policy).__name__ == "LlamaForCausalLM"
    reward = load_reward_model(tiny_models.reward_dir)
    assert reward.config.num_labels == 1 and reward.config.pad_token_id == tokenizer.pad_token_id


def test_dtype_option(tiny_models):
    policy = load_causal_lm(tiny_models.policy_dir, dtype="bfloat16")
    assert next(policy.parameters()).dtype == torch.bfloat16
    with pytest.raises(ConfigError, match="expected one of auto, float32, bfloat16, float16"):
        load_causal_lm(tiny_models.policy_dir, dtype="fp8")


def test_reward_model_from_a_causal_lm_gets_a_seeded_head_and_a_pad_id(tiny_models, tmp_path):
    folder = tmp_path / "policy_without_pad"
    shutil.copytree(tiny_models.policy_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config["pad_token_id"] = None
    (folder / "config.json").write_text(json.dumps(config))

    first = load_reward_model(folder, seed=3)
    second = load_reward_model(folder, seed=3)
    assert first.config.num_labels == 1
    assert first.config.pad_token_id == 2  # taken from the tokenizer saved beside the model
    assert torch.equal(first.score.weight, second.score.weight)
    assert load_reward_model(folder, pad_token_id=1).config.pad_token_id == 1


def test_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError) as excinfo:
        load_causal_lm(tmp_path / "missing")
    assert _one_line(excinfo).startswith(f"no such folder: {tmp_path / 'missing'}")


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "README.md").write_text("hello")
    with pytest.raises(ModelLoadError) as excinfo:
        load_causal_lm(tmp_path)
    assert "no config.json here (not a transformers model folder)" in _one_line(excinfo)
    with pytest.raises(ModelLoadError, match="no tokenizer files here"):
        load_tokenizer(tmp_path)
    with pytest.raises(ModelLoadError, match="is a file, not a model folder"):
        load_model_config(tmp_path / "README.md")


def test_tiny_output_root_points_to_its_model_folders(tiny_models):
    with pytest.raises(ModelLoadError, match="it holds tiny models: pass .*policy or .*reward"):
        load_reward_model(tiny_models.out_dir)


def test_hub_id_when_offline_and_not_cached():
    from huggingface_hub import is_offline_mode

    if not is_offline_mode():
        pytest.skip("needs HF_HUB_OFFLINE=1 (tests/conftest.py sets it unless the environment overrides it)")
    for load in (load_tokenizer, load_causal_lm, load_reward_model, load_model_config):
        with pytest.raises(ModelLoadError) as excinfo:
            load("alignlab-tests/no-such-model")
        assert _one_line(excinfo) == (
            "'alignlab-tests/no-such-model' is not a local folder and the hub is offline (HF_HUB_OFFLINE=1) "
            "and it is not in the cache; pass a local path or build one with `alignlab models tiny OUT`"
        )


def test_pickle_only_folder_is_refused_without_reading_it(tiny_models, tmp_path):
    shutil.copy(tiny_models.policy_dir / "config.json", tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not even a pickle: must never be opened")
    for load in (load_causal_lm, load_reward_model):
        with pytest.raises(ModelLoadError) as excinfo:
            load(tmp_path)
        message = _one_line(excinfo)
        assert "only PyTorch pickle weights (pytorch_model.bin)" in message and "safetensors only" in message


def test_config_without_weights(tiny_models, tmp_path):
    shutil.copy(tiny_models.policy_dir / "config.json", tmp_path / "config.json")
    with pytest.raises(ModelLoadError, match="config.json but no model weights"):
        load_causal_lm(tmp_path)
    assert load_model_config(tmp_path).model_type == "llama"  # the config alone is fine


def test_corrupt_weights_are_one_line(tiny_models, tmp_path):
    folder = tmp_path / "corrupt"
    shutil.copytree(tiny_models.policy_dir, folder)
    (folder / "model.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(ModelLoadError) as excinfo:
        load_causal_lm(folder)
    assert _one_line(excinfo).startswith(f"{folder}: cannot load the model weights: ")


def test_tokenizer_without_pad_uses_eos_with_a_note(tiny_models, tmp_path, caplog):
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        shutil.copy(tiny_models.policy_dir / name, tmp_path / name)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    del config["pad_token"]
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))

    with caplog.at_level(logging.WARNING, logger="alignlab.models.loading"):
        tokenizer = load_tokenizer(tmp_path)
    assert tokenizer.pad_token == tokenizer.eos_token == "<|eos|>"
    assert "no pad token; using eos '<|eos|>' as pad" in caplog.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [("gpt2", True), ("Qwen/Qwen3-0.6B", True), ("runs/x/policy", False), ("./model", False), ("/abs", False)],
)
def test_hub_id_shape(name, expected):
    assert is_hub_id(name) is expected
