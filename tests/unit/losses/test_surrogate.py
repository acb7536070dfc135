"""The one clipped surrogate of PPO, GRPO and RLOO: by hand, and against TRL's GRPO loss on the same tensors."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from alignlab.losses.ppo import clipped_surrogate, kl_penalty, ppo_policy_loss


def _tensors():
    logprobs = torch.tensor([[-1.0, -0.5, -2.0], [-0.2, -1.5, 0.0]])
    old = torch.tensor([[-1.1, -0.9, -2.0], [-0.2, -1.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    advantages = torch.tensor([1.0, -2.0])
    return logprobs, old, advantages, mask


def test_token_and_sequence_aggregation_by_hand():
    logprobs, old, advantages, mask = _tensors()
    clip = 0.2
    per_token = []
    bound = []
    for row in range(2):
        values, flags = [], []
        for t in range(3):
            ratio = math.exp(logprobs[row, t] - old[row, t])
            a = float(advantages[row])
            unclipped, clipped = -a * ratio, -a * min(max(ratio, 1 - clip), 1 + clip)
            values.append(max(unclipped, clipped))
            flags.append(clipped > unclipped)
        per_token.append(values)
        bound.append(flags)
    real = [(r, t) for r in range(2) for t in range(3) if mask[r, t] > 0]
    token_mean = sum(per_token[r][t] for r, t in real) / len(real)
    sequence_mean = (sum(per_token[0]) / 3 + sum(per_token[1][:2]) / 2) / 2
    clipfrac = sum(bound[r][t] for r, t in real) / len(real)

    loss, fraction = clipped_surrogate(logprobs, old, advantages, mask, clip=clip, aggregation="token")
    assert loss.item() == pytest.approx(token_mean, rel=1e-6)
    assert fraction.item() == pytest.approx(clipfrac)
    loss, _ = clipped_surrogate(logprobs, old, advantages, mask, clip=clip, aggregation="sequence")
    assert loss.item() == pytest.approx(sequence_mean, rel=1e-6)
    # Row 0, token 1: ratio e^0.4 = 1.49 > 1.2 with a positive advantage: clipping bound there.
    assert bound[0][1] and fraction.item() > 0


def test_ppo_policy_loss_is_the_token_aggregated_surrogate_with_per_token_advantages():
    logprobs, old, advantages, mask = _tensors()
    per_token_advantages = advantages[:, None].expand_as(logprobs)
    assert torch.allclose(ppo_policy_loss(logprobs, old, per_token_advantages, mask)[0],
                          clipped_surrogate(logprobs, old, advantages, mask, aggregation="token")[0])


def test_unknown_aggregation_is_refused():
    logprobs, old, advantages, mask = _tensors()
    with pytest.raises(ValueError, match="aggregation"):
        clipped_surrogate(logprobs, old, advantages, mask, aggregation="batch")


class _NoAccelerator:
    """Stand-in for accelerate in TRL's loss (one process: gather is the identity). Named as such: TRL's
    `_compute_loss` is a trainer method, and this lets it run on our tensors without building a trainer."""

    @staticmethod
    def gather(tensor):
        return tensor

    @staticmethod
    def reduce(tensor, reduction="sum"):
        return tensor


@pytest.mark.parametrize(("loss_type", "aggregation"), [("grpo", "sequence"), ("bnpo", "token")])
def test_matches_trl_grpo_loss_on_the_same_tensors(loss_type, aggregation):
    from trl import GRPOTrainer

    torch.manual_seed(0)
    batch, length, beta, clip = 4, 5, 0.04, 0.2
    logprobs = (-torch.rand(batch, length) * 3).requires_grad_()
    old = logprobs.detach() + 0.3 * torch.randn(batch, length)
    ref = logprobs.detach() + 0.2 * torch.randn(batch, length)
    mask = torch.ones(batch, length)
    mask[1, 3:] = 0
    mask[2, 4:] = 0
    advantages = torch.randn(batch)

    trainer = SimpleNamespace(
        _get_per_token_logps_and_entropies=lambda *args, **kwargs: (logprobs, torch.zeros(batch, length), None),
        aux_loss_enabled=False, top_entropy_quantile=1.0, off_policy_mask_threshold=None,
        importance_sampling_level="token", beta=beta, loss_type=loss_type, epsilon_low=clip, epsilon_high=clip,
        args=SimpleNamespace(delta=None, use_bias_correction_kl=False), use_vllm=False,
        model=SimpleNamespace(training=True), current_gradient_accumulation_steps=1, _entropy_bonus_enabled=False,
        accelerator=_NoAccelerator(), _metrics={"train": defaultdict(list)}, use_adaptive_entropy=False)
    inputs = {"prompt_ids": torch.zeros(batch, 1, dtype=torch.long), "prompt_mask": torch.ones(batch, 1),
              "completion_ids": torch.zeros(batch, length, dtype=torch.long), "completion_mask": mask,
              "advantages": advantages, "old_per_token_logps": old, "ref_per_token_logps": ref}
    trl_loss = GRPOTrainer._compute_loss(trainer, None, inputs)

    ours, _ = clipped_surrogate(logprobs, old, advantages, mask, clip=clip, aggregation=aggregation,
                                penalty=beta * kl_penalty(logprobs, ref, "k3"))
    assert ours.item() == pytest.approx(trl_loss.item(), rel=1e-5, abs=1e-7)
