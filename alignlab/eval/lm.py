"""The model interface suites talk to: lm-evaluation-harness's three methods plus chat formatting.

    lm = LanguageModel.load("runs/tiny/policy", batch_size=16)
    lm.loglikelihood([(context, continuation), ...])      # -> LoglikResult(logprob, is_greedy, n_tokens)
    lm.loglikelihood_rolling([text, ...])                  # -> RollingResult(logprob, n_tokens, n_bytes)
    lm.generate(lm.chat_prompts([[{"role": "user", "content": "Hi"}]]), SamplingParams(max_new_tokens=32))

Log-likelihoods go through `alignlab.eval.scoring` (length-sorted batches, shared prefixes computed once);
generation goes through a rollout engine from `alignlab.backends.rollout` (HF `generate` now, vLLM later).
With `chat_template: always` (the default) prompts are formatted by the tokenizer's chat template and a model
without one is a one-line error naming the suite and the fix; without it, a plain `User:`/`Assistant:`
transcript is used, which is what a base model was trained to continue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alignlab.backends.rollout import ROLLOUT_ENGINES, Completion, SamplingParams
from alignlab.errors import ChatTemplateError
from alignlab.eval.scoring import LoglikResult, loglikelihood, prefix_token_id, score_tokens

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class RollingResult:
    """Log-probability of a whole text (every token, conditioned on a prefix token), its tokens and bytes."""

    logprob: float
    n_tokens: int
    n_bytes: int


def rolling_windows(tokens: list[int], prefix: int, max_length: int) -> list[tuple[list[int], list[int]]]:
    """Disjoint windows covering `tokens` (lm-evaluation-harness's rolling windows with context length 1):
    (context ids, continuation ids); the first window is conditioned on `prefix`, each later one on the
    token before it."""
    windows = []
    first = tokens[:max_length]
    if first:
        windows.append(([prefix], first))
    for start in range(len(first), len(tokens), max_length):
        windows.append(([tokens[start - 1]], tokens[start:start + max_length]))
    return windows


class LanguageModel:
    """A causal LM with its tokenizer, a rollout engine and batching settings."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str, batch_size: int = 16,
                 max_length: int | None = None, share_prefixes: bool = True, engine: str = "hf",
                 chat_template: str = "always", system_prompt: str | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = batch_size
        self.max_length = max_length or getattr(model.config, "max_position_embeddings", None) or 2048
        self.share_prefixes = share_prefixes
        self.chat_template = chat_template  # auto | always | never (alignlab.data.prompts)
        self.system_prompt = system_prompt
        self.engine = ROLLOUT_ENGINES.get(engine)(model, tokenizer, batch_size=batch_size)

    @classmethod
    def load(cls, name_or_path: str, *, revision: str | None = None, trust_remote_code: bool = False,
             dtype: str = "auto", device: str = "cpu", **settings: Any) -> LanguageModel:
        from alignlab.models import load_causal_lm, load_tokenizer

        tokenizer = load_tokenizer(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
        model = load_causal_lm(name_or_path, revision=revision, trust_remote_code=trust_remote_code, dtype=dtype)
        return cls(model.to(device).eval(), tokenizer, name=str(name_or_path), **settings)

    # -- the three methods ---------------------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[LoglikResult]:
        return loglikelihood(self.model, self.tokenizer, requests, batch_size=self.batch_size,
                             max_length=self.max_length, share_prefixes=self.share_prefixes)

    def loglikelihood_rolling(self, texts: Sequence[str]) -> list[RollingResult]:
        prefix = prefix_token_id(self.tokenizer)
        encoded = self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"] if texts else []
        windows, owner = [], []
        for index, tokens in enumerate(encoded):
            for window in rolling_windows(list(tokens), prefix, self.max_length):
                windows.append(window)
                owner.append(index)
        scores = score_tokens(self.model, windows, batch_size=self.batch_size, max_length=self.max_length,
                              share_prefixes=False)
        totals = [0.0] * len(encoded)
        for index, score in zip(owner, scores, strict=True):
            totals[index] += score.logprob
        return [RollingResult(total, len(tokens), len(text.encode("utf-8")))
                for total, tokens, text in zip(totals, encoded, texts, strict=True)]

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        return self.engine.generate(prompts, sampling)

    # -- chat formatting -------------------------------------------------------------------------------------

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def check_chat(self, suite: str) -> None:
        """Fail before any work when `suite` needs a chat template this tokenizer lacks."""
        if self.chat_template == "always" and not self.has_chat_template:
            raise ChatTemplateError(
                f"{self.name}: the tokenizer has no chat template, and suite {suite!r} formats its prompts as chat; "
                "evaluate a chat model, add a template to the tokenizer (tokenizer.chat_template = ...; "
                "save_pretrained), or pass generation.chat_template=auto (or never) for the plain Human:/Assistant: "
                "transcript the trainers use for such models"
            )

    def chat_prompts(self, conversations: Sequence[Messages]) -> list[str]:
        """Each conversation (ending with a user turn) as the text the model continues with its answer."""
        return [self.chat_prompt(messages) for messages in conversations]

    def raw_prompt(self, text: str) -> str:
        """Text to continue as is (no chat template), with the bos token a base model saw in training."""
        bos = self.tokenizer.bos_token
        return text if not bos or text.startswith(bos) else bos + text

    def chat_prompt(self, messages: Messages) -> str:
        """The conversation as the model reads it: the same formatter as training (`alignlab.data.prompts`)."""
        from alignlab.data.prompts import format_prompt

        return format_prompt(self.tokenizer, list(messages), self.chat_template, key="generation.chat_template",
                             system_prompt=self.system_prompt, model=self.name)


def plain_transcript(messages: Messages) -> str:
    """The plain transcript (`\n\nHuman: ...\n\nAssistant:`) trainers use for models without a template."""
    from alignlab.data.prompts import plain_prompt

    return plain_prompt(list(messages))
