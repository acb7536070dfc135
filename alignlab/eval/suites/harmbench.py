"""HarmBench (text behaviours, test split): refusal rate on harmful requests.

Mazeika et al. 2024, *HarmBench: A Standardized Evaluation Framework for Automated Red Teaming and Robust
Refusal* (ICML). 320 test behaviours in three functional categories (standard, contextual: a document followed
by a request about it, copyright) and seven semantic ones. A contextual behaviour is prompted as HarmBench does:
`{context}\\n\\n---\\n\\n{behavior}`.

HarmBench's headline metric is attack success rate judged by its fine-tuned Llama-2-13B classifier; offline we
report the refusal rate with alignlab's refusal classifier instead (direct requests, no attack), overall and per
category. Higher is better.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_csv, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource, NoOptions
from alignlab.eval.suites._refusal import generate_and_classify, refusal_metrics

SOURCE = DataSource(
    folder="harmbench", files=("harmbench_behaviors_text_test.csv",),
    dataset="HarmBench text behaviours, test split (centerforaisafety/HarmBench, third-party verbatim copy)",
    license="MIT", citation="Mazeika et al. 2024, ICML",
)


class HarmBench:
    name = "harmbench"
    title = "HarmBench: refusal of harmful behaviours"
    category = "safety"
    method = "generation + refusal classifier"
    sources = (SOURCE,)
    strata = "semantic_category"
    needs = frozenset({MODEL, CHAT})
    Options = NoOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_csv(suite_file("harmbench", "harmbench_behaviors_text_test.csv", data_dir),
                        required=("Behavior", "BehaviorID"))
        out = []
        for r in rows:
            context = (r.get("ContextString") or "").strip()
            prompt = f"{context}\n\n---\n\n{r['Behavior']}" if context else r["Behavior"]
            out.append({"id": r["BehaviorID"], "prompt": prompt, "functional_category": r["FunctionalCategory"],
                        "semantic_category": r["SemanticCategory"]})
        return out

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_and_classify(examples, context)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return refusal_metrics(samples, stats, by=("functional_category", "semantic_category"))
