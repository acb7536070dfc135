"""What the refusal suites share: generate an answer per prompt, classify it, report refusal rates.

Each sample is one prompt: its fields, the model's `response`, whether the configured refusal classifier
called it a refusal (`refused`) and the classifier's name. Rates are means of `refused` with bootstrap CIs,
overall and per group field (category, harm area, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alignlab.eval.stats import Stats


def generate_and_classify(examples: list[dict[str, Any]], context: Any, *, language: str = "en",
                          prompt_key: str = "prompt") -> list[dict[str, Any]]:
    prompts = [e[prompt_key] for e in examples]
    responses = context.generate(context.policy, [[{"role": "user", "content": p}] for p in prompts])
    refused = context.refusal.classify(prompts, responses, language=language)
    return [{**example, "response": response, "refused": bool(flag), "refusal_classifier": context.refusal.name}
            for example, response, flag in zip(examples, responses, refused, strict=True)]


def refusal_metrics(samples: list[dict[str, Any]], stats: Stats, *, by: Sequence[str] = (),
                    what: str = "harmful prompts") -> dict[str, dict[str, Any]]:
    description = f"share of {what} the model refused"
    out = {"refusal_rate": stats.mean(samples, "refused", description=description, higher_is_better=True)}
    for field in by:
        out |= stats.grouped_means(samples, "refused", field, prefix="refusal_rate", description=description,
                                   higher_is_better=True)
    return out
