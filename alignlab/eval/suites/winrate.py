"""Win rate of the model against a baseline (Arena-Hard style), with a Bradley-Terry fit and a bootstrap CI.

Li et al. 2024, *From Crowdsourced Data to High-Quality Benchmarks: Arena-Hard and BenchBuilder*. The model
(`--model`) and the baseline (`--baseline`) answer the same prompts (100 Arena-Hard v0.1 prompts and the 80
MT-Bench first turns, shipped); the judge (`--judge`) compares each pair in both orders:
- a reward model scores each answer on its own, so both orders give the same verdict; answers whose scores
  differ by at most `tie_margin` tie;
- a causal LM judge reads MT-Bench's pairwise prompt with the candidate as assistant A, then as assistant B,
  answering `[[A]]`, `[[B]]` or `[[C]]` (tie); an unparsable answer counts as a tie and as invalid.

Metrics: `win_rate` = P(model beats baseline) from a Bradley-Terry logistic regression over all judgements
(`alignlab.eval.bradley_terry`; an intercept absorbs the judge's position bias, so for a biased LLM judge it
can differ from the raw win share; for a reward model they are equal), CI from refits on resampled prompts;
`win_share` (wins + ties / 2, averaged over both orders), `tie_rate`, `position_consistency` (both orders pick
the same winner), `first_position_share` (how often the answer shown first won; 0.5 = no position bias) and,
for an LM judge, `invalid_rate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.eval.bradley_terry import Battle, bootstrap_win_rate
from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import BASELINE, CHAT, JUDGE, MODEL, DataSource

SOURCES = (
    DataSource(folder="arena_hard", files=("question_subset.jsonl",), dataset="Arena-Hard-Auto v0.1 prompts "
               "(lmarena/arena-hard-auto)", license="Apache-2.0", citation="Li et al. 2024, arXiv:2406.11939",
               subsample="100 of 500 prompts, by SHA-256 of the uid"),
    DataSource(folder="mt_bench", files=("question.jsonl",), dataset="MT-Bench first turns (lm-sys/FastChat)",
               license="Apache-2.0", citation="Zheng et al. 2023"),
)
CANDIDATE, BASE = "model", "baseline"


class WinRateOptions(StrictModel):
    prompts: list[Literal["arena_hard", "mt_bench"]] = Field(default_factory=lambda: ["arena_hard", "mt_bench"],
                                                             min_length=1)
    tie_margin: float = Field(0.0, ge=0.0, description="Reward-model judge: score differences up to this tie.")


def outcome_from_scores(candidate: float, baseline: float, margin: float) -> float:
    """1.0 candidate wins, 0.0 baseline wins, 0.5 tie (|difference| <= margin)."""
    difference = candidate - baseline
    return 0.5 if abs(difference) <= margin else float(difference > 0)


def outcome_from_verdict(verdict: str, candidate_is_a: bool) -> float:
    if verdict in ("tie", "invalid"):
        return 0.5
    return float((verdict == "A") == candidate_is_a)


class WinRate:
    name = "winrate"
    title = "Win rate vs baseline (Bradley-Terry, both orders)"
    category = "winrate"
    method = "both models generate; judge compares each pair in both orders; Bradley-Terry fit"
    sources = SOURCES
    strata = "source"
    needs = frozenset({MODEL, BASELINE, JUDGE, CHAT})
    Options = WinRateOptions

    def __init__(self, options: WinRateOptions | None = None) -> None:
        self.options = options or WinRateOptions()

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        examples = []
        if "arena_hard" in self.options.prompts:
            rows = read_jsonl(suite_file("arena_hard", "question_subset.jsonl", data_dir), required=("uid", "prompt"))
            examples += [{"id": f"arena-hard-{r['uid']}", "source": "arena_hard", "prompt": r["prompt"]} for r in rows]
        if "mt_bench" in self.options.prompts:
            rows = read_jsonl(suite_file("mt_bench", "question.jsonl", data_dir), required=("question_id", "turns"))
            examples += [{"id": f"mt-bench-{r['question_id']}", "source": "mt_bench", "prompt": r["turns"][0]}
                         for r in rows]
        return examples

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        judge = context.judge("suite 'winrate'", kinds=("reward_model", "causal_lm"))
        conversations = [[{"role": "user", "content": e["prompt"]}] for e in examples]
        candidate = context.generate(context.policy, conversations)
        baseline = context.generate(context.baseline, conversations)
        samples = [{**e, "candidate": c, "baseline": b, "judge": judge.name, "judge_kind": judge.kind}
                   for e, c, b in zip(examples, candidate, baseline, strict=True)]
        if judge.kind == "reward_model":
            pairs = zip(conversations, candidate, baseline, strict=True)
            scores = judge.score([[*conv, {"role": "assistant", "content": answer}]
                                  for conv, c, b in pairs for answer in (c, b)])
            for n, sample in enumerate(samples):
                outcome = outcome_from_scores(scores[2 * n], scores[2 * n + 1], self.options.tie_margin)
                sample |= {"score_candidate": scores[2 * n], "score_baseline": scores[2 * n + 1],
                           "verdicts": None, "outcomes": [outcome, outcome], "invalid": [False, False]}
        else:
            prompts = [e["prompt"] for e in examples]
            first = judge.compare(prompts, candidate, baseline)
            second = judge.compare(prompts, baseline, candidate)
            for sample, v1, v2 in zip(samples, first, second, strict=True):
                sample |= {"verdicts": [v1, v2], "invalid": [v1 == "invalid", v2 == "invalid"],
                           "outcomes": [outcome_from_verdict(v1, True), outcome_from_verdict(v2, False)]}
        for sample in samples:
            add_summary_fields(sample)
        return samples

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        battles = [battle for s in samples for battle in battles_of(s)]
        value, low, high = bootstrap_win_rate(battles, CANDIDATE, BASE, n_resamples=stats.n_resamples,
                                              confidence=stats.confidence, seed=stats.seed)
        out = {"win_rate": {"value": value, "low": low, "high": high, "n": len(samples),
                            "confidence": stats.confidence, "higher_is_better": True,
                            "description": "P(model beats baseline), Bradley-Terry fit over both orders; "
                            "CI from refits on resampled prompts"}}
        out["win_share"] = stats.mean(samples, "win_share", higher_is_better=True,
                                      description="(wins + ties / 2) / judgements, both orders")
        out["tie_rate"] = stats.mean(samples, "tie_share", description="share of judgements that are ties")
        out["position_consistency"] = stats.mean(samples, "consistent", higher_is_better=True,
                                                 description="share of prompts where both orders pick the same winner")
        out["first_position_share"] = stats.mean(samples, "first_position_share",
                                                 description="share won by the answer shown first; 0.5 = no bias")
        if any(s["verdicts"] is not None for s in samples):
            out["invalid_rate"] = stats.mean(samples, "invalid_share", higher_is_better=False,
                                             description="share of judge answers without a parsable verdict")
        out |= stats.grouped_means(samples, "win_share", "source", prefix="win_share", higher_is_better=True,
                                   description="(wins + ties / 2) / judgements")
        return out


def add_summary_fields(sample: dict[str, Any]) -> None:
    """Per-prompt numbers the metrics average: all derived from the two outcomes (candidate's view)."""
    first, second = sample["outcomes"]  # order 1: candidate shown first; order 2: baseline shown first
    sample["win_share"] = (first + second) / 2
    sample["tie_share"] = ((first == 0.5) + (second == 0.5)) / 2
    sample["consistent"] = first == second
    sample["first_position_share"] = (first + (1.0 - second)) / 2
    sample["invalid_share"] = sum(sample["invalid"]) / 2


def battles_of(sample: dict[str, Any]) -> list[Battle]:
    first, second = sample["outcomes"]
    return [Battle(CANDIDATE, BASE, first, prompt=sample["id"]), Battle(BASE, CANDIDATE, 1.0 - second,
                                                                       prompt=sample["id"])]
