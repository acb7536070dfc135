"""`alignlab train rloo`: REINFORCE leave-one-out (Ahmadian et al. 2024, "Back to Basics"), our own loop.

    from alignlab.algorithms.rloo import train_rloo
    run = train_rloo(load_config("configs/rloo/tiny.yaml", RLOOConfig))

Each prompt is sampled k = `num_generations` >= 2 times; the sequence reward is the score minus beta times the
sequence KL to the reference (k1 summed over tokens, as in the paper and TRL's RLOOTrainer), and each sample's
baseline is the mean reward of the other k - 1 (`alignlab.losses.ppo.rloo_advantages`). The update is the same
clipped token-level surrogate GRPO uses (`alignlab.algorithms.grpo.GroupMethod`), with no KL term in the loss.
"""

from __future__ import annotations

from typing import Any

from alignlab.algorithms.grpo import GroupMethod
from alignlab.algorithms.online.loop import Context, Echo, train_online
from alignlab.config.online import RLOOConfig
from alignlab.runs import Run


class RLOOMethod(GroupMethod):
    name = "rloo"

    def __init__(self, config: RLOOConfig) -> None:
        super().__init__(config.rloo.num_generations, config.rloo.clip)
        self.section = config.rloo

    def advantages(self, ctx: Context, rollout: Any, sequence_kl: Any) -> Any:
        from alignlab.losses.ppo import rloo_advantages

        return rloo_advantages(rollout.scores - self.section.kl_coef * sequence_kl, self.num_generations)


def train_rloo(config: RLOOConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Train a policy with RLOO as `config` says; returns the finished run."""
    return train_online(config, RLOOMethod(config), force=force, echo=echo)
