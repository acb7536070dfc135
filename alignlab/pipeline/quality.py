"""Generation quality in the pipeline's eval stage, and the guard that acts when a round's policy degenerates.

The eval stage samples the policy and the baseline on the same held-out prompts (`evaluate.sample_answers`);
`measure` turns one model's samples into `alignlab.metrics.generation`'s metrics: distinct-1/2, repeated-
bigram rate, mean length, finished share, perplexity under the reference model (the eval's `reference`
input, else its baseline; `quality.reference` names another model) and the sampled KL to it, each with a
95% bootstrap interval. `verdict` compares the policy with the baseline under the guard's thresholds:

    guard: {action: flag, min_distinct_2_ratio: 0.8, max_perplexity_ratio: 1.5, max_kl: null}

`action` says what the pipeline does when a check trips (`alignlab.pipeline.runner`): `flag` marks the round
in the report and summary.json and goes on; `reject` also keeps the previous policy (the last accepted
round's, else the baseline) for every later stage that would have read this round's; `stop` ends the
feedback loop after this round (the report still runs). The reason lands in summary.json and the report.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.metrics.generation import GenerationGuard

GUARD_ACTIONS = ("flag", "reject", "stop")


class PipelineGuard(GenerationGuard):
    action: Literal["flag", "reject", "stop"] = Field("flag", description="What a tripped guard does: flag the "
                                                      "round, reject it (keep the previous policy) or stop.")


class QualityOptions(StrictModel):
    enabled: bool = Field(True, description="Measure generation quality of the policy and the baseline.")
    reference: str | None = Field(None, description="Model (path or id) for reference perplexity and KL; "
                                  "default: the stage's `reference` input, else its baseline.")
    resamples: int = Field(1000, ge=100, description="Bootstrap resamples of each interval.")
    samples_shown: int = Field(6, ge=0, description="Side-by-side samples (same prompts) kept for the report.")
    guard: PipelineGuard = Field(default_factory=PipelineGuard)


def measure(sampled: Any, reference: tuple[Any, Any], *, resamples: int, seed: int,
            batch_size: int) -> dict[str, Any]:
    """Text metrics of `sampled` plus perplexity and sampled KL under `reference` = (model, tokenizer)."""
    from alignlab.eval.scoring import same_vocabulary, score_completions
    from alignlab.metrics.generation import reference_metrics, text_metrics

    texts = [answer for group in sampled.answers for answer in group]
    quality = text_metrics(texts, sampled.finished, resamples=resamples, seed=seed)
    ref_model, ref_tokenizer = reference
    if same_vocabulary(sampled.tokenizer, ref_tokenizer):
        ref_logprobs, ref_tokens = score_completions(ref_model, sampled.prompt_ids, sampled.completion_ids,
                                                     batch_size=batch_size)
        own = ref_logprobs if ref_model is sampled.model else score_completions(
            sampled.model, sampled.prompt_ids, sampled.completion_ids, batch_size=batch_size)[0]
        quality |= reference_metrics(ref_logprobs, ref_tokens, own, resamples=resamples, seed=seed)
    else:  # another tokenizer: perplexity of the decoded text; a token-level KL is not defined
        from alignlab.eval.scoring import loglikelihood
        from alignlab.pipeline.candidates import chat_prompts

        contexts = chat_prompts(ref_tokenizer, sampled.prompts)
        results = loglikelihood(ref_model, ref_tokenizer, list(zip(contexts, texts, strict=True)),
                                batch_size=batch_size)
        quality |= reference_metrics([r.logprob for r in results], [r.n_tokens for r in results],
                                     resamples=resamples, seed=seed)
    return quality


def load_reference(path: str) -> tuple[Any, Any]:
    from alignlab.models import load_causal_lm, load_tokenizer

    return load_causal_lm(path).eval(), load_tokenizer(path)


def verdict(quality: dict[str, Any], baseline: dict[str, Any] | None, guard: PipelineGuard) -> dict[str, Any]:
    """{"tripped", "action", "reasons"}: the guard's judgement of this policy against the baseline."""
    from alignlab.metrics.generation import degeneration_reasons

    reasons = degeneration_reasons(quality, baseline, guard)
    return {"tripped": bool(reasons), "action": guard.action, "reasons": reasons,
            "thresholds": guard.model_dump(exclude={"action"})}


def side_by_side(prompts: list[str], mine: list[list[str]], theirs: list[list[str]], shown: int) -> list[dict]:
    """The first `shown` held-out prompts with the policy's and the baseline's first answer."""
    return [{"prompt": p, "model": m[0], "baseline": b[0]} for p, m, b in zip(prompts, mine, theirs, strict=True)][
        :shown]
