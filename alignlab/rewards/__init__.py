"""Rewards for online RL: rule rewards by name, reward models scored exactly as in training, weighted sums.

    from alignlab.rewards import RULES, build_rewards
    rewards = build_rewards([{"rule": "sentiment"}, {"model": "runs/tiny_bt/model", "weight": 0.5}])
    result = rewards(prompts, completions, columns)      # RewardResult: total (N,), per reward, ensemble std

Every reward is `f(prompts, completions, **columns) -> list[float]` (TRL's reward-function signature):
prompts as the data gave them (a string or a list of messages), completions as decoded text, and the data's
other columns (e.g. `answer`) as keyword lists. `rules.py` holds the rule registry (keyword, sentiment, length,
exact_answer), `model.py` the reward-model reward, `combine.py` the weighted combination. Importing this
package imports no torch.
"""

from alignlab.rewards.combine import RewardResult, RewardSet, build_rewards
from alignlab.rewards.rules import RULES

__all__ = ["RULES", "RewardResult", "RewardSet", "build_rewards"]
