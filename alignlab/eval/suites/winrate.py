"""Win rate of the model against a baseline (Arena-Hard style), with a Bradley-Terry fit and a bootstrap CI.

Li et al. 2024, *From Crowdsourced Data to High-Quality Benchmarks: Arena-Hard and BenchBuilder*. The model
(`--model`) and the baseline (`--baseline`) answer the same prompts (100 Arena-Hard v0.1 prompts and the 80
MT-Bench first turns, shipped); the judge (`--judge`) compares each pair in both orders:
- a reward model scores each answer on its own, so both orders give the same verdict; answers whose scores
  differ by at most `tie_margin` tie;
- a causal LM judge (or an OpenAI-compatible endpoint, `--judge openai:MODEL` at $OPENAI_BASE_URL with the key from
  $OPENAI_API_KEY, as the OpenAI SDK reads them) reads Arena-Hard's judge prompt (the default, `verdicts:
  arena_hard`) with the candidate as assistant A, then as assistant B, and ends with one of five verdicts:
  `[[A>>B]]`, `[[A>B]]`, `[[A=B]]`, `[[B>A]]`, `[[B>>A]]`; as in Arena-Hard's `show_result.py`, a strong verdict
  counts as three battles and a slight one (or a tie) as one, and an answer without a verdict is dropped and counted
  (`invalid_rate`), never scored as a tie. `verdicts: mt_bench` uses MT-Bench's pairwise prompt (`[[A]]`, `[[B]]`,
  `[[C]]` = tie) instead.

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
from alignlab.errors import ConfigError
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
    verdicts: Literal["arena_hard", "mt_bench"] = Field("arena_hard", description="LM judge: Arena-Hard's five "
                                                        "verdicts (strong = 3 battles) or MT-Bench's three.")


def outcome_from_scores(candidate: float, baseline: float, margin: float) -> float:
    """1.0 candidate wins, 0.0 baseline wins, 0.5 tie (|difference| <= margin)."""
    difference = candidate - baseline
    return 0.5 if abs(difference) <= margin else float(difference > 0)


# verdict -> (outcome for assistant A, battles it counts for); Arena-Hard weights a strong verdict 3
VERDICT_OUTCOMES = {"A>>B": (1.0, 3), "A>B": (1.0, 1), "A=B": (0.5, 1), "B>A": (0.0, 1), "B>>A": (0.0, 3),
                    "A": (1.0, 1), "B": (0.0, 1), "tie": (0.5, 1)}


def outcome_from_verdict(verdict: str, candidate_is_a: bool) -> tuple[float | None, int]:
    """(outcome for the candidate, weight); (None, 0) for an invalid verdict, which is dropped."""
    if verdict not in VERDICT_OUTCOMES:
        return None, 0
    outcome, weight = VERDICT_OUTCOMES[verdict]
    return (outcome if candidate_is_a else 1.0 - outcome), weight


class WinRate:
    name = "winrate"
    title = "Win rate vs baseline (Bradley-Terry, both orders)"
    category = "winrate"
    method = "both models generate; judge compares each pair in both orders; Bradley-Terry fit"
    sources = SOURCES
    strata = "source"
    needs = frozenset({MODEL, BASELINE, JUDGE, CHAT})
    Options = WinRateOptions

    def check(self, context: Any) -> None:
        """Before any suite starts: an endpoint judge speaks Arena-Hard's verdicts only."""
        from alignlab.eval.context import ENDPOINT_PREFIX

        ref = context.judge_ref
        if ref is not None and ref.name_or_path.startswith(ENDPOINT_PREFIX) and self.options.verdicts != "arena_hard":
            raise ConfigError("eval.options.winrate.verdicts: an endpoint judge (openai:MODEL) gives Arena-Hard's "
                              "verdicts; set verdicts: arena_hard, or judge with a local causal LM for mt_bench")

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
        judge = context.judge("suite 'winrate'", kinds=("reward_model", "causal_lm", "endpoint"))
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
                           "verdicts": None, "outcomes": [outcome, outcome], "weights": [1, 1],
                           "invalid": [False, False]}
        else:
            prompts = [e["prompt"] for e in examples]
            compare = judge.compare_arena if self.options.verdicts == "arena_hard" else judge.compare
            first = compare(prompts, candidate, baseline)
            second = compare(prompts, baseline, candidate)
            for sample, v1, v2 in zip(samples, first, second, strict=True):
                (o1, w1), (o2, w2) = outcome_from_verdict(v1, True), outcome_from_verdict(v2, False)
                sample |= {"verdicts": [v1, v2], "invalid": [o1 is None, o2 is None], "outcomes": [o1, o2],
                           "weights": [w1, w2]}
        for sample in samples:
            add_summary_fields(sample)
        return samples

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        battles = [battle for s in samples for battle in battles_of(s)]
        if battles:
            value, low, high = bootstrap_win_rate(battles, CANDIDATE, BASE, n_resamples=stats.n_resamples,
                                                  confidence=stats.confidence, seed=stats.seed)
        else:  # every verdict was unparseable: nothing to fit (invalid_rate says so)
            value = low = high = None
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
            judgements = [flag for s in samples for flag in s["invalid"]]
            out["invalid_rate"] = stats.proportion(sum(judgements), len(judgements), higher_is_better=False,
                                                   description=f"judge answers without a parsable verdict: "
                                                   f"{sum(judgements)} of {len(judgements)}, dropped (not ties)")
        out |= stats.grouped_means(samples, "win_share", "source", prefix="win_share", higher_is_better=True,
                                   description="(wins + ties / 2) / judgements")
        return out


def add_summary_fields(sample: dict[str, Any]) -> None:
    """Per-prompt numbers the metrics average, from the valid outcomes (candidate's view); None where none is."""
    first, second = sample["outcomes"]  # order 1: candidate shown first; order 2: baseline shown first
    valid = [o for o in (first, second) if o is not None]
    sample["win_share"] = sum(valid) / len(valid) if valid else None
    sample["tie_share"] = sum(o == 0.5 for o in valid) / len(valid) if valid else None
    sample["consistent"] = first == second if len(valid) == 2 else None
    shown_first = [o for o in (first, None if second is None else 1.0 - second) if o is not None]
    sample["first_position_share"] = sum(shown_first) / len(shown_first) if shown_first else None
    sample["invalid_share"] = sum(sample["invalid"]) / 2


def battles_of(sample: dict[str, Any]) -> list[Battle]:
    """Both orders as battles, each repeated by its verdict's weight; invalid verdicts give none."""
    first, second = sample["outcomes"]
    weights = sample.get("weights") or [1, 1]
    out = []
    if first is not None:
        out += [Battle(CANDIDATE, BASE, first, prompt=sample["id"])] * weights[0]
    if second is not None:
        out += [Battle(BASE, CANDIDATE, 1.0 - second, prompt=sample["id"])] * weights[1]
    return out
