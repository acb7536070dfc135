"""`alignlab train grpo`: group relative policy optimisation (Shao et al. 2024, DeepSeekMath), our own loop.

    from alignlab.algorithms.grpo import train_grpo
    run = train_grpo(load_config("configs/grpo/tiny.yaml", GRPOConfig))

Per round, each prompt is sampled `num_generations` times (G >= 2). The advantage of a response is its
reward's standing in its group, A_i = (r_i - mean) / (std + eps) (`alignlab.losses.ppo.group_advantages`;
`scale_rewards: false` centres only, Dr. GRPO). The loss per token is the clipped surrogate plus beta times the
k3 estimate of KL(pi || pi_ref), averaged per response then over responses (the paper), or over all tokens
(`loss_aggregation: token`, DAPO). With one epoch over one minibatch the old policy is the current one, so its
log-probs are the detached current ones and no extra forward pass is spent (as TRL does).

Why our own loop rather than TRL's GRPOTrainer: rewards go through `alignlab.rewards`, so a reward model scores a
completion in its training format with its eos (TRL 1.16's GRPO scores reward models without it), the
rollout engine is the shared one (hf or vllm, colocated or server), and PPO, GRPO and RLOO share one run
directory, resume, guards and metrics. `benchmarks/online_rl.py` compares it with TRL's GRPOTrainer.
"""

from __future__ import annotations

from typing import Any

from alignlab.algorithms.online.loop import Context, Echo, train_online
from alignlab.config.online import GRPOConfig
from alignlab.runs import Run


class GroupMethod:
    """Update rule shared by GRPO and RLOO: sequence-level advantages from groups of samples of one prompt."""

    name = "grpo"

    def __init__(self, num_generations: int, clip: float) -> None:
        self.num_generations = num_generations
        self.clip = clip

    def samples_per_prompt(self) -> int:
        return self.num_generations

    def build(self, config: Any, policy: Any, tokenizer: Any) -> Any:
        return policy

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None

    def advantages(self, ctx: Context, rollout: Any, sequence_kl: Any) -> Any:
        raise NotImplementedError

    def kl_in_loss(self) -> float:
        return 0.0

    def needs_reference(self) -> bool:
        return True

    def update(self, ctx: Context, rollout: Any) -> dict[str, float]:
        import torch

        from alignlab.algorithms.online.models import reference_logprobs, response_logits, token_logprobs
        from alignlab.algorithms.online.update import MinibatchStats

        train, temperature = ctx.config.train, ctx.config.rollout.temperature
        ids, attn, start, mask = rollout.input_ids, rollout.attention_mask, rollout.start, rollout.response_mask.float()
        size = train.minibatch_size
        one_pass = train.epochs == 1 and size >= len(rollout)
        with torch.no_grad():
            old = None
            if not one_pass:
                old = torch.cat([token_logprobs(response_logits(ctx.model, ids[b:b + size], attn[b:b + size], start),
                                                rollout.responses[b:b + size], temperature)
                                 for b in range(0, len(rollout), size)])
            ref = reference_logprobs(ctx.reference, ids, attn, start, temperature, size) \
                if self.needs_reference() else None
        stats = MinibatchStats()
        sequence_kl = None
        generator = torch.Generator().manual_seed(ctx.config.run.seed * 7919 + ctx.step)
        for _epoch in range(train.epochs):
            order = torch.randperm(len(rollout), generator=generator).tolist() if not one_pass else \
                list(range(len(rollout)))
            for begin in range(0, len(order), size):
                index = torch.tensor(order[begin:begin + size], device=ids.device)
                logprobs = token_logprobs(response_logits(ctx.model, ids[index], attn[index], start),
                                          rollout.responses[index], temperature)
                if sequence_kl is None:  # the advantages are fixed by the old policy's log-probs
                    base = old if old is not None else logprobs.detach()
                    sequence_kl = ((base - ref) * mask).sum(1) if ref is not None else torch.zeros_like(rollout.scores)
                    advantages = self.advantages(ctx, rollout, sequence_kl)
                old_mb = old[index] if old is not None else logprobs.detach()
                stats.add(**self._minibatch(ctx, logprobs, old_mb, advantages[index], mask[index],
                                            ref[index] if ref is not None else None))
        return {**stats.means(), "kl": float(sequence_kl.mean()), "advantage_abs": float(advantages.abs().mean())}

    def _minibatch(self, ctx: Context, logprobs: Any, old: Any, advantages: Any, mask: Any, ref: Any) -> dict:
        import torch

        from alignlab.algorithms.online.update import step_optimizer
        from alignlab.losses.ppo import clipped_surrogate, kl_penalty, masked_mean

        kl = kl_penalty(logprobs, ref, "k3") if ref is not None else torch.zeros_like(logprobs)
        section = getattr(ctx.config, "grpo", None)
        aggregation = "token" if section is not None and section.loss_aggregation == "token" else "sequence"
        loss, clipfrac = clipped_surrogate(logprobs, old, advantages, mask, clip=self.clip, aggregation=aggregation,
                                           penalty=self.kl_in_loss() * kl)
        step_optimizer(ctx, loss)
        return {"loss/policy": loss.item(), "clipfrac": clipfrac.item(), "kl_k3": masked_mean(kl.detach(), mask).item()}


class GRPOMethod(GroupMethod):
    name = "grpo"

    def __init__(self, config: GRPOConfig) -> None:
        super().__init__(config.grpo.num_generations, config.grpo.clip)
        self.section = config.grpo

    def needs_reference(self) -> bool:
        return True  # the KL to the reference is tracked (and budgeted) even with beta 0

    def kl_in_loss(self) -> float:
        return self.section.beta

    def advantages(self, ctx: Context, rollout: Any, sequence_kl: Any) -> Any:
        from alignlab.losses.ppo import group_advantages

        return group_advantages(rollout.scores, self.num_generations, scale=self.section.scale_rewards)


def train_grpo(config: GRPOConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Train a policy with GRPO as `config` says; returns the finished run."""
    return train_online(config, GRPOMethod(config), force=force, echo=echo)
