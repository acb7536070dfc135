"""Generation quality of every suite that makes the evaluated model generate (`alignlab eval run`).

The eval context records what each `context.generate` call produced (`EvalContext.generations`); after a
suite runs, `suite_quality` turns the evaluated model's completions from that suite into metrics kept beside
the suite's own (the `generation` section of `<suite>/metrics.json` and of summary.json: the suite's `metrics`
stay recomputable from samples.jsonl), named `generation/<metric>` with 95% bootstrap intervals
(`alignlab.metrics.generation`): distinct-1/2, repeated-bigram rate, mean length in words, share finished with
EOS, and, when the run has a baseline (`--baseline`), the completions' perplexity under the baseline model and
the sampled KL to it (`generation/reference_perplexity`, `generation/sampled_kl`; a KL estimate only for sampled
answers, and only when both models share a tokenizer). Suites that only score log-likelihoods add nothing.
"""

from __future__ import annotations

from typing import Any

DESCRIPTIONS = {
    "distinct_1": "unique words / all words over the model's answers",
    "distinct_2": "unique word bigrams / all bigrams over the model's answers (low: repetitive or collapsed)",
    "repeated_2gram_rate": "share of an answer's bigrams that repeat an earlier one",
    "mean_words": "answer length in words",
    "finished": "share of answers that ended with EOS rather than max_new_tokens",
    "reference_perplexity": "perplexity of the model's answers under the baseline model",
    "sampled_kl": "mean log pi(y|x) - log pi_baseline(y|x) over the model's answers (KL when sampled)",
}


def suite_quality(context: Any, start: int, *, resamples: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """`generation/*` metrics of the evaluated model's completions recorded since index `start`."""
    from alignlab.eval.scoring import same_vocabulary, score_completions
    from alignlab.metrics.generation import reference_metrics, text_metrics

    if context.model is None:
        return {}
    policy = context.policy
    mine = [(prompts, completions) for lm, prompts, completions in context.generations[start:] if lm is policy]
    if not mine:
        return {}
    texts, finished, prompt_ids, completion_ids = [], [], [], []
    for prompts, completions in mine:
        encoded = policy.tokenizer(list(prompts), add_special_tokens=False, verbose=False)["input_ids"]
        for completion in completions:
            texts.append(completion.text)
            finished.append(completion.finish_reason == "stop")
            prompt_ids.append(list(encoded[completion.prompt_index]))
            completion_ids.append(list(completion.token_ids))
    quality = text_metrics(texts, finished, resamples=resamples, seed=seed)
    if context.baseline_ref is not None:
        baseline = context.baseline
        if same_vocabulary(policy.tokenizer, baseline.tokenizer):
            ref, count = score_completions(baseline.model, prompt_ids, completion_ids, batch_size=policy.batch_size)
            own, _ = score_completions(policy.model, prompt_ids, completion_ids, batch_size=policy.batch_size)
            quality |= reference_metrics(ref, count, own, resamples=resamples, seed=seed)
    return {f"generation/{name}": {**metric, "description": DESCRIPTIONS[name],
                                   "higher_is_better": {"distinct_1": True, "distinct_2": True, "finished": True,
                                                        "repeated_2gram_rate": False,
                                                        "reference_perplexity": False}.get(name)}
            for name, metric in quality.items()}
