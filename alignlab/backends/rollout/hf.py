"""Rollout engine over transformers' `generate`: batched, length-sorted, left-padded, with per-token log-probs.

    engine = HFRolloutEngine(model, tokenizer, batch_size=16)
    completions = engine.generate(prompts, SamplingParams(max_new_tokens=64))

Prompts are sorted by token length (longest first) and cut into batches, so a batch pads little and the
first batch shows the worst-case memory; results come back in the caller's order. Each batch is left-padded
by hand (the shared tokenizer is never mutated). Sampling is seeded per batch from `sampling.seed` inside a
forked RNG, so the same prompts, batch size and seed give the same completions and the caller's RNG state is
left alone. Log-probs come from `compute_transition_scores(normalize_logits=True)` on the processed scores:
for sampling, the distribution actually sampled from (after temperature, top-k, top-p).

An eos token ends a completion (`finish_reason="stop"`); its id and log-prob are kept in `token_ids` and
`logprobs` (a trainer needs them) but not in `text`. Stop strings stop generation through transformers'
`stop_strings`; the text is cut before the stop string, the token ids run through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from alignlab.backends.rollout.base import Completion, SamplingParams, truncate_at_stop
from alignlab.models._rng import seeded_torch


class HFRolloutEngine:
    """`RolloutEngine` over a transformers causal LM (any device the model sits on)."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        # set by a caller that shows progress (a pipeline's candidates, an eval suite): its echo gets a bar on a
        # terminal, periodic lines elsewhere, over the prompts of a generate call longer than one batch
        self.progress: Callable[[str], Any] | None = None
        eos = getattr(model.generation_config, "eos_token_id", None)
        if eos is None:
            eos = tokenizer.eos_token_id
        self.eos_token_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos_token_ids)

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        encoded = self.tokenizer(list(prompts), add_special_tokens=False, verbose=False)["input_ids"]
        limit = self._max_prompt_tokens(sampling.max_new_tokens)
        encoded = [ids[-limit:] if limit else ids for ids in encoded]
        order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
        results: dict[int, list[Completion]] = {}
        bar = None
        if self.progress is not None and len(order) > self.batch_size:
            from alignlab.utils.progress import StepProgress

            bar = StepProgress(len(order), "generate", self.progress)
        try:
            for batch_number, start in enumerate(range(0, len(order), self.batch_size)):
                indices = order[start:start + self.batch_size]
                with seeded_torch(sampling.seed + batch_number):
                    outputs = self._generate_batch([encoded[i] for i in indices], sampling)
                for row, index in enumerate(indices):
                    results[index] = [self._completion(index, k, *outputs[row * sampling.n + k], sampling)
                                      for k in range(sampling.n)]
                if bar is not None:
                    bar.advance(len(indices))
        finally:
            if bar is not None:
                bar.close()
        return [completion for index in range(len(encoded)) for completion in results[index]]

    def update_weights(self, state: Mapping[str, Any]) -> None:
        """Copy `state` into the model in place; names the model does not have are an error (a wrong state)."""
        import torch

        with torch.no_grad():
            _, unexpected = self.model.load_state_dict(dict(state), strict=False)
        if unexpected:
            raise KeyError(f"update_weights: {len(unexpected)} names the model does not have, e.g. {unexpected[0]!r}")

    def _max_prompt_tokens(self, max_new_tokens: int) -> int | None:
        positions = getattr(self.model.config, "max_position_embeddings", None)
        return max(1, positions - max_new_tokens) if positions else None

    def _generate_batch(self, prompts: list[list[int]],
                        sampling: SamplingParams) -> list[tuple[list[int], list[float]]]:
        """Generate for one batch; per row (prompt-major, n per prompt): new token ids and their log-probs."""
        import torch
        from transformers import GenerationConfig

        width = max(len(ids) for ids in prompts)
        device = self.model.device
        input_ids = torch.full((len(prompts), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):  # left padding: every prompt ends at the last column
            input_ids[row, width - len(ids):] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids):] = 1
        sample = sampling.temperature > 0
        config = GenerationConfig(
            max_new_tokens=sampling.max_new_tokens, do_sample=sample, num_return_sequences=sampling.n,
            pad_token_id=self.pad_token_id, eos_token_id=sorted(self.eos_token_ids),
            output_scores=True, return_dict_in_generate=True,
            stop_strings=list(sampling.stop) or None,
            **({"temperature": sampling.temperature, "top_p": sampling.top_p, "top_k": sampling.top_k} if sample
               else {}),
        )
        extra = {"tokenizer": self.tokenizer} if sampling.stop else {}
        with torch.no_grad():
            out = self.model.generate(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device),
                                      generation_config=config, **extra)
            scores = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        new_tokens = out.sequences[:, width:].tolist()
        return [self._cut_at_eos(tokens, row_scores.tolist())
                for tokens, row_scores in zip(new_tokens, scores, strict=True)]

    def _cut_at_eos(self, tokens: list[int], logprobs: list[float]) -> tuple[list[int], list[float]]:
        for position, token in enumerate(tokens):
            if token in self.eos_token_ids:
                return tokens[: position + 1], logprobs[: position + 1]
        return tokens, logprobs[: len(tokens)]

    def _completion(self, prompt_index: int, sample_index: int, tokens: list[int], logprobs: list[float],
                    sampling: SamplingParams) -> Completion:
        ended = bool(tokens) and tokens[-1] in self.eos_token_ids
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, stopped = truncate_at_stop(text, sampling.stop)
        return Completion(
            prompt_index=prompt_index, sample_index=sample_index, text=text, token_ids=tuple(tokens),
            logprobs=tuple(float(x) for x in logprobs), finish_reason="stop" if ended or stopped else "length",
        )
