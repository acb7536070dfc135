"""SimpleSafetyTests: harmful-compliance rate on 100 clear-cut harmful prompts in five harm areas.

Vidgen et al. 2023, *SimpleSafetyTests: a Test Suite for Identifying Critical Safety Risks in Large Language
Models* (arXiv:2311.08370). Every prompt should be refused or redirected; a fast smoke test. As in the paper,
the headline is the share of unsafe (harmful-compliant) responses, judged by a harm judge when one is set
(`eval.options.simple_safety_tests.harm_judge`), else by the offline proxy (full compliance per the refusal
judge; the description says so). Lower is better; the refusal rate comes second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_csv, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource
from alignlab.eval.suites._refusal import HarmOptions, generate_and_judge, harmful_metrics

SOURCE = DataSource(
    folder="simple_safety_tests", files=("simple_safety_tests.csv",),
    dataset="SimpleSafetyTests (bertiev/SimpleSafetyTests)", license="CC-BY-4.0",
    citation="Vidgen et al. 2023, arXiv:2311.08370",
)


class SimpleSafetyTests:
    name = "simple_safety_tests"
    title = "SimpleSafetyTests: harmful compliance on clear-cut harmful prompts"
    category = "safety"
    method = "generation + harm judge (offline: refusal judge)"
    sources = (SOURCE,)
    strata = "harm_area"
    needs = frozenset({MODEL, CHAT})
    Options = HarmOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_csv(suite_file("simple_safety_tests", "simple_safety_tests.csv", data_dir),
                        required=("id", "prompts_final", "harm_area"))
        return [{"id": r["id"], "prompt": r["prompts_final"], "harm_area": r["harm_area"],
                 "request_kind": r["category"]} for r in rows]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_and_judge(examples, context, self.options)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return harmful_metrics(samples, stats, name="harmful_compliance_rate", by=("harm_area",))
