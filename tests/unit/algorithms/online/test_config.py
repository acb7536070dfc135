"""Online-RL configs: every check that fails before a model loads is one line naming the field."""

from __future__ import annotations

import pytest

from alignlab.config import load_config
from alignlab.config.online import GRPOConfig, PPOConfig, RLOOConfig
from alignlab.errors import ConfigError

BASE = """\
model: {name_or_path: nowhere}
data: {path: "synthetic:sentiment?n=20"}
rewards: [{rule: sentiment}]
"""


def _load(tmp_path, cls, extra: str):
    path = tmp_path / "c.yaml"
    path.write_text(BASE + extra)
    return load_config(path, cls)


def _error(tmp_path, cls, extra: str) -> str:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, cls, extra)
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("cls", "section"), [(GRPOConfig, "grpo"), (RLOOConfig, "rloo")])
def test_one_generation_per_prompt_is_refused(tmp_path, cls, section):
    message = _error(tmp_path, cls, f"{section}: {{num_generations: 1}}\n")
    assert f"{section}.num_generations" in message and "at least 2" in message


def test_other_mistakes(tmp_path):
    assert "Did you mean 'sentiment'" in _error(tmp_path, GRPOConfig, "rewards: [{rule: sentimnt}]\n")
    assert "exactly one of rule" in _error(tmp_path, GRPOConfig, "rewards: [{rule: keyword, model: m}]\n")
    assert "unknown rollout engine 'vlm'" in _error(tmp_path, GRPOConfig, "rollout: {engine: vlm}\n")
    assert "needs rollout.vllm.server_url" in _error(tmp_path, PPOConfig,
                                                     "rollout: {engine: vllm, vllm: {mode: server}}\n")
    assert "starts from a reward model" in _error(tmp_path, PPOConfig, "ppo: {value_model: critic}\n")
    assert "add an oracle" in _error(tmp_path, PPOConfig, "guards: {max_divergence: 1.0}\n")


def test_defaults_load(tmp_path):
    config = _load(tmp_path, PPOConfig, "")
    assert config.rollout.engine == "hf" and config.ppo.value_model == "head" and config.run.name == "ppo"


def test_unfinished_responses_earn_nothing_unless_configured(tmp_path):
    assert _load(tmp_path, GRPOConfig, "").rollout.unfinished_reward == 0.0
    opted_in = _load(tmp_path, GRPOConfig, "rollout:\n  unfinished_reward: null\n")
    assert opted_in.rollout.unfinished_reward is None
