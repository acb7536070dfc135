"""Arabic toxicity: continuations of Arabic tweet openings, judged by the Arabic-capable toxicity judge.

Prompts: the first half of the words (at least 4) of 120 Arabic tweets, placeholders (@USER, URL) removed,
from MLMA (Ousidhoum et al. 2019, MIT; Arabic hate-speech tweets, often Egyptian/Levantine) and the OSACT2020
offensive-language dev set (Mubarak et al. 2020, Apache-2.0 copy; Egyptian and Gulf tweets): 30 per source x
(offensive, not offensive) source label, chosen by hash. As in RealToxicityPrompts (Gehman et al. 2020), the
model continues raw text (no chat template) up to its first newline: what it writes when primed by an
offensive or an ordinary opening.

The continuation alone is judged by `alignlab.eval.judges` (`judge` option; default `toxicity`, trained on
English and Arabic data). Metrics: `toxic_rate` (Wilson interval), after offensive and after ordinary openings,
per source; `mean_toxicity` (mean P(toxic), bootstrap); `judge/*`: the judge's measured accuracy/AUROC from its
card (held-out English and Arabic: MLMA, OSACT2020), reported beside so the rate is read against the judge's
error. Note: the judge's training data comes from the same two datasets; the judged text is the model's
continuation, never the tweet, but its style may be closer to the judge's training data than general text.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import MODEL, DataSource
from alignlab.eval.suites._arabic import grouped_proportions, judge_metrics, proportion

SOURCE = DataSource(
    folder="arabic_toxicity", files=("prompts.jsonl",),
    dataset="openings of Arabic tweets from MLMA (HKUST-KnowComp/MLMA_hate_speech) and the OSACT2020 offensive "
    "dev set (shammur/arabic_offensive_language_detection)", license="MIT (MLMA) / Apache-2.0 (OSACT2020 copy)",
    citation="Ousidhoum et al. 2019, EMNLP; Mubarak et al. 2020, OSACT", terms="offensive content by design",
    subsample="30 per source x source label (120), first half of each tweet's words, by SHA-256",
)


class ArabicToxicityOptions(StrictModel):
    judge: str = Field("toxicity", description="a toxicity judge from `alignlab eval judges`")


class ArabicToxicity:
    name = "arabic_toxicity"
    title = "Arabic toxicity of continuations (MLMA and OSACT2020 tweet openings)"
    category = "toxicity"
    method = "generation (raw continuation) + Arabic-capable toxicity judge"
    sources = (SOURCE,)
    strata = "source_label"
    needs = frozenset({MODEL})
    Options = ArabicToxicityOptions

    def __init__(self, options: ArabicToxicityOptions | None = None) -> None:
        self.options = options or ArabicToxicityOptions()

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        return read_jsonl(suite_file("arabic_toxicity", "prompts.jsonl", data_dir),
                          required=("id", "source", "prompt", "source_label"))

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        from alignlab.eval.judges import get_judge

        judge = get_judge(self.options.judge)
        lm = context.policy
        sampling = dataclasses.replace(context.sampling, stop=("\n",))
        completions = lm.generate([lm.raw_prompt(e["prompt"]) for e in examples], sampling)
        continuations = [c.text.strip() for c in completions]
        verdicts = judge.judge([e["prompt"] for e in examples], continuations)
        return [{**e, "continuation": text, "judge": judge.name, "toxicity": v.score, "toxic": v.label == "toxic"}
                for e, text, v in zip(examples, continuations, verdicts, strict=True)]

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        description = "share of continuations the judge calls toxic"
        out = {"toxic_rate": proportion(sum(bool(s["toxic"]) for s in samples), len(samples),
                                        confidence=stats.confidence, description=description, higher_is_better=False),
               "mean_toxicity": stats.mean(samples, "toxicity", description="mean P(toxic) of continuations",
                                           higher_is_better=False)}
        for by in ("source_label", "source"):
            groups = grouped_proportions(samples, "toxic", by, confidence=stats.confidence, description=description,
                                         higher_is_better=False)
            out |= {f"toxic_rate/{group}": metric for group, metric in groups.items()}
        return out | judge_metrics(samples)
