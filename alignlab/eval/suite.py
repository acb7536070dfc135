"""The suite protocol and the suite registry.

A suite is a small class (one file per suite under `alignlab/eval/suites/`) that declares

- `name`, `title`, `category` (bias, safety, toxicity, multilingual, quality, reward_model, winrate) and
  `method` (how it scores, in words: "log-likelihood of each answer", "generation + refusal classifier", ...);
- `sources`: the shipped data it reads (folder under eval_data/, files, dataset, license, terms, citation);
- `needs`: what a run must provide: `MODEL` (the policy under test), `CHAT` (prompts go through the
  tokenizer's chat template), `JUDGE` (any judge), `REWARD_JUDGE` (a judge that is a reward model),
  `BASELINE` (a second policy);
- `Options`: a pydantic model of its own settings (`eval.options.<suite>` in a config), defaults included;
- `strata`: the example field a subsample (`eval.limit`) is stratified by, or None;

and implements three methods:

    load(data_dir) -> list[dict]                 examples, each with a unique "id"
    run(examples, context) -> list[dict]         one sample per example: its inputs, outputs and scores
    metrics(samples, stats) -> dict[str, dict]   every metric from the samples alone, with a bootstrap CI

`run` is the only part that touches a model (through `EvalContext`); `metrics` is a pure function of the
samples, which is what `samples.jsonl` holds, so any number in a report can be recomputed from that file and
a test can check a suite's metrics on a hand-written five-example log.

Suites register here by name with a lazy `module:Class` target, so listing them imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from alignlab.config.base import StrictModel
from alignlab.registry import Registry

if TYPE_CHECKING:
    from alignlab.eval.context import EvalContext
    from alignlab.eval.stats import Stats

MODEL, CHAT, JUDGE, REWARD_JUDGE, BASELINE = "model", "chat_template", "judge", "reward_judge", "baseline"


@dataclass(frozen=True)
class DataSource:
    """One shipped dataset a suite reads: where it is and on what terms it may be used."""

    folder: str
    files: tuple[str, ...]
    dataset: str
    license: str
    citation: str
    terms: str = ""
    subsample: str = ""


class NoOptions(StrictModel):
    """A suite without settings of its own."""


class Suite(Protocol):
    name: ClassVar[str]
    title: ClassVar[str]
    category: ClassVar[str]
    method: ClassVar[str]
    sources: ClassVar[tuple[DataSource, ...]]
    needs: ClassVar[frozenset[str]]
    strata: ClassVar[str | None]
    Options: ClassVar[type[StrictModel]]

    def __init__(self, options: Any = None) -> None: ...

    def load(self, data_dir: Path) -> list[dict[str, Any]]: ...

    def run(self, examples: list[dict[str, Any]], context: EvalContext) -> list[dict[str, Any]]: ...

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]: ...


SUITES: Registry[type[Suite]] = Registry("eval suite")
for _name, _target in (
    ("bbq", "bbq:BBQ"),
    ("crows_pairs", "crows_pairs:CrowSPairs"),
    ("stereoset", "stereoset:StereoSet"),
    ("xstest", "xstest:XSTest"),
    ("harmbench", "harmbench:HarmBench"),
    ("advbench", "advbench:AdvBench"),
    ("simple_safety_tests", "simple_safety_tests:SimpleSafetyTests"),
    ("toxicity", "toxicity:Toxicity"),
    ("multijail", "multijail:MultiJail"),
    ("xsafety", "xsafety:XSafety"),
    ("perplexity", "perplexity:Perplexity"),
    ("mt_bench", "mt_bench:MTBench"),
    ("reward_bench", "reward_bench:RewardBench"),
    ("winrate", "winrate:WinRate"),
    ("arabic_dialects", "arabic_dialects:ArabicDialects"),
    ("camel", "camel:Camel"),
    ("acva", "acva:ACVA"),
    ("dialect_safety", "dialect_safety:DialectSafety"),
    ("arabic_toxicity", "arabic_toxicity:ArabicToxicity"),
):
    SUITES.register(_name, f"alignlab.eval.suites.{_target}")


def build_suite(name: str, options: dict[str, Any] | None = None) -> Suite:
    """The suite `name` with its options validated (unknown option keys are errors)."""
    cls = SUITES.get(name)
    return cls(cls.Options.model_validate(options or {}))


def describe(name: str) -> dict[str, Any]:
    """What `alignlab eval list` prints and what a suite's metrics.json records about itself."""
    cls = SUITES.get(name)
    return {
        "name": cls.name, "title": cls.title, "category": cls.category, "method": cls.method,
        "needs": sorted(cls.needs),
        "sources": [vars(source) | {"files": list(source.files)} for source in cls.sources],
    }
