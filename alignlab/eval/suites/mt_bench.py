"""MT-Bench two-turn prompts: does the second answer use the first turn, and how diverse are the answers?

Zheng et al. 2023, *Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena* (NeurIPS Datasets & Benchmarks).
80 questions in eight categories, each with a follow-up ("Rewrite your previous response ..."). The model
answers turn 1, then turn 2 with its own first answer in the conversation.

Metrics (per turn where it applies):
- context_use: mean per-token log-likelihood of the second answer given the whole conversation minus given
  the second question alone (nats/token): > 0 means the conversation made the answer more likely, i.e. the
  model's answer depends on the first turn (a pointwise mutual information; higher is better);
  context_helps: share of questions where that difference is positive.
- distinct_1, distinct_2 (higher: more diverse) and repetition_4 (Welleck et al. 2019 seq-rep-4, lower is
  better), per answer, see `alignlab.eval.text_stats`.
- with `--judge`: judge_turn1 / judge_turn2, each turn judged separately: a reward model scores the
  conversation up to that answer; an LLM judge rates 1-10 with MT-Bench's `single-v1` prompt for turn 1 and
  `single-v1-multi-turn` (which rates only the second answer) for turn 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import CHAT, MODEL, DataSource, NoOptions
from alignlab.eval.text_stats import distinct_n, repetition_n

SOURCE = DataSource(
    folder="mt_bench", files=("question.jsonl", "judge_prompts.jsonl"),
    dataset="MT-Bench questions and judge prompts (lm-sys/FastChat llm_judge)", license="Apache-2.0",
    citation="Zheng et al. 2023, NeurIPS Datasets and Benchmarks",
)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


class MTBench:
    name = "mt_bench"
    title = "MT-Bench two-turn: context use, diversity, per-turn judge scores"
    category = "quality"
    method = "two-turn generation; log-likelihood with and without the first turn; optional judge"
    sources = (SOURCE,)
    strata = "category"
    needs = frozenset({MODEL, CHAT})
    Options = NoOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_jsonl(suite_file("mt_bench", "question.jsonl", data_dir), required=("question_id", "turns"))
        return [{"id": f"mt-bench-{r['question_id']}", "category": r.get("category"), "turn_1": r["turns"][0],
                 "turn_2": r["turns"][1]} for r in rows if len(r["turns"]) >= 2]

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        lm = context.policy
        first = context.generate(lm, [[user(e["turn_1"])] for e in examples])
        histories = [[user(e["turn_1"]), assistant(a1), user(e["turn_2"])]
                     for e, a1 in zip(examples, first, strict=True)]
        second = context.generate(lm, histories)
        requests = []
        for history, a2, example in zip(histories, second, examples, strict=True):
            requests += [(lm.chat_prompt(history), a2), (lm.chat_prompt([user(example["turn_2"])]), a2)]
        scores = lm.loglikelihood(requests)
        samples = []
        for n, (example, a1, a2) in enumerate(zip(examples, first, second, strict=True)):
            with_context, alone = scores[2 * n], scores[2 * n + 1]
            use = (with_context.logprob - alone.logprob) / with_context.n_tokens if with_context.n_tokens else None
            sample = {**example, "answer_1": a1, "answer_2": a2, "context_use": use,
                      "context_helps": None if use is None else use > 0}
            for turn, answer in (("turn1", a1), ("turn2", a2)):
                sample |= {f"distinct_1_{turn}": distinct_n(answer, 1), f"distinct_2_{turn}": distinct_n(answer, 2),
                           f"repetition_4_{turn}": repetition_n(answer, 4)}
            samples.append(sample)
        if context.judge_ref is not None:
            judge_turns(samples, context)
        return samples

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        out = {
            "context_use": stats.mean(samples, "context_use", higher_is_better=True,
                                      description="log p(answer 2 | conversation) - log p(answer 2 | question 2 "
                                      "alone), nats per token"),
            "context_helps": stats.mean(samples, "context_helps", higher_is_better=True,
                                        description="share of questions where the first turn made answer 2 likelier"),
        }
        for turn in ("turn1", "turn2"):
            out[f"distinct_1/{turn}"] = stats.mean(samples, f"distinct_1_{turn}", higher_is_better=True,
                                                   description=f"distinct unigrams / unigrams per answer, {turn}")
            out[f"distinct_2/{turn}"] = stats.mean(samples, f"distinct_2_{turn}", higher_is_better=True,
                                                   description=f"distinct bigrams / bigrams per answer, {turn}")
            out[f"repetition_4/{turn}"] = stats.mean(samples, f"repetition_4_{turn}", higher_is_better=False,
                                                     description=f"share of repeated 4-grams per answer, {turn}")
            if any(s.get(f"judge_{turn}") is not None for s in samples):
                out[f"judge_{turn}"] = stats.mean(samples, f"judge_{turn}", higher_is_better=True,
                                                  description=f"judge score of {turn} ({samples[0]['judge_kind']})")
        return out


def judge_turns(samples: list[dict[str, Any]], context: Any) -> None:
    """Add judge_turn1 / judge_turn2 (and the judge's kind) to each sample, each turn judged on its own."""
    judge = context.judge("suite 'mt_bench' (per-turn judge scores)", kinds=("reward_model", "causal_lm"))
    if judge.kind == "reward_model":
        turn1 = judge.score([[user(s["turn_1"]), assistant(s["answer_1"])] for s in samples])
        turn2 = judge.score([[user(s["turn_1"]), assistant(s["answer_1"]), user(s["turn_2"]),
                              assistant(s["answer_2"])] for s in samples])
    else:
        turn1 = judge.rate([s["turn_1"] for s in samples], [s["answer_1"] for s in samples])
        turn2 = judge.rate_second_turn([(s["turn_1"], s["answer_1"], s["turn_2"], s["answer_2"]) for s in samples])
    for sample, score1, score2 in zip(samples, turn1, turn2, strict=True):
        sample |= {"judge_turn1": score1, "judge_turn2": score2, "judge_kind": judge.kind, "judge": judge.name}
