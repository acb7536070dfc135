"""Generation quality: is a policy still writing text, or has it collapsed into what its judge rewards?

    from alignlab.metrics.generation import text_metrics, reference_metrics, degeneration_reasons
    quality = text_metrics(texts, finished=[c.finish_reason == "stop" for c in completions])
    quality |= reference_metrics(policy_logprobs, reference_logprobs, reference_tokens)
    reasons = degeneration_reasons(quality, baseline_quality, GenerationGuard())

Every metric is `{"value", "low", "high", "n", "confidence"}`: a percentile bootstrap over responses (as in
`alignlab.metrics.bootstrap`), so two rounds are compared with their uncertainty, not as bare numbers. For
distinct-n the resampled values are recentred on the estimate (a resample repeats responses, which by itself
lowers distinct-n).

- `distinct_1`, `distinct_2`: unique n-grams / all n-grams over the whole set of responses (Li et al. 2016,
  *A Diversity-Promoting Objective Function for Neural Conversation Models*). A policy that answers every
  prompt with the same few words scores low even when each answer on its own looks varied.
- `repeated_2gram_rate`: per response, the share of its word bigrams that repeat an earlier bigram of the same
  response (Welleck et al. 2019's seq-rep-n with n=2), averaged: "great great great" scores 0.5.
- `mean_words`: response length in words; `finished`: share of responses that ended with EOS (or a stop
  string) instead of running into `max_new_tokens`.
- `reference_perplexity`: exp(total negative log-likelihood / total tokens) of the responses under a reference
  model (the SFT policy, or a model the user names): how surprising the text is to a fluent model of the
  same language. Word lists and repetition loops make it rise.
- `sampled_kl`: the Monte-Carlo estimate of KL(policy || reference) per response, the mean of
  log pi(y|x) - log pi_ref(y|x) over responses sampled from the policy (Schulman 2020's k1 estimator; exact
  in expectation at temperature 1, an estimate of the sampling distribution's KL otherwise). It can be
  negative on a finite sample; a large value means the policy left the reference's distribution.

`degeneration_reasons` turns the thresholds of a `GenerationGuard` (defaults: distinct-2 below 0.8x the
baseline's, reference perplexity above 1.5x the baseline's, no KL limit) into readable reasons; the pipeline's
eval stage, its guards and the report use it, and so do the online trainers' eval steps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from alignlab.config.base import StrictModel

_WORD = re.compile(r"[a-z0-9']+")
CONFIDENCE = 0.95


class GenerationGuard(StrictModel):
    """When a policy counts as degenerate against its baseline (None switches a check off)."""

    min_distinct_2_ratio: float | None = Field(0.8, gt=0, description="Flag when distinct-2 falls below this "
                                               "multiple of the baseline's.")
    max_perplexity_ratio: float | None = Field(1.5, gt=0, description="Flag when the reference perplexity "
                                               "rises above this multiple of the baseline's.")
    max_kl: float | None = Field(None, gt=0, description="Flag when the sampled KL to the reference (nats per "
                                 "response) exceeds this.")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def repeated_ngram_rate(text: str, n: int = 2) -> float:
    """Share of the text's word n-grams that repeat an earlier one (0 when it has none)."""
    grams = ngrams(words(text), n)
    return (len(grams) - len(set(grams))) / len(grams) if grams else 0.0


def _interval(value: float, estimates: np.ndarray, n: int) -> dict[str, Any]:
    alpha = (1.0 - CONFIDENCE) / 2.0
    low, high = (np.quantile(estimates, [alpha, 1.0 - alpha]) if n else (math.nan, math.nan))
    return {"value": float(value), "low": float(low), "high": float(high), "n": n, "confidence": CONFIDENCE}


def _resample_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n) how often each response is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, n))
    weights = np.zeros((resamples, n), dtype=np.float32)
    np.add.at(weights, (np.arange(resamples)[:, None], draws), 1.0)
    return weights


def ratio_with_interval(numerators: Sequence[float], denominators: Sequence[float], *, resamples: int = 1000,
                        seed: int = 0) -> dict[str, Any]:
    """sum(numerators) / sum(denominators) with a bootstrap over items (a token-weighted mean)."""
    num, den = np.asarray(numerators, dtype=np.float64), np.asarray(denominators, dtype=np.float64)
    if not len(num) or den.sum() == 0:
        return _interval(math.nan, np.array([math.nan]), 0)
    weights = _resample_weights(len(num), resamples, seed)
    weights = weights.astype(np.float64)
    estimates = (weights @ num) / np.maximum(weights @ den, 1e-12)
    return _interval(num.sum() / den.sum(), estimates, len(num))


def mean_with_interval(values: Sequence[float], *, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    return ratio_with_interval(values, [1.0] * len(values), resamples=resamples, seed=seed)


def distinct_n(texts: Sequence[str], n: int, *, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Unique n-grams / all n-grams over all `texts`, with a bootstrap over texts."""
    per_text = [ngrams(words(t), n) for t in texts]
    vocabulary: dict[tuple[str, ...], int] = {}
    for grams in per_text:
        for gram in grams:
            vocabulary.setdefault(gram, len(vocabulary))
    totals = np.array([len(g) for g in per_text], dtype=np.float64)
    if not totals.sum():
        return _interval(math.nan, np.array([math.nan]), 0)
    incidence = np.zeros((len(texts), max(len(vocabulary), 1)), dtype=np.float32)  # (texts, distinct n-grams)
    for row, grams in enumerate(per_text):
        incidence[row, [vocabulary[g] for g in grams]] = 1.0
    weights = _resample_weights(len(texts), resamples, seed)  # (R, texts)
    distinct = ((weights @ incidence) > 0).sum(axis=1)  # (R,) an n-gram counts once however often drawn
    estimates = distinct / np.maximum((weights @ totals).astype(np.float64), 1.0)
    value = len(vocabulary) / totals.sum()
    # A resample repeats about a third of the texts, and a repeated text adds n-grams but no new ones, so the
    # resampled values sit below the estimate; their spread is the sampling error: recentre them on it.
    return _interval(value, estimates + (value - np.median(estimates)), len(texts))


def text_metrics(texts: Sequence[str], finished: Sequence[bool] | None = None, *, resamples: int = 1000,
                 seed: int = 0) -> dict[str, dict[str, Any]]:
    """distinct-1/2, repeated-bigram rate, mean length in words and (given `finished`) the finished share."""
    out = {f"distinct_{n}": distinct_n(texts, n, resamples=resamples, seed=seed) for n in (1, 2)}
    out["repeated_2gram_rate"] = mean_with_interval([repeated_ngram_rate(t) for t in texts], resamples=resamples,
                                                    seed=seed)
    out["mean_words"] = mean_with_interval([len(words(t)) for t in texts], resamples=resamples, seed=seed)
    if finished is not None:
        out["finished"] = mean_with_interval([float(f) for f in finished], resamples=resamples, seed=seed)
    return out


def reference_metrics(reference_logprobs: Sequence[float], reference_tokens: Sequence[int],
                      policy_logprobs: Sequence[float] | None = None, *, resamples: int = 1000,
                      seed: int = 0) -> dict[str, dict[str, Any]]:
    """`reference_perplexity` (token-weighted) and, given the policy's own log-probs of the same responses,
    `sampled_kl` (nats per response). Log-probs are per response, summed over its tokens."""
    nll = ratio_with_interval([-lp for lp in reference_logprobs], reference_tokens, resamples=resamples, seed=seed)
    perplexity = {**nll, **{k: math.exp(nll[k]) if not math.isnan(nll[k]) else math.nan
                            for k in ("value", "low", "high")}}
    out = {"reference_perplexity": perplexity}
    if policy_logprobs is not None:
        gaps = [p - r for p, r in zip(policy_logprobs, reference_logprobs, strict=True)]
        out["sampled_kl"] = mean_with_interval(gaps, resamples=resamples, seed=seed)
    return out


def degeneration_reasons(quality: dict[str, Any], baseline: dict[str, Any] | None,
                         guard: GenerationGuard) -> list[str]:
    """Readable reasons this policy's generations count as degenerate (empty list: none)."""
    reasons = []

    def value(metrics: dict[str, Any] | None, name: str) -> float | None:
        found = (metrics or {}).get(name) or {}
        number = found.get("value")
        return None if number is None or math.isnan(number) else float(number)

    mine, theirs = value(quality, "distinct_2"), value(baseline, "distinct_2")
    if guard.min_distinct_2_ratio and mine is not None and theirs:
        if mine < guard.min_distinct_2_ratio * theirs:
            reasons.append(f"distinct-2 {mine:.3f} is below {guard.min_distinct_2_ratio:g}x the baseline's "
                           f"{theirs:.3f} (repetitive or collapsed outputs)")
    mine, theirs = value(quality, "reference_perplexity"), value(baseline, "reference_perplexity")
    if guard.max_perplexity_ratio and mine is not None and theirs:
        if mine > guard.max_perplexity_ratio * theirs:
            reasons.append(f"reference perplexity {mine:.2f} is above {guard.max_perplexity_ratio:g}x the "
                           f"baseline's {theirs:.2f} (text the reference model finds implausible)")
    kl = value(quality, "sampled_kl")
    if guard.max_kl is not None and kl is not None and kl > guard.max_kl:
        reasons.append(f"sampled KL to the reference {kl:.2f} nats exceeds max_kl {guard.max_kl:g}")
    return reasons

