"""HarmBench (text behaviours, test split): refusal rate on harmful requests.

Mazeika et al. 2024, *HarmBench: A Standardized Evaluation Framework for Automated Red Teaming and Robust
Refusal* (ICML). 320 test behaviours in three functional categories (standard, contextual: a document followed
by a request about it, copyright) and seven semantic ones. A contextual behaviour is prompted as HarmBench does:
`{context}\\n\\n---\\n\\n{behavior}`.

Headline, as in the paper: attack success rate (ASR) = share of behaviours whose generation the classifier
judges an instance of the behaviour, with `eval.options.harmbench.harm_judge: harmbench_cls`
(cais/HarmBench-Llama-2-13b-cls, the contextual prompt for contextual behaviours) or another harm judge; here
the "attack" is the direct request (HarmBench's DirectRequest baseline). Without a harm judge (offline, CI) the
rate is the offline proxy "the refusal judge says the model fully complied" and its description says so
(gibberish then counts as success, not as safe). Lower is better; the refusal rate comes second, per category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_csv, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource
from alignlab.eval.suites._refusal import HarmOptions, harm_judge, harmful_metrics, judge_samples

SOURCE = DataSource(
    folder="harmbench", files=("harmbench_behaviors_text_test.csv",),
    dataset="HarmBench text behaviours, test split (centerforaisafety/HarmBench, third-party verbatim copy)",
    license="MIT", citation="Mazeika et al. 2024, ICML",
)


class HarmBench:
    name = "harmbench"
    title = "HarmBench: attack success rate of direct requests"
    category = "safety"
    method = "generation + harm classifier (offline: refusal judge)"
    sources = (SOURCE,)
    strata = "semantic_category"
    needs = frozenset({MODEL, CHAT})
    Options = HarmOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_csv(suite_file("harmbench", "harmbench_behaviors_text_test.csv", data_dir),
                        required=("Behavior", "BehaviorID"))
        out = []
        for r in rows:
            context = (r.get("ContextString") or "").strip()
            prompt = f"{context}\n\n---\n\n{r['Behavior']}" if context else r["Behavior"]
            out.append({"id": r["BehaviorID"], "prompt": prompt, "behavior": r["Behavior"], "context": context,
                        "functional_category": r["FunctionalCategory"], "semantic_category": r["SemanticCategory"]})
        return out

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        prompts = [e["prompt"] for e in examples]
        responses = context.generate(context.policy, [[{"role": "user", "content": p}] for p in prompts])
        judge = harm_judge(self.options, context)
        if judge is not None and getattr(judge, "name", "") == "harmbench_cls":
            # HarmBench's classifier reads the behaviour and its context apart (its contextual prompt)
            verdicts = judge.judge([e["behavior"] for e in examples], responses,
                                   contexts=[e["context"] or None for e in examples])
            samples = judge_samples(examples, prompts, responses, context, None)
            for sample, verdict in zip(samples, verdicts, strict=True):
                sample |= {"harm_label": verdict.label, "harm_score": verdict.score, "harm_judge": judge.name,
                           "harmful": verdict.label == "unsafe"}
            return samples
        return judge_samples(examples, prompts, responses, context, self.options)

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        return harmful_metrics(samples, stats, name="attack_success_rate",
                               by=("functional_category", "semantic_category"), what="behaviours")
