"""The `generate` stage: candidate pairs from the policy, and the choice of which pairs to annotate.

Each round, the policy (through the rollout engine, `alignlab.backends.rollout`) answers a pool of prompts
twice; the next annotation batch is the `batch` most informative pairs of the pool:

- `uncertainty` (Coste et al. 2024; the active-learning use of ensemble spread): the reward-model ensemble's
  members disagree most on which answer is better, i.e. the largest spread of the members' reward
  differences r_k(a) - r_k(b). A single reward model has no spread; then the pairs it separates least
  (smallest |r(a) - r(b)|) are taken, and the choice is recorded as `margin`.
- `disagreement`: the policy and the reward model disagree: the policy's log-probability prefers one answer,
  the reward model the other; pairs are ranked by -z(policy) * z(reward) (standardised differences).
- `random`: a seeded random sample (and what round 1 does, when no reward model exists yet).

Prompts come from `alignlab.data.synthetic` (the same story topics as the training data, seeded per round so a
round's prompts are new) or from a JSONL file of `{"prompt": ...}` rows. Output: `candidates.jsonl`, rows
`{"id", "prompt", "responses": [a, b], "models", "scores"?, "selection", "round"}` (the candidates format
`alignlab annotate push` takes), and `selection.json`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.errors import DataError


class GenerateOptions(StrictModel):
    pool: int = Field(256, ge=2, description="Prompts answered per round (each answered twice).")
    batch: int = Field(128, ge=1, description="Pairs kept for annotation (<= pool).")
    selection: Literal["uncertainty", "disagreement", "random"] = "uncertainty"
    prompts: str = Field("synthetic", description="synthetic (story prompts) or a JSONL file of {prompt} rows.")
    max_new_tokens: int = Field(40, ge=1)
    temperature: float = Field(1.0, gt=0.0, description="Sampling temperature (two different answers).")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    batch_size: int = Field(32, ge=1, description="Prompts per generate call.")


def synthetic_prompts(n: int, seed: Any) -> list[dict[str, str]]:
    """`n` distinct story prompts in the synthetic data's distribution, with their topic."""
    from alignlab.data.synthetic import TOPICS, _prompt

    rng = random.Random(f"pipeline-prompts/{seed}")
    seen: set[str] = set()
    out = []
    for _ in range(n * 20):
        topic = rng.choice(sorted(TOPICS))
        prompt = _prompt(rng, topic)
        if prompt not in seen:
            seen.add(prompt)
            out.append({"prompt": prompt, "category": topic})
        if len(out) == n:
            break
    return out


def file_prompts(path: str, n: int, seed: int) -> list[dict[str, str]]:
    from alignlab.data.io import read_rows

    rows = [r for r in read_rows(path) if isinstance(r, dict) and isinstance(r.get("prompt"), str)]
    if not rows:
        raise DataError(f"{path}: no rows with a string 'prompt'; the generate stage reads {{\"prompt\": ...}} rows")
    random.Random(seed).shuffle(rows)
    return [{"prompt": r["prompt"], "category": r.get("category") or ""} for r in rows[:n]]


def chat_prompts(tokenizer: Any, prompts: list[str]) -> list[str]:
    """Each prompt as the policy reads it: the one prompt formatter (`alignlab.data.prompts`), as the DPO stage
    that trains on these candidates encodes them (the chat template, or the plain form without one)."""
    from alignlab.data.prompts import format_prompt

    return [format_prompt(tokenizer, p, "auto", key="data.chat_template") for p in prompts]


def sample_pairs(model_path: str, prompts: list[str], options: GenerateOptions, seed: int,
                 echo: Any = None) -> list[tuple[Any, Any]]:
    """Two sampled completions per prompt: [(completion a, completion b)] (rollout `Completion`s); `echo` gets
    the generation's progress (a bar on a terminal, periodic lines elsewhere)."""
    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm, load_tokenizer

    tokenizer = load_tokenizer(model_path)
    model = load_causal_lm(model_path).eval()
    engine = ROLLOUT_ENGINES.get("hf")(model, tokenizer, batch_size=options.batch_size)
    engine.progress = echo
    sampling = SamplingParams(max_new_tokens=options.max_new_tokens, temperature=options.temperature,
                              top_p=options.top_p, n=2, seed=seed)
    completions = engine.generate(chat_prompts(tokenizer, prompts), sampling)
    return [(completions[2 * i], completions[2 * i + 1]) for i in range(len(prompts))]


def uncertainty(members: np.ndarray) -> np.ndarray:
    """Spread over ensemble members of the reward difference per pair. members: (K, 2N) scores of a, b
    interleaved -> (N,)."""
    differences = members[:, 0::2] - members[:, 1::2]  # (K, N)
    return differences.std(axis=0)


def disagreement(policy_diff: np.ndarray, reward_diff: np.ndarray) -> np.ndarray:
    """-z(policy) * z(reward): high when the policy's and the reward model's preferences point opposite ways."""
    def z(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / (x.std() + 1e-8)

    return -z(policy_diff) * z(reward_diff)


def select(pairs: list[dict[str, Any]], options: GenerateOptions, reward_model: str | None,
           seed: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Keep the `options.batch` pairs the strategy ranks first; returns (pairs, what was done)."""
    strategy = options.selection if reward_model else "random"
    if strategy == "random" or len(pairs) <= options.batch:
        order = list(range(len(pairs)))
        random.Random(f"select/{seed}").shuffle(order)
        chosen = order[:options.batch]
        return [pairs[i] | {"selection": {"strategy": "random"}} for i in chosen], {"strategy": "random"}
    from alignlab.models.reward import RewardModel

    rm = RewardModel.load(reward_model)
    scores = rm.score([p["prompt"] for p in pairs for _ in range(2)], [r for p in pairs for r in p["responses"]])
    reward_diff = scores.reward[0::2] - scores.reward[1::2]
    if strategy == "uncertainty" and scores.members is not None:
        value, used = uncertainty(scores.members), "uncertainty"
    elif strategy == "uncertainty":
        value, used = -np.abs(reward_diff), "margin"
    else:
        policy_diff = np.asarray([p["logprob_a"] - p["logprob_b"] for p in pairs])
        value, used = disagreement(policy_diff, reward_diff), "disagreement"
    ranked = np.argsort(-value, kind="stable")[:options.batch]
    out = []
    for i in ranked:
        pair = pairs[int(i)]
        out.append(pair | {"scores": [round(float(scores.reward[2 * i]), 4), round(float(scores.reward[2 * i + 1]), 4)],
                           "selection": {"strategy": used, "value": round(float(value[i]), 5)}})
    info = {"strategy": used, "reward_model": reward_model,
            "selected_mean": round(float(value[ranked].mean()), 5), "pool_mean": round(float(value.mean()), 5)}
    return out, info


def run_generate(context: Any) -> dict[str, Any]:
    from alignlab.data.io import write_jsonl
    from alignlab.utils.io import atomic_write_json

    options = GenerateOptions.model_validate(context.spec.config)
    policy = context.one("policy", "model")
    seed = context.seed
    prompts = (synthetic_prompts(options.pool, f"{context.pipeline.run.seed}/{context.round}")
               if options.prompts == "synthetic" else file_prompts(options.prompts, options.pool, seed))
    context.echo(f"sampling 2 answers to {len(prompts)} prompts from {policy}")
    sampled = sample_pairs(policy, [p["prompt"] for p in prompts], options, seed, context.echo)
    label = context.inputs["policy"][0].get("stage", "policy")
    pairs = []
    for index, (prompt, (a, b)) in enumerate(zip(prompts, sampled, strict=True)):
        if a.text.strip() == b.text.strip() or not a.text.strip() or not b.text.strip():
            continue  # nothing to compare
        pairs.append({"id": f"r{context.round or 0}-{index}", "prompt": prompt["prompt"],
                      "category": prompt["category"], "responses": [a.text.strip(), b.text.strip()],
                      "models": [label, label], "round": context.round,
                      "logprob_a": float(sum(a.logprobs)), "logprob_b": float(sum(b.logprobs))})
    if not pairs:
        raise DataError(f"stage {context.key!r}: the policy gave two identical answers to every prompt; raise "
                        "generate temperature or max_new_tokens")
    chosen, info = select(pairs, options, context.one("selector", "reward_model"), seed)
    path = Path(context.dir) / "candidates.jsonl"
    write_jsonl(path, chosen)
    info |= {"pool": len(prompts), "distinct_pairs": len(pairs), "batch": len(chosen)}
    atomic_write_json(Path(context.dir) / "selection.json", info)
    context.echo(f"kept {len(chosen)} of {len(pairs)} pairs by {info['strategy']}")
    return {"candidates": str(path), "metrics": info}
