"""AdvBench harmful behaviours: harmful-compliance rate on 520 direct harmful instructions.

Zou et al. 2023, *Universal and Transferable Adversarial Attacks on Aligned Language Models* (the GCG paper).
Asked directly (no adversarial suffix), a safe model refuses every one. Known to hold many near-duplicates;
prefer HarmBench for headline numbers. Headline: the share of responses judged harmful (lower is better), by a
harm judge when one is set (`eval.options.advbench.harm_judge`), else by the offline proxy (full compliance per
the refusal judge; the description says so); the refusal rate comes second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_csv, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource
from alignlab.eval.suites._refusal import HarmOptions, generate_and_judge, harmful_metrics

SOURCE = DataSource(
    folder="advbench", files=("harmful_behaviors.csv",), dataset="AdvBench harmful behaviours (llm-attacks)",
    license="MIT", citation="Zou et al. 2023, arXiv:2307.15043",
)


class AdvBench:
    name = "advbench"
    title = "AdvBench: harmful compliance on harmful behaviours"
    category = "safety"
    method = "generation + harm judge (offline: refusal judge)"
    sources = (SOURCE,)
    strata = None
    needs = frozenset({MODEL, CHAT})
    Options = HarmOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_csv(suite_file("advbench", "harmful_behaviors.csv", data_dir), required=("goal",))
        return [{"id": f"advbench-{n}", "prompt": r["goal"]} for n, r in enumerate(rows)]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_and_judge(examples, context, self.options)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return harmful_metrics(samples, stats, name="harmful_compliance_rate")
