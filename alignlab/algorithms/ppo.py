"""`alignlab train ppo`: PPO with a learned value model, a frozen reference and a per-token KL penalty.

    from alignlab.algorithms.ppo import train_ppo
    from alignlab.config import load_config
    from alignlab.config.online import PPOConfig
    run = train_ppo(load_config("configs/ppo/tiny.yaml", PPOConfig))
    run.summary()["eval"]["eval/reward"]          # held-out reward after training

TRL 1.16 removed its PPOTrainer and value-head model, so this is ours: the RLHF recipe of Ziegler et al. 2019
and InstructGPT (Ouyang et al. 2022), in the form OpenRLHF and TRL's former PPOTrainer use. Per round
(`alignlab.algorithms.online.loop` runs the rounds):

1. old log-probs and values of the sampled responses under the current policy, reference log-probs;
2. per-token reward r_t = -beta * KL_t, plus the sequence score (reward model, ensemble mean, rules, or a
   weighted sum; `rollout.unfinished_reward` replaces it for responses without eos) on the last token;
   beta fixed, or adapted toward `ppo.kl_target` (AdaptiveKLController);
3. GAE advantages and returns (`alignlab.losses.ppo.gae`), advantages whitened;
4. `ppo.epochs` passes over shuffled minibatches: clipped policy loss + vf_coef * clipped value loss
   - entropy_coef * entropy, gradient clipping, one optimiser step per minibatch (the value model at its own
   learning rate when `ppo.critic_lr` is set).

The value model is a linear head on the policy's last hidden state (`value_model: head`), or a separate critic
started from the reward model (`value_model: critic`, InstructGPT's choice; it needs the policy's tokenizer).
"""

from __future__ import annotations

from typing import Any

from alignlab.algorithms.online.loop import Context, Echo, train_online
from alignlab.algorithms.online.update import MinibatchStats, step_optimizer
from alignlab.config.online import PPOConfig
from alignlab.runs import Run


class PPOMethod:
    name = "ppo"

    def __init__(self, config: PPOConfig) -> None:
        from alignlab.losses.ppo import AdaptiveKLController

        self.section = config.ppo
        self.kl = AdaptiveKLController(config.ppo.kl_coef, config.ppo.kl_target, config.ppo.kl_horizon)

    def samples_per_prompt(self) -> int:
        return 1

    def build(self, config: PPOConfig, policy: Any, tokenizer: Any) -> Any:
        from alignlab.algorithms.online.models import load_critic, make_actor_critic

        critic = None
        if self.section.value_model == "critic":
            path = self.section.critic_path or next(spec.model for spec in config.rewards if spec.model)
            critic = load_critic(path, tokenizer).to(policy.device)
        return make_actor_critic(policy, critic, config.run.seed)

    def param_groups(self, trainable: Any, lr: float) -> list[dict[str, Any]]:
        """Optimiser groups: the policy at `lr`, the value model (head or critic) at `ppo.critic_lr` (default lr)."""
        policy, value = [], []
        for name, param in trainable.named_parameters():
            if param.requires_grad:
                (policy if name.startswith("policy.") else value).append(param)
        return [{"params": policy, "lr": lr, "name": "policy"},
                {"params": value, "lr": self.section.critic_lr or lr, "name": "value"}]

    def state_dict(self) -> dict[str, Any]:
        return {"kl_coef": self.kl.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.kl.value = state.get("kl_coef", self.kl.value)

    def update(self, ctx: Context, rollout: Any) -> dict[str, float]:
        import torch

        from alignlab.algorithms.online.models import reference_logprobs, token_logprobs
        from alignlab.losses.ppo import gae, kl_penalty, masked_mean, token_rewards, whiten

        ppo, train, temperature = self.section, ctx.config.train, ctx.config.rollout.temperature
        ids, attn, mask, start = rollout.input_ids, rollout.attention_mask, rollout.response_mask.float(), rollout.start
        responses = rollout.responses
        size = train.minibatch_size
        with torch.no_grad():
            old_logprobs, old_values = [], []
            for begin in range(0, len(rollout), size):
                logits, values = ctx.model(ids[begin:begin + size], attn[begin:begin + size], start)
                old_logprobs.append(token_logprobs(logits, responses[begin:begin + size], temperature))
                old_values.append(values)
            old_logprobs, old_values = torch.cat(old_logprobs), torch.cat(old_values) * mask
            ref_logprobs = reference_logprobs(ctx.reference, ids, attn, start, temperature, size)
            kl = kl_penalty(old_logprobs, ref_logprobs, ppo.kl_estimator) * mask  # (B, R)
            scores = rollout.scores
            if ppo.whiten_rewards and len(scores) > 1:
                scores = whiten(scores[None], torch.ones_like(scores[None]), shift_mean=False)[0]
            rewards = token_rewards(scores, kl, mask, self.kl.value)
            advantages, returns = gae(rewards, old_values, mask, gamma=ppo.gamma, lam=ppo.lam)
            if ppo.whiten_advantages:
                advantages = whiten(advantages, mask)
        stats = MinibatchStats()
        generator = torch.Generator().manual_seed(ctx.config.run.seed * 7919 + ctx.step)
        for _epoch in range(train.epochs):
            order = torch.randperm(len(rollout), generator=generator).tolist()
            for begin in range(0, len(order), size):
                index = torch.tensor(order[begin:begin + size], device=ids.device)
                stats.add(**self._minibatch(ctx, rollout, index, old_logprobs, old_values, advantages, returns))
        sequence_kl = float(((old_logprobs - ref_logprobs) * mask).sum(1).mean())  # k1: the KL the penalty leashes
        coef = self.kl.value
        self.kl.update(sequence_kl, len(rollout))
        return {**stats.means(), "kl": sequence_kl, "kl_coef": coef,
                "kl_penalty": coef * float(kl.sum(1).mean()),
                "score": float(scores.mean()), "values": float(masked_mean(old_values, mask)),
                "returns": float(masked_mean(returns, mask))}

    def _minibatch(self, ctx: Context, rollout: Any, index: Any, old_logprobs: Any, old_values: Any,
                   advantages: Any, returns: Any) -> dict[str, float]:
        import torch

        from alignlab.algorithms.online.models import token_logprobs
        from alignlab.losses.ppo import entropy_from_logits, masked_mean, ppo_policy_loss, ppo_value_loss

        ppo = self.section
        mask = rollout.response_mask[index].float()
        logits, values = ctx.model(rollout.input_ids[index], rollout.attention_mask[index], rollout.start)
        logprobs = token_logprobs(logits, rollout.responses[index], ctx.config.rollout.temperature)
        policy_loss, clipfrac = ppo_policy_loss(logprobs, old_logprobs[index], advantages[index], mask, clip=ppo.clip)
        value_loss, value_clipfrac = ppo_value_loss(values, old_values[index], returns[index], mask,
                                                    clip=ppo.value_clip)
        entropy = masked_mean(entropy_from_logits(logits.float() / ctx.config.rollout.temperature), mask)
        loss = policy_loss + ppo.vf_coef * value_loss - ppo.entropy_coef * entropy
        step_optimizer(ctx, loss)
        with torch.no_grad():
            approx_kl = masked_mean(0.5 * (logprobs - old_logprobs[index]) ** 2, mask)
        return {"loss/policy": policy_loss.item(), "loss/value": value_loss.item(), "clipfrac": clipfrac.item(),
                "value_clipfrac": value_clipfrac.item(), "entropy": entropy.item(), "approx_kl": approx_kl.item()}


def train_ppo(config: PPOConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Train a policy with PPO as `config` says; returns the finished run."""
    return train_online(config, PPOMethod(config), force=force, echo=echo)
