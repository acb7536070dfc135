"""One round of experience: sample completions, score them, lay them out as padded tensors.

    rollout = collect(engine, prompts, sampling, rewards, tokenizer, unfinished_reward=None, device="cpu")
    rollout.input_ids        (B, P + R)  left-padded prompt | right-padded response (B = prompts * n)
    rollout.response_mask    (B, R)      1 on response tokens (the eos included: stopping is learnt)
    rollout.scores           (B,)        the combined reward; unfinished responses get `unfinished_reward`
                                         instead when it is set
    rollout.timings          generation and scoring seconds

Rewards see the prompt as the data gave it and the completion as decoded text (`alignlab.rewards`): a reward
model re-tokenises it in its own stored training format, eos included.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alignlab.algorithms.online.data import Prompt


@dataclass
class Rollout:
    prompts: list[Prompt]  # one per sequence (each prompt repeated n times)
    completions: list[Any]
    input_ids: Any
    attention_mask: Any
    response_mask: Any
    start: int  # P: the response's first column
    scores: Any  # (B,) float32
    finished: Any  # (B,) bool
    reward: Any  # RewardResult (unweighted components, ensemble std)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def responses(self) -> Any:
        return self.input_ids[:, self.start:]

    def __len__(self) -> int:
        return len(self.completions)


def collect(engine: Any, prompts: Sequence[Prompt], sampling: Any, rewards: Any, tokenizer: Any, *,
            unfinished_reward: float | None, device: Any) -> Rollout:
    import torch

    started = time.perf_counter()
    completions = engine.generate([p.text for p in prompts], sampling)
    generated = time.perf_counter()
    per_sequence = [prompts[c.prompt_index] for c in completions]
    columns = {key: [p.columns.get(key) for p in per_sequence] for key in per_sequence[0].columns} \
        if per_sequence and per_sequence[0].columns else {}
    result = rewards([p.prompt for p in per_sequence], [c.text for c in completions], columns)
    scored = time.perf_counter()
    finished = torch.tensor([c.finish_reason == "stop" for c in completions])
    scores = torch.tensor(result.total, dtype=torch.float32)
    if unfinished_reward is not None:
        scores = torch.where(finished, scores, torch.full_like(scores, unfinished_reward))
    prompt_ids = tokenizer([p.text for p in prompts], add_special_tokens=False)["input_ids"]
    input_ids, attention_mask, response_mask, start = layout(
        [prompt_ids[c.prompt_index] for c in completions], [list(c.token_ids) for c in completions],
        tokenizer.pad_token_id)
    return Rollout(per_sequence, completions, input_ids.to(device), attention_mask.to(device),
                   response_mask.to(device), start, scores.to(device), finished.to(device), result,
                   {"generation": generated - started, "scoring": scored - generated})


def layout(prompt_ids: Sequence[Sequence[int]], response_ids: Sequence[Sequence[int]],
           pad_id: int) -> tuple[Any, Any, Any, int]:
    """(input_ids, attention_mask, response_mask, P): prompts left-padded to P, responses right-padded to R."""
    import torch

    width_p = max(len(p) for p in prompt_ids)
    width_r = max(1, max(len(r) for r in response_ids))
    count = len(prompt_ids)
    input_ids = torch.full((count, width_p + width_r), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((count, width_p + width_r), dtype=torch.long)
    for row, (prompt, response) in enumerate(zip(prompt_ids, response_ids, strict=True)):
        input_ids[row, width_p - len(prompt):width_p] = torch.tensor(prompt, dtype=torch.long)
        attention_mask[row, width_p - len(prompt):width_p] = 1
        if response:
            input_ids[row, width_p:width_p + len(response)] = torch.tensor(response, dtype=torch.long)
            attention_mask[row, width_p:width_p + len(response)] = 1
    return input_ids, attention_mask, attention_mask[:, width_p:].clone(), width_p


def sample_rows(rollout: Rollout, count: int) -> list[dict[str, Any]]:
    """The first `count` sequences as JSON rows (what `<run>/samples/step_N.jsonl` holds)."""
    rows = []
    for index in range(min(count, len(rollout))):
        completion = rollout.completions[index]
        rows.append({"prompt": rollout.prompts[index].prompt, "completion": completion.text,
                     "reward": float(rollout.scores[index]), "finished": completion.finish_reason == "stop",
                     "tokens": len(completion.token_ids),
                     **{f"reward/{name}": float(values[index]) for name, values in rollout.reward.components.items()}})
    return rows
