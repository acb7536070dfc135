"""The rollout-engine interface: what evaluation suites, judges and (later) online RL ask of a generator.

    engine.generate(prompts, SamplingParams(max_new_tokens=64, temperature=0.0)) -> list[Completion]
    engine.update_weights(policy.state_dict())     # online RL: the trainer pushes new weights

Prompts are text that is already formatted (chat template applied by the caller) and is tokenized as is,
without adding special tokens a second time. The result is flat and prompt-major: `n` completions per prompt,
`completions[i * n + k]` is sample `k` of prompt `i`, each carrying its `prompt_index` and `sample_index`.

The shape follows vLLM's `LLM.generate` (one `RequestOutput` per prompt whose `outputs` hold `text`,
`token_ids`, per-token `logprobs` and `finish_reason`), so a vLLM engine is a thin adapter:
`SamplingParams(n, temperature, top_p, top_k, max_tokens=max_new_tokens, seed, stop, logprobs=0)`.
Log-probs are of the sampled tokens under the distribution actually sampled from, after temperature and
top-p/top-k; with `temperature == 0` (greedy) they are the model's plain log-softmax. Engines take plain
arguments (model, tokenizer, batch size); config objects never reach them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class SamplingParams:
    """How to sample. `temperature == 0` is greedy decoding (deterministic, the evaluation default)."""

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    n: int = 1
    seed: int = 0
    stop: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.temperature == 0 and self.n > 1:
            raise ValueError("greedy decoding (temperature 0) gives n identical samples; set temperature > 0")


@dataclass(frozen=True)
class Completion:
    """One sampled continuation: decoded text, its token ids and the log-prob of each token."""

    prompt_index: int
    sample_index: int
    text: str
    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...]
    finish_reason: FinishReason

    @property
    def logprob(self) -> float:
        """Sum of the token log-probs: the log-probability of the whole completion."""
        return float(sum(self.logprobs))


@runtime_checkable
class RolloutEngine(Protocol):
    """A generator of completions with token ids and log-probs whose weights can be replaced in place."""

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        """`len(prompts) * sampling.n` completions, prompt-major (see the module docstring)."""
        ...

    def update_weights(self, state: Mapping[str, Any]) -> None:
        """Load new weights (a state dict, names as the policy's `state_dict()`) before the next `generate`."""
        ...


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` before the first stop string (vLLM's default: the stop string is not returned)."""
    cuts = [text.find(s) for s in stop if s and s in text]
    if not cuts:
        return text, False
    return text[: min(cuts)], True
