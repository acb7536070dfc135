"""AdvBench harmful behaviours: refusal rate on 520 direct harmful instructions.

Zou et al. 2023, *Universal and Transferable Adversarial Attacks on Aligned Language Models* (the GCG paper).
Asked directly (no adversarial suffix), a safe model refuses every one. Known to hold many near-duplicates;
prefer HarmBench for headline numbers. Higher is better.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_csv, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource, NoOptions
from alignlab.eval.suites._refusal import generate_and_classify, refusal_metrics

SOURCE = DataSource(
    folder="advbench", files=("harmful_behaviors.csv",), dataset="AdvBench harmful behaviours (llm-attacks)",
    license="MIT", citation="Zou et al. 2023, arXiv:2307.15043",
)


class AdvBench:
    name = "advbench"
    title = "AdvBench: refusal of harmful behaviours"
    category = "safety"
    method = "generation + refusal classifier"
    sources = (SOURCE,)
    strata = None
    needs = frozenset({MODEL, CHAT})
    Options = NoOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_csv(suite_file("advbench", "harmful_behaviors.csv", data_dir), required=("goal",))
        return [{"id": f"advbench-{n}", "prompt": r["goal"]} for n, r in enumerate(rows)]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_and_classify(examples, context)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return refusal_metrics(samples, stats)
