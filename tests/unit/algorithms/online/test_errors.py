"""Bad input to online RL: one-line errors before the run directory exists, or a stated re-tokenisation."""

from __future__ import annotations

import json

import pytest

from alignlab.algorithms.grpo import train_grpo
from alignlab.algorithms.ppo import train_ppo
from alignlab.errors import DataError, ModelLoadError
from tests.unit.algorithms.online.conftest import online_config


def _fails(tmp_path, call, error_type, needle):
    with pytest.raises(error_type) as err:
        call()
    message = str(err.value)
    assert needle in message and "\n" not in message
    assert not (tmp_path / "runs").exists()  # nothing written
    return message


@pytest.fixture(scope="module")
def other_rm(tmp_path_factory):
    """A reward model whose tokenizer is not the policy's (another vocabulary)."""
    from alignlab.models import build_tiny_models

    return build_tiny_models(tmp_path_factory.mktemp("other") / "tiny", size="nano", vocab_size=600, seed=1).reward_dir


def test_critic_from_a_reward_model_with_another_tokenizer_is_refused(tmp_path, policy, other_rm):
    config = online_config("ppo", tmp_path, policy, rewards=[{"model": str(other_rm)}], ppo={"value_model": "critic"})
    _fails(tmp_path, lambda: train_ppo(config, echo=lambda _: None), ModelLoadError,
           "tokenizer differs from the policy's")


def test_reward_model_with_another_tokenizer_is_retokenised(tmp_path, policy, other_rm):
    config = online_config("grpo", tmp_path, policy, rewards=[{"model": str(other_rm)}], train={"steps": 1})
    lines = []
    run = train_grpo(config, echo=lines.append)
    assert any("re-tokenised from text" in line for line in lines)
    assert run.summary()["steps"] == 1


def test_prompt_longer_than_the_limit_names_its_row(tmp_path, policy):
    data = tmp_path / "prompts.jsonl"
    data.write_text(json.dumps({"prompt": "short"}) + "\n" + json.dumps({"prompt": "tell me a story " * 30}) + "\n")
    config = online_config("grpo", tmp_path, policy, data={"path": str(data), "test_size": 0.0,
                                                           "max_prompt_length": 32})
    message = _fails(tmp_path, lambda: train_grpo(config, echo=lambda _: None), DataError, "longer than")
    assert message.startswith(f"{data}:2: prompt is ")
    dropped = online_config("grpo", tmp_path, policy, data={"path": str(data), "test_size": 0.0,
                                                            "max_prompt_length": 32, "long_prompts": "drop"},
                            train={"steps": 1})
    assert train_grpo(dropped, echo=lambda _: None).summary()["data"]["dropped"] == 1


def test_prompt_that_leaves_no_room_in_the_context(tmp_path, policy):
    config = online_config("grpo", tmp_path, policy, rollout={"max_new_tokens": 1020},
                           data={"max_prompt_length": 512})
    _fails(tmp_path, lambda: train_grpo(config, echo=lambda _: None), DataError,
           "the model's context 1024 minus rollout.max_new_tokens 1020")


def test_rows_without_a_prompt(tmp_path, policy):
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"question": "hi"}) + "\n")
    config = online_config("grpo", tmp_path, policy, data={"path": str(data)})
    _fails(tmp_path, lambda: train_grpo(config, echo=lambda _: None), DataError, f"{data}:1: prompt: missing")
