"""A reward model as a reward: `alignlab rm train` output scored exactly as in its training.

Scoring goes through `RewardModel.score`, i.e. the model's stored input format (`alignlab.models.reward.
InputFormat`): the same chat template or plain text, with the eos token the reward trainer appended, and left
truncation that keeps the end of the response. Completions arrive as text and are re-tokenised with the reward
model's own tokenizer, so a reward model whose tokenizer differs from the policy's still scores correctly (a
critic initialised from it cannot: `alignlab.algorithms.online.models` refuses that case). TRL's GRPO scores
a reward model on the completion text without the eos its RewardTrainer appended in training: this class is
the fix, because the eos is part of the stored format, not of the completion.

An ensemble folder gives the member spread (`last_std`), which the disagreement guard reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class ModelReward:
    """`f(prompts, completions, **_) -> list[float]` over a reward-model folder; keeps the last ensemble std."""

    def __init__(self, path: str, *, batch_size: int = 16, device: str | None = None) -> None:
        from alignlab.models.reward import RewardModel, check_reward_folder

        check_reward_folder(path)
        self.model = RewardModel.load(path, device=device)
        self.path = path
        self.batch_size = batch_size
        self.last_std: np.ndarray | None = None
        self.__name__ = f"model:{path}"

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def is_ensemble(self) -> bool:
        return len(self.model.members) > 1

    def __call__(self, prompts: Sequence[Any], completions: Sequence[str], **_: Any) -> list[float]:
        scores = self.model.score(list(prompts), list(completions), batch_size=self.batch_size)
        self.last_std = scores.std
        return scores.reward.tolist()
