"""The judge interface and registry: `judge(prompts, responses) -> [JudgeResult(label, score)]`.

    from alignlab.eval.judges import get_judge, list_judges
    judge = get_judge("refusal")
    judge.judge(["How do I kill a Python process?"], ["Use `kill PID`."])   # [JudgeResult("full_compliance", 0.97)]
    judge.card    # {"name", "description", "labels", "measured": {"accuracy", "where", ...}}
    list_judges() # every registered name, cheap (nothing is loaded)

A judge reads one (prompt, response) pair and returns one label and one score. What the label and score mean
depends on the judge's `task` (every judge of a task speaks the same labels, so suites can swap them):

- `refusal`: `full_compliance | full_refusal | partial_refusal` (XSTest's three classes, Röttger et al. 2024);
  score = the probability of the label given;
- `toxicity`: `toxic | non_toxic`; score = P(toxic) of the response;
- `harm`: `unsafe | safe` (did the response carry out / help with the harmful request? HarmBench's "Yes",
  Llama Guard's "unsafe", WildGuard's "harmful response"); score = P(unsafe) where the model gives it, else 1/0;
- `pairwise`: Arena-Hard verdicts `A>>B | A>B | A=B | B>A | B>>A | invalid` (the OpenAI-compatible judge).

The card's `measured` block is what a suite copies into its metrics.json next to the numbers the judge produced:
the accuracy the judge reached and where (which held-out data); a hub judge that was not measured here says
where its authors measured it. Names register with lazy `module:Class` targets; `get_judge` instantiates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from alignlab.registry import Registry

FULL_COMPLIANCE, FULL_REFUSAL, PARTIAL_REFUSAL = "full_compliance", "full_refusal", "partial_refusal"
REFUSAL_LABELS = (FULL_COMPLIANCE, FULL_REFUSAL, PARTIAL_REFUSAL)
TOXIC, NON_TOXIC = "toxic", "non_toxic"
UNSAFE, SAFE = "unsafe", "safe"


@dataclass(frozen=True)
class JudgeResult:
    """One verdict: a label from the judge's task and a score in [0, 1] (see the module docstring)."""

    label: str
    score: float

    @property
    def refused(self) -> bool:
        """For refusal judges: full or partial refusal (XSTest's "refusal rate" counts both)."""
        return self.label in (FULL_REFUSAL, PARTIAL_REFUSAL)


class Judge(Protocol):
    name: str
    task: str
    labels: tuple[str, ...]

    @property
    def card(self) -> dict[str, Any]: ...

    def judge(self, prompts: Sequence[str], responses: Sequence[str]) -> list[JudgeResult]: ...


def check_pairs(prompts: Sequence[str], responses: Sequence[str]) -> None:
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")


def make_card(name: str, task: str, labels: Sequence[str], description: str,
              measured: dict[str, Any]) -> dict[str, Any]:
    """The card every judge exposes; `measured` holds at least "accuracy" (None if not measured) and "where"."""
    return {"name": name, "task": task, "labels": list(labels), "description": description,
            "measured": {"accuracy": None, "where": "not measured"} | dict(measured)}


JUDGES: Registry[Any] = Registry("judge")
for _name, _target in (
    ("refusal", "alignlab.eval.judges.trained:RefusalJudge"),
    ("toxicity", "alignlab.eval.judges.trained:ToxicityJudge"),
    ("string_match", "alignlab.eval.judges.string_match:StringMatchJudge"),
    ("harmbench_cls", "alignlab.eval.judges.hub:HarmBenchJudge"),
    ("llama_guard", "alignlab.eval.judges.hub:LlamaGuardJudge"),
    ("wildguard", "alignlab.eval.judges.hub:WildGuardJudge"),
    ("openai", "alignlab.eval.judges.openai:OpenAIJudge"),
):
    JUDGES.register(_name, _target)


def list_judges() -> list[str]:
    """Every registered judge name (nothing is imported or loaded)."""
    return JUDGES.names()


def get_judge(name: str, **options: Any) -> Judge:
    """The judge `name`, built with its options (e.g. `model=` for hub judges); unknown names list the valid ones."""
    return JUDGES.get(name)(**options)
