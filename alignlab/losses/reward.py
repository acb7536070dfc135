"""Reward-model losses: Bradley-Terry pairwise (margin, per-example weight, reward centring) and
multi-attribute regression with an optional Bradley-Terry term on the weighted combination.

Pure functions: tensors in, a scalar loss (and its parts) out. Shapes: B pairs, N rated responses,
A attributes, P pairs among the N rated responses.

Bradley-Terry (Bradley & Terry 1952; InstructGPT, Ouyang et al. 2022, eq. 1), with the margin of Llama 2
(Touvron et al. 2023, eq. 2), per-example weights and the centring term of Eisenstein et al. 2023 (eq. 2):

    L_BT = 1/B sum_i  w_i * -log sigma(r_c,i - r_r,i - m_i)   +   eta * 1/B sum_i (r_c,i + r_r,i)^2

with m_i = 0 and w_i = 1 when absent this is exactly TRL's `RewardTrainer` loss. Weights are applied as
importance weights and the sum is divided by B, not by sum(w): a pair with weight 0.5 (e.g. annotators split
3 to 1) counts half as much as a unanimous one, and an all-ones batch matches the unweighted loss.

Multi-attribute regression (SteerLM, Dong et al. 2023; HelpSteer2, Wang et al. 2024): one output per
attribute, targets scaled to [-1, 1], mean squared error over responses and attributes, plus (lambda > 0)
a Bradley-Terry term on the scalar reward s = y_hat . w for pairs of responses to the same prompt whose
weighted target scores differ:

    L_MA = 1/(N A) sum_{n,a} (y_hat_n,a - y_n,a)^2   +   lambda * 1/P sum_p -log sigma(s_better,p - s_worse,p)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bradley_terry_losses(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor,
                         margin: torch.Tensor | None = None) -> torch.Tensor:
    """Per-pair -log sigma(r_c - r_r - m). Inputs (B,), output (B,)."""
    logits = chosen_rewards - rejected_rewards  # (B,)
    if margin is not None:
        logits = logits - margin.to(logits.dtype)
    return -F.logsigmoid(logits)


def bradley_terry_loss(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor, *,
                       margin: torch.Tensor | None = None, weight: torch.Tensor | None = None,
                       center_coefficient: float | None = None) -> torch.Tensor:
    """L_BT above: mean of weighted per-pair losses plus eta * mean((r_c + r_r)^2). Inputs (B,), output ()."""
    losses = bradley_terry_losses(chosen_rewards, rejected_rewards, margin)  # (B,)
    if weight is not None:
        losses = losses * weight.to(losses.dtype)
    loss = losses.mean()
    if center_coefficient:
        loss = loss + center_coefficient * torch.mean((chosen_rewards + rejected_rewards) ** 2)
    return loss


def combined_reward(attribute_outputs: torch.Tensor, attribute_weights: torch.Tensor) -> torch.Tensor:
    """Scalar reward s = y_hat . w from per-attribute outputs. (N, A) x (A,) -> (N,)."""
    return attribute_outputs @ attribute_weights.to(attribute_outputs.dtype)


def attribute_regression_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over responses and attributes. (N, A), (N, A) -> ()."""
    return F.mse_loss(predicted, target.to(predicted.dtype))


def multi_attribute_loss(predicted: torch.Tensor, target: torch.Tensor, attribute_weights: torch.Tensor,
                         better_index: torch.Tensor | None = None, worse_index: torch.Tensor | None = None,
                         bt_coefficient: float = 0.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """L_MA above. predicted, target (N, A); attribute_weights (A,); better/worse_index (P,) row indices.

    Returns the loss and its parts `{"mse", "bt"}` (bt is 0 without pairs or with lambda = 0).
    """
    mse = attribute_regression_loss(predicted, target)
    bt = predicted.new_zeros(())
    if bt_coefficient and better_index is not None and worse_index is not None and better_index.numel():
        scores = combined_reward(predicted, attribute_weights)  # (N,)
        bt = bradley_terry_losses(scores[better_index], scores[worse_index]).mean()
    return mse + bt_coefficient * bt, {"mse": mse.detach(), "bt": bt.detach()}

