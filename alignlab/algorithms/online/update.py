"""What every online method's update shares: one optimiser step, and the running means of minibatch statistics.

PPO (`alignlab.algorithms.ppo`) and the group methods GRPO/RLOO (`alignlab.algorithms.grpo`) both step through
`step_optimizer` (accelerate's backward, so gradients sync across processes) and report their minibatch losses
and clip fractions through `MinibatchStats`; the losses themselves are pure functions in `alignlab.losses.ppo`.
"""

from __future__ import annotations

from typing import Any


def step_optimizer(ctx: Any, loss: Any) -> None:
    """Backward, clip, step, zero: one optimiser step (through accelerate, so gradients sync across processes)."""
    ctx.accelerator.backward(loss)
    if ctx.config.train.max_grad_norm is not None:
        ctx.accelerator.clip_grad_norm_(ctx.model.parameters(), ctx.config.train.max_grad_norm)
    ctx.optimizer.step()
    ctx.optimizer.zero_grad(set_to_none=True)


class MinibatchStats:
    """Running means of the floats each minibatch reports (losses, clip fraction, KL)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, **values: float) -> None:
        self.count += 1
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value

    def means(self) -> dict[str, float]:
        return {key: value / max(self.count, 1) for key, value in self.sums.items()}
