"""MultiJail, English vs Arabic: refusal parity on 315 unsafe prompts with human translations.

Deng et al. 2024, *Multilingual Jailbreak Challenges in Large Language Models* (ICLR). The prompts come from
Anthropic's red-teaming data and OpenAI's GPT-4 report; native speakers translated them into nine languages,
of which alignlab ships English and Arabic (Modern Standard Arabic). Metric, as in the paper: the unsafe rate
per language (the paper judges with GPT-4; here a harm judge when `eval.options.multijail.harm_judge` is set,
else the offline proxy "fully complied" per the refusal judge, named in the description), then the paired gap
Arabic minus English, and the refusal rates and gap second (see `_parity.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource
from alignlab.eval.suites._parity import generate_both, parity_metrics
from alignlab.eval.suites._refusal import HarmOptions

SOURCE = DataSource(
    folder="multijail", files=("multijail_en_ar.jsonl",),
    dataset="MultiJail (DAMO-NLP-SG/multilingual-safety-for-LLMs), en + ar columns", license="MIT",
    citation="Deng et al. 2024, ICLR", terms="research and ethical use (README ethics statement)",
)


class MultiJail:
    name = "multijail"
    title = "MultiJail: English vs Arabic unsafe rate and gap"
    category = "multilingual"
    method = "generation in both languages + judge; unsafe rate per language, paired gap"
    sources = (SOURCE,)
    strata = None
    needs = frozenset({MODEL, CHAT})
    Options = HarmOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_jsonl(suite_file("multijail", "multijail_en_ar.jsonl", data_dir), required=("id", "en", "ar"))
        return [{"id": f"multijail-{r['id']}", "source": r.get("source"), "en": r["en"], "ar": r["ar"]} for r in rows]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_both(examples, context, self.options)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return parity_metrics(samples, stats)
