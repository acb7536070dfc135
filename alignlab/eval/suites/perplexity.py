"""Held-out perplexity and bits per byte on text the tiny models never trained on.

Default text: 120 stories from the TinyStories *validation* split (Eldan & Li 2023); the tiny tokenizers and
any demo policy train on the *train* split. Point `eval.options.perplexity.path` at a JSONL file with a "text"
field (or a .txt file, one document per blank-line-separated block) to measure your own held-out text.

Each document is scored whole with rolling windows (lm-evaluation-harness's `loglikelihood_rolling`: disjoint
windows of the model's context length, the first conditioned on bos). Metrics, over all tokens of all
documents (a ratio of sums, bootstrapped over documents):
- perplexity = exp(-sum log p / sum tokens): depends on the tokenizer, compare models that share one;
- bits_per_byte = -sum log p / (ln 2 x sum UTF-8 bytes): tokenizer-independent, compare any two models.
Lower is better.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.errors import DataError
from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import MODEL, DataSource

SOURCE = DataSource(
    folder="perplexity", files=("tinystories_validation.jsonl",),
    dataset="TinyStories validation split, first 120 stories", license="CDLA-Sharing-1.0",
    citation="Eldan & Li 2023, arXiv:2305.07759", terms="ShareAlike (redistribute under CDLA-Sharing-1.0)",
    subsample="the first 120 stories of the validation-split excerpt",
)


class PerplexityOptions(StrictModel):
    path: str | None = Field(None, description="JSONL with a 'text' field, or a .txt file; default: TinyStories.")


class Perplexity:
    name = "perplexity"
    title = "Held-out perplexity and bits per byte"
    category = "quality"
    method = "rolling log-likelihood of whole documents"
    sources = (SOURCE,)
    strata = None
    needs = frozenset({MODEL})
    Options = PerplexityOptions

    def __init__(self, options: PerplexityOptions | None = None) -> None:
        self.options = options or PerplexityOptions()

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        if self.options.path is None:
            return read_jsonl(suite_file("perplexity", "tinystories_validation.jsonl", data_dir), required=("text",))
        path = Path(self.options.path)
        if not path.is_file():
            raise DataError(f"{path}: file not found (eval.options.perplexity.path)")
        if path.suffix == ".txt":
            blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
            if not blocks:
                raise DataError(f"{path}: no text (eval.options.perplexity.path)")
            return [{"id": f"{path.name}-{n}", "text": b} for n, b in enumerate(blocks)]
        rows = read_jsonl(path, required=("text",))
        return [{"id": row.get("id", f"{path.name}-{n}"), "text": row["text"]} for n, row in enumerate(rows)]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        results = context.policy.loglikelihood_rolling([e["text"] for e in examples])
        return [{"id": e["id"], "text": e["text"], "logprob": r.logprob, "n_tokens": r.n_tokens, "n_bytes": r.n_bytes}
                for e, r in zip(examples, results, strict=True)]

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        columns = {"logprob": [s["logprob"] for s in samples], "tokens": [s["n_tokens"] for s in samples],
                   "bytes": [s["n_bytes"] for s in samples]}
        return {
            "perplexity": stats.statistic(
                columns, lambda c: np.exp(-c["logprob"].sum(axis=1) / c["tokens"].sum(axis=1)),
                description="token perplexity, exp(-sum log p / tokens); tokenizer-dependent", higher_is_better=False),
            "bits_per_byte": stats.statistic(
                columns, lambda c: -c["logprob"].sum(axis=1) / (math.log(2) * c["bytes"].sum(axis=1)),
                description="bits per UTF-8 byte; tokenizer-independent", higher_is_better=False),
        }
