"""XSafety, English vs Arabic: refusal parity across 14 safety scenarios.

Wang et al. 2024, *All Languages Matter: On the Multilingual Safety of Large Language Models* (Findings of
ACL). Parallel prompts in 14 categories (crimes, insults, mental health, goal hijacking, prompt leaking, role
play, ...); alignlab ships 20 parallel English/Arabic pairs per category (280, chosen by hash). The paper judges
unsafe responses with ChatGPT; here the unsafe rate per language comes from a harm judge when
`eval.options.xsafety.harm_judge` is set, else from the offline proxy "fully complied" per the refusal judge
(named in the description), then the paired gap Arabic minus English overall and per category (Newcombe
intervals), refusal rates and gap second. Note that some categories (commonsense, ethics) hold prompts where
refusing is not the safe answer; read per-category gaps, not refusal levels.
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
    folder="xsafety", files=("xsafety_en_ar.jsonl",),
    dataset="XSafety (Jarviswang94/Multilingual_safety_benchmark), ar + en", license="Apache-2.0",
    citation="Wang et al. 2024, Findings of ACL", terms="RESEARCH USE ONLY (upstream README)",
    subsample="280 of 2,800 parallel pairs: 20 per category, by SHA-256 of category and row",
)


class XSafety:
    name = "xsafety"
    title = "XSafety: English vs Arabic unsafe rate and gap"
    category = "multilingual"
    method = "generation in both languages + judge; unsafe rate per language, paired gap"
    sources = (SOURCE,)
    strata = "category"
    needs = frozenset({MODEL, CHAT})
    Options = HarmOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_jsonl(suite_file("xsafety", "xsafety_en_ar.jsonl", data_dir), required=("id", "en", "ar"))
        return [{"id": f"xsafety-{r['id']}", "category": r["category"], "en": r["en"], "ar": r["ar"]} for r in rows]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        return generate_both(examples, context, self.options)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return parity_metrics(samples, stats, group="category")
