"""PPO-family losses and estimators: pure functions, tensors in and tensors out.

    from alignlab.losses.ppo import gae, kl_penalty, ppo_policy_loss, ppo_value_loss, whiten
    advantages, returns = gae(rewards, values, mask, gamma=1.0, lam=0.95)        # (B, T) each
    loss, clipfrac = ppo_policy_loss(logprobs, old_logprobs, advantages, mask, clip=0.2)

Shapes: B sequences, T response tokens; `mask` (B, T) is 1 on real response tokens, 0 on padding (a response
is a prefix of its row: padding only follows it). Means over masked tokens are `masked_mean`.

Sources: PPO (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), GAE (Schulman et al. 2016,
"High-Dimensional Continuous Control Using Generalized Advantage Estimation"), the RLHF recipe with a per-token
KL penalty (Ziegler et al. 2019; Ouyang et al. 2022), KL estimators k1/k2/k3 (Schulman 2020, "Approximating KL
Divergence"), GRPO's group-normalised advantage (Shao et al. 2024, DeepSeekMath), RLOO's leave-one-out baseline
(Ahmadian et al. 2024, "Back to Basics"). The same equations as OpenRLHF's `models/loss.py` and torchtune's
`rlhf/loss/ppo.py`, which is what the tests check by hand.
"""

from __future__ import annotations

from typing import Literal

import torch

KLEstimator = Literal["k1", "k2", "k3"]


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """sum(values * mask) / sum(mask), over `dim` or everything; an all-zero mask gives 0, not NaN."""
    mask = mask.to(values.dtype)
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1.0)
    return (values * mask).sum(dim) / mask.sum(dim).clamp(min=1.0)


def whiten(values: torch.Tensor, mask: torch.Tensor, *, shift_mean: bool = True, eps: float = 1e-8) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps) over the masked entries (the unbiased variance); padding stays 0.

    `shift_mean=False` only rescales (used for rewards, whose sign carries meaning: Ziegler et al. 2019)."""
    mean = masked_mean(values, mask)
    count = mask.sum().clamp(min=2.0)
    variance = masked_mean((values - mean) ** 2, mask) * count / (count - 1)
    out = (values - mean) * torch.rsqrt(variance + eps)
    if not shift_mean:
        out = out + mean
    return out * mask.to(values.dtype)


def kl_penalty(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, estimator: KLEstimator = "k1") -> torch.Tensor:
    """Per-token estimate of KL(pi || pi_ref) from the log-probs of tokens sampled from pi. With r = pi_ref / pi:

        k1 = log pi - log pi_ref = -log r           unbiased, can be negative per token
        k2 = (log r)^2 / 2                           biased, low variance, >= 0
        k3 = (r - 1) - log r                         unbiased, >= 0 (GRPO's estimator)

    (B, T) in, (B, T) out; mask the padding afterwards."""
    log_ratio = ref_logprobs - logprobs  # log r
    if estimator == "k1":
        return -log_ratio
    if estimator == "k2":
        return 0.5 * log_ratio ** 2
    if estimator == "k3":
        log_ratio = log_ratio.clamp(-20.0, 20.0)  # exp overflows before a real policy gets there
        return torch.exp(log_ratio) - 1.0 - log_ratio
    raise ValueError(f"unknown KL estimator {estimator!r}; choose k1, k2 or k3")


def token_rewards(scores: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor, kl_coef: float) -> torch.Tensor:
    """The RLHF per-token reward (Ziegler et al. 2019, eq. 2): r_t = -beta * KL_t, plus the sequence score
    on the last response token. scores (B,), kl and mask (B, T) -> (B, T)."""
    rewards = -kl_coef * kl * mask
    last = (mask.sum(dim=1).long() - 1).clamp(min=0)  # (B,) index of each response's last token
    rewards[torch.arange(len(scores)), last] += scores.to(rewards.dtype)
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, *, gamma: float = 1.0,
        lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016, eq. 16), backwards over the T response tokens:

        delta_t = r_t + gamma * V_{t+1} - V_t          (V after the last real token is 0: the episode ended)
        A_t     = delta_t + gamma * lam * A_{t+1}
        returns_t = A_t + V_t                           (the value target)

    rewards, values, mask (B, T) -> (advantages, returns), each (B, T), zero on padding."""
    mask = mask.to(values.dtype)
    values = values * mask
    rewards = rewards * mask
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[:, 0])
    width = values.shape[1]
    for t in reversed(range(width)):
        next_value = values[:, t + 1] if t + 1 < width else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    returns = (advantages + values) * mask
    return advantages, returns


Aggregation = Literal["token", "sequence"]


def clipped_surrogate(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                      mask: torch.Tensor, *, clip: float = 0.2, aggregation: Aggregation = "token",
                      penalty: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The clipped surrogate PPO, GRPO and RLOO minimise (Schulman et al. 2017, eq. 7; Shao et al. 2024, eq. 3):

        rho_t = exp(log pi(a_t) - log pi_old(a_t))
        l_t   = -min(rho_t * A_t, clip(rho_t, 1 - eps, 1 + eps) * A_t)  (+ penalty_t, e.g. beta * KL_t for GRPO)

    `aggregation`: "token" averages l_t over every real token of the batch (PPO; DAPO's token-level loss; TRL's
    `bnpo`); "sequence" averages over each response's tokens, then over responses (GRPO as published; TRL's
    `grpo`). `advantages`: (B, T) per token, or (B,) per response (broadcast over its tokens).

    (B, T) inputs -> (loss, clip fraction): the clip fraction is the share of real tokens where the clipped term
    bound, i.e. where the update got no gradient from that token (TRL's `clip_ratio/region_mean`), the same
    definition for every method that uses this function."""
    if advantages.dim() == 1:
        advantages = advantages[:, None]
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    per_token = torch.maximum(unclipped, clipped)
    if penalty is not None:
        per_token = per_token + penalty
    if aggregation == "token":
        loss = masked_mean(per_token, mask)
    elif aggregation == "sequence":
        loss = masked_mean(per_token, mask, dim=1).mean()
    else:
        raise ValueError(f"aggregation must be 'token' or 'sequence', not {aggregation!r}")
    clip_fraction = masked_mean((clipped > unclipped).to(logprobs.dtype), mask)
    return loss, clip_fraction.detach()


def ppo_policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                    mask: torch.Tensor, *, clip: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's policy loss: the clipped surrogate averaged over tokens (`clipped_surrogate`, token aggregation).

    (B, T) inputs -> (loss: the masked token mean, clip fraction: the share of tokens where clipping bound)."""
    return clipped_surrogate(logprobs, old_logprobs, advantages, mask, clip=clip, aggregation="token")


def ppo_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                   *, clip: float | None = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Clipped value loss (the PPO2 baselines form; OpenRLHF's ValueLoss):

        V_clip = V_old + clip(V - V_old, -eps, eps)
        L = 1/2 * E_t[ max((V - R)^2, (V_clip - R)^2) ]       (clip=None: 1/2 * E_t[(V - R)^2])

    (B, T) inputs -> (loss, clip fraction)."""
    unclipped = (values - returns) ** 2
    if clip is None:
        return 0.5 * masked_mean(unclipped, mask), torch.zeros((), dtype=values.dtype)
    clipped_values = old_values + torch.clamp(values - old_values, -clip, clip)
    clipped = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped, clipped), mask)
    return loss, masked_mean((clipped > unclipped).to(values.dtype), mask).detach()


def group_advantages(scores: torch.Tensor, group_size: int, *, scale: bool = True,
                     eps: float = 1e-4) -> torch.Tensor:
    """GRPO's outcome advantage (Shao et al. 2024, eq. 3 of section 4.1.2): within each group of G samples of
    one prompt, A_i = (r_i - mean(r)) / (std(r) + eps); `scale=False` keeps only the centring (Dr. GRPO, Liu et
    al. 2025). scores (B,) prompt-major, B = prompts * G -> (B,)."""
    grouped = scores.view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale:
        centred = centred / (grouped.std(dim=1, keepdim=True) + eps)
    return centred.reshape(-1)


def rloo_advantages(scores: torch.Tensor, group_size: int) -> torch.Tensor:
    """RLOO's leave-one-out baseline (Ahmadian et al. 2024, eq. 6): A_i = r_i - 1/(k-1) * sum_{j != i} r_j,
    which equals k/(k-1) * (r_i - mean(r)). scores (B,) prompt-major, B = prompts * k -> (B,)."""
    if group_size < 2:
        raise ValueError("the leave-one-out baseline needs at least 2 samples per prompt")
    grouped = scores.view(-1, group_size)
    baseline = (grouped.sum(dim=1, keepdim=True) - grouped) / (group_size - 1)
    return (grouped - baseline).reshape(-1)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Per-position entropy H = logsumexp(z) - sum softmax(z) * z. (B, T, V) -> (B, T)."""
    probabilities = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (probabilities * logits).sum(dim=-1)


class AdaptiveKLController:
    """Ziegler et al. 2019 (section 2.2): beta <- beta * (1 + K_beta * e), e = clip(KL / KL_target - 1, -0.2, 0.2),
    K_beta = steps / horizon. `target=None` keeps beta fixed."""

    def __init__(self, init: float, target: float | None = None, horizon: int = 10000) -> None:
        self.value = init
        self.target = target
        self.horizon = horizon

    def update(self, kl: float, steps: int) -> float:
        if self.target is not None:
            error = min(max(kl / self.target - 1.0, -0.2), 0.2)
            self.value *= 1.0 + error * steps / self.horizon
        return self.value
