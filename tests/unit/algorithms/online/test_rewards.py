"""Rule rewards by hand, weighted combinations, and reward models scored exactly as in their training."""

from __future__ import annotations

import pytest

from alignlab.errors import ConfigError
from alignlab.rewards import RULES, build_rewards
from alignlab.rewards.rules import make_rule


def test_rules_by_hand():
    prompts = ["p", "p", "p"]
    assert make_rule("keyword", {}, "r")(prompts, ["yes please", "Please!", "no"]) == [1.0, 1.0, 0.0]
    # happy, good: +2; sad: -1 -> 1; clip 1 caps "happy good nice" at 1
    assert make_rule("sentiment", {}, "r")(prompts, ["happy good sad", "bad mad", ""]) == [1.0, -2.0, 0.0]
    assert make_rule("sentiment", {"clip": 1}, "r")(["p"], ["happy good nice"]) == [1.0]
    assert make_rule("length", {"target": 4}, "r")(["p", "p"], ["a b c d", "a b"]) == [0.0, -0.5]
    exact = make_rule("exact_answer", {}, "r")
    assert exact(["p", "p"], [" 42 ", "41"], answer=[42, "42"]) == [1.0, 0.0]
    assert make_rule("exact_answer", {"contains": True}, "r")(["p"], ["it is 42."], answer=["42"]) == [1.0]
    assert set(RULES.names()) >= {"keyword", "sentiment", "length", "exact_answer"}


def test_rule_errors_are_one_line():
    with pytest.raises(ConfigError, match=r"rewards\[0\]: rule keyword has no argument 'word'"):
        build_rewards([{"rule": "keyword", "args": {"word": "x"}}])
    with pytest.raises(Exception, match="Did you mean 'sentiment'"):
        build_rewards([{"rule": "sentimen"}])
    with pytest.raises(ConfigError, match="needs an `answer` column"):
        make_rule("exact_answer", {}, "r")(["p"], ["x"])
    with pytest.raises(ConfigError, match="named 'keyword'"):
        build_rewards([{"rule": "keyword"}, {"rule": "keyword", "weight": 2}])


def test_weighted_combination_keeps_components():
    rewards = build_rewards([{"rule": "sentiment", "weight": 2.0}, {"rule": "keyword", "weight": -1.0}])
    result = rewards(["p", "p"], ["happy please", "sad"])
    assert result.components["sentiment"].tolist() == [1.0, -1.0]
    assert result.components["keyword"].tolist() == [1.0, 0.0]
    assert result.total.tolist() == [2.0 * 1 - 1.0, 2.0 * -1 - 0.0]
    assert result.ensemble_std is None


def test_reward_model_scores_with_the_training_format_including_eos(reward_folder, tokenizer):
    import numpy as np

    from alignlab.models.reward import RewardModel, raw_outputs

    rewards = build_rewards([{"model": str(reward_folder), "name": "rm"}])
    prompts = [[{"role": "user", "content": "Tell me a story."}], "Write about a dog."]
    completions = ["Tom saw the big dog.", "Mia had a red ball."]
    got = rewards(prompts, completions).components["rm"]
    model = RewardModel.load(reward_folder)
    ids = model.encode(prompts, completions)
    assert all(row[-1] == tokenizer.eos_token_id for row in ids)  # the eos the reward trainer appended
    expected = raw_outputs(model.members[0], ids, tokenizer.pad_token_id, 8)[:, 0]
    assert np.allclose(got, expected, atol=1e-5)
    # TRL's GRPO scores the bare text: without the eos the score differs, which is the hole this closes
    bare = [row[:-1] for row in ids]
    assert not np.allclose(raw_outputs(model.members[0], bare, tokenizer.pad_token_id, 8)[:, 0], got, atol=1e-4)
