"""Generation quality at the online trainers' eval steps, and the degeneration guard that can stop them.

`eval_quality` adds to every held-out evaluation (`loop.evaluate`) what `alignlab.metrics.generation` measures
of its completions: `eval/distinct_1`, `eval/distinct_2`, `eval/repeated_2gram_rate`, `eval/mean_words`,
`eval/reference_perplexity` (the completions under the frozen reference policy) and, when the held-out
generations are sampled (`train.eval_temperature` > 0), `eval/sampled_kl` to the reference; each with its 95%
interval as `<name>/low` and `<name>/high`. Greedy generations (the default) give no KL estimate: the
training steps' `kl` is the sampled one.

`degeneration` compares an evaluation with the one before training under `guards.min_distinct_2_ratio` and
`guards.max_perplexity_ratio` (the same checks as the pipeline's eval stage); with `guards.early_stop` a trip
ends training, and the reason lands in summary.json like the other guards'.
"""

from __future__ import annotations

from typing import Any

QUALITY_KEYS = ("distinct_1", "distinct_2", "repeated_2gram_rate", "mean_words", "reference_perplexity",
                "sampled_kl")


def eval_quality(ctx: Any, prompts: list, completions: list, *, sampled: bool) -> dict[str, float]:
    from alignlab.eval.scoring import score_completions
    from alignlab.metrics.generation import reference_metrics, text_metrics

    prompt_ids = ctx.tokenizer([p.text for p in prompts], add_special_tokens=False, verbose=False)["input_ids"]
    prompt_ids = [prompt_ids[c.prompt_index] for c in completions]
    completion_ids = [list(c.token_ids) for c in completions]
    quality = text_metrics([c.text for c in completions], resamples=500, seed=ctx.config.run.seed)
    ref_logprobs, ref_tokens = score_completions(ctx.reference, prompt_ids, completion_ids)
    own = score_completions(ctx.policy, prompt_ids, completion_ids)[0] if sampled else None
    quality |= reference_metrics(ref_logprobs, ref_tokens, own, resamples=500, seed=ctx.config.run.seed)
    out = {}
    for name in QUALITY_KEYS:
        if name in quality:
            out[f"eval/{name}"] = quality[name]["value"]
            out[f"eval/{name}/low"], out[f"eval/{name}/high"] = quality[name]["low"], quality[name]["high"]
    return out


def degeneration(guards: Any, latest: dict[str, float], baseline: dict[str, float]) -> str | None:
    """The first degeneration reason of `latest` against the evaluation before training, if the guard trips."""
    from alignlab.metrics.generation import GenerationGuard, degeneration_reasons

    guard = GenerationGuard(min_distinct_2_ratio=guards.min_distinct_2_ratio,
                            max_perplexity_ratio=guards.max_perplexity_ratio)

    def as_metrics(values: dict[str, float]) -> dict[str, Any]:
        return {name: {"value": values[f"eval/{name}"]} for name in QUALITY_KEYS if f"eval/{name}" in values}

    reasons = degeneration_reasons(as_metrics(latest), as_metrics(baseline), guard)
    latest["eval/degenerate"] = float(bool(reasons))
    return reasons[0] if reasons and guards.early_stop else None
