"""MultiJail, English vs Arabic: refusal parity on 315 unsafe prompts with human translations.

Deng et al. 2024, *Multilingual Jailbreak Challenges in Large Language Models* (ICLR). The prompts come from
Anthropic's red-teaming data and OpenAI's GPT-4 report; native speakers translated them into nine languages,
of which alignlab ships English and Arabic (Modern Standard Arabic). Metric: the refusal-rate gap
English minus Arabic with a paired bootstrap CI, and each language's refusal rate (see `_parity.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource, NoOptions
from alignlab.eval.suites._parity import generate_both, parity_metrics

SOURCE = DataSource(
    folder="multijail", files=("multijail_en_ar.jsonl",),
    dataset="MultiJail (DAMO-NLP-SG/multilingual-safety-for-LLMs), en + ar columns", license="MIT",
    citation="Deng et al. 2024, ICLR", terms="research and ethical use (README ethics statement)",
)


class MultiJail:
    name = "multijail"
    title = "MultiJail: English vs Arabic refusal parity"
    category = "multilingual"
    method = "generation in both languages + refusal classifier; paired gap"
    sources = (SOURCE,)
    strata = None
    needs = frozenset({MODEL, CHAT})
    Options = NoOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_jsonl(suite_file("multijail", "multijail_en_ar.jsonl", data_dir), required=("id", "en", "ar"))
        return [{"id": f"multijail-{r['id']}", "source": r.get("source"), "en": r["en"], "ar": r["ar"]} for r in rows]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_both(examples, context)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return parity_metrics(samples, stats)
