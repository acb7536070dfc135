"""The models of an online run: policy, frozen reference, value head or critic, and their token log-probs.

Sequences are laid out as [left-padded prompt | right-padded response]: `input_ids` (B, P + R), the response
at columns P..P+R-1, `response_mask` (B, R). Position ids come from the attention mask (as in `generate`), so
a left-padded prompt gets the same positions, and the same log-probs, as during sampling.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from alignlab.errors import ModelLoadError


def load_policy(config: Any, records: list[dict]) -> tuple[Any, Any]:
    """(policy, tokenizer); a tiny starting policy is built first when `tiny_policy` asks and none exists."""
    from alignlab.models import load_causal_lm, load_tokenizer

    model = config.model
    if config.tiny_policy is not None:
        from alignlab.algorithms.tiny_policy import ensure_tiny_policy

        if not any(key in record for record in records[:1] for key in ("chosen", "completion", "response")):
            raise ModelLoadError("tiny_policy is SFT'd on the data's responses, but the prompt data has none; "
                                 "point model.name_or_path at an existing policy instead")
        ensure_tiny_policy(config.tiny_policy, Path(model.name_or_path), records)
    tokenizer = load_tokenizer(model.name_or_path, revision=model.revision, trust_remote_code=model.trust_remote_code)
    policy = load_causal_lm(model.name_or_path, revision=model.revision, trust_remote_code=model.trust_remote_code,
                            dtype=model.dtype)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return policy, tokenizer


def same_tokenizer(first: Any, second: Any) -> bool:
    from alignlab.backends.train.refcache import tokenizer_hash

    return tokenizer_hash(first) == tokenizer_hash(second)


def load_reference(config: Any, policy: Any, tokenizer: Any) -> Any:
    """The frozen reference: `reference.model` (same tokenizer, checked) or a copy of the initial policy."""
    from alignlab.models import load_causal_lm, load_tokenizer

    name = config.reference.model
    if name is None:
        reference = copy.deepcopy(policy)
    else:
        if not same_tokenizer(load_tokenizer(name), tokenizer):
            raise ModelLoadError(f"reference.model {name}: its tokenizer differs from the policy's; the KL penalty "
                                 "compares log-probs of the same token ids, so use a reference with the policy's "
                                 "tokenizer")
        reference = load_causal_lm(name, dtype=config.model.dtype, trust_remote_code=config.model.trust_remote_code)
    reference.eval().requires_grad_(False)
    return reference


def load_critic(path: str, tokenizer: Any) -> Any:
    """A critic started from a reward model (its first member for an ensemble): backbone and score head.
    It reads the policy's token ids, so its tokenizer must be the policy's: anything else is refused."""
    from alignlab.models.loading import load_reward_model, load_tokenizer
    from alignlab.models.reward import check_reward_folder, read_card

    labels = check_reward_folder(path)
    folder = Path(path) / (read_card(Path(path)) or {}).get("members", ["."])[0]
    if not same_tokenizer(load_tokenizer(path), tokenizer):
        raise ModelLoadError(f"ppo.critic_path {path}: the reward model's tokenizer differs from the policy's, so a "
                             "critic started from it cannot read the policy's tokens; use value_model: head (the "
                             "reward itself is still scored, re-tokenised from text)")
    if len(labels) != 1:
        raise ModelLoadError(f"ppo.critic_path {path}: a critic needs a one-output reward model, this one has "
                             f"{len(labels)} ({', '.join(labels)}); use value_model: head")
    return load_reward_model(folder, num_labels=1, pad_token_id=tokenizer.pad_token_id)


def position_ids(attention_mask: Any) -> Any:
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def _backbone(model: Any) -> Any:
    return getattr(model, model.base_model_prefix)


def make_actor_critic(policy: Any, critic: Any | None, seed: int) -> Any:
    import torch
    from torch import nn

    class ActorCritic(nn.Module):
        """Policy logits and per-token values in one forward (one module: one DDP wrap, one optimiser)."""

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.critic = critic
            if critic is None:
                hidden = policy.config.hidden_size
                self.value_head = nn.Linear(hidden, 1)
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    nn.init.normal_(self.value_head.weight, std=1.0 / (hidden + 1) ** 0.5)
                    nn.init.zeros_(self.value_head.bias)
                self.value_head.to(device=policy.device, dtype=next(policy.parameters()).dtype)

        def forward(self, input_ids, attention_mask, start: int):  # noqa: ANN001, ANN202 - tensors
            """(logits (B, R, V) predicting the response tokens, values (B, R) at the same positions)."""
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask,
                      "position_ids": position_ids(attention_mask), "use_cache": False}
            hidden = _backbone(self.policy)(**kwargs).last_hidden_state[:, start - 1:-1]
            logits = self.policy.get_output_embeddings()(hidden)
            if self.critic is None:
                values = self.value_head(hidden).squeeze(-1)
            else:
                critic_hidden = _backbone(self.critic)(**kwargs).last_hidden_state[:, start - 1:-1]
                values = self.critic.score(critic_hidden).squeeze(-1)
            return logits, values.float()

    return ActorCritic()


def response_logits(model: Any, input_ids: Any, attention_mask: Any, start: int) -> Any:
    """Logits (B, R, V) that predict the response tokens (columns start..end of input_ids)."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids(attention_mask),
                use_cache=False)
    return out.logits[:, start - 1:-1]


def token_logprobs(logits: Any, tokens: Any, temperature: float) -> Any:
    """log pi(token) under the sampling distribution's temperature: (B, R, V), (B, R) -> (B, R) float32."""
    import torch

    logits = logits.float() / temperature
    return torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


def reference_logprobs(reference: Any, input_ids: Any, attention_mask: Any, start: int, temperature: float,
                       batch_size: int) -> Any:
    import torch

    chunks = []
    with torch.no_grad():
        for begin in range(0, len(input_ids), batch_size):
            ids, mask = input_ids[begin:begin + batch_size], attention_mask[begin:begin + batch_size]
            chunks.append(token_logprobs(response_logits(reference, ids, mask, start), ids[:, start:], temperature))
    return torch.cat(chunks)
