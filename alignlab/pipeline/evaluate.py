"""The `eval` stage: the policy against a baseline on held-out prompts judged by the hidden rule, its mean
reward under the round's reward model, and (optionally) evaluation suites such as the standard bundle.

Rule win rate: the model and the baseline answer the same `prompts` held-out prompts (a seed no round uses
for candidates), `samples` answers each; the hidden rule (`alignlab.annotation.simulated.rule_outcome`)
compares answer k of the model with answer k of the baseline (1 win, 0.5 tie, 0 loss); a prompt's score is
the mean over its samples and the 95% CI is a percentile bootstrap over prompts
(`alignlab.metrics.bootstrap`). This is the number the demo's headline reports: what the annotators'
hidden preference says about the aligned policy, independent of the reward model that was trained on it.

Suites run through `alignlab.evaluate` (the eval folder is `<stage>/suites/`), with the stage's judge and
baseline; `suites_config: configs/eval/standard.yaml` with `limit: 8` runs the standard bundle sub-sampled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from alignlab.config.base import StrictModel


class RuleWinRateOptions(StrictModel):
    prompts: int = Field(200, ge=0, description="Held-out prompts (0: skip the rule win rate).")
    samples: int = Field(2, ge=1, description="Sampled answers per prompt and model.")
    max_new_tokens: int = Field(40, ge=1)
    temperature: float = Field(1.0, ge=0.0, description="0: greedy (one sample is enough).")
    bootstrap_resamples: int = Field(2000, ge=100)


class EvalOptions(StrictModel):
    rule_winrate: RuleWinRateOptions = Field(default_factory=RuleWinRateOptions)
    suites_config: str | None = Field(None, description="An eval config (e.g. configs/eval/standard.yaml); "
                                      "None: no suites.")
    suites: list[str] | None = Field(None, description="Run only these suites of suites_config.")
    exclude: list[str] = Field(default_factory=list, description="Suites of suites_config to leave out.")
    limit: int | None = Field(None, ge=1, description="Examples per suite (overrides the config's eval.limit).")
    batch_size: int = Field(32, ge=1)


def generate_answers(model_path: str, prompts: list[str], options: RuleWinRateOptions, seed: int,
                     batch_size: int) -> list[list[str]]:
    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm, load_tokenizer
    from alignlab.pipeline.candidates import chat_prompts

    tokenizer = load_tokenizer(model_path)
    model = load_causal_lm(model_path).eval()
    engine = ROLLOUT_ENGINES.get("hf")(model, tokenizer, batch_size=batch_size)
    n = options.samples if options.temperature > 0 else 1
    sampling = SamplingParams(max_new_tokens=options.max_new_tokens, temperature=options.temperature, n=n, seed=seed)
    completions = engine.generate(chat_prompts(tokenizer, prompts), sampling)
    return [[c.text.strip() for c in completions[i * n:(i + 1) * n]] for i in range(len(prompts))]


def rule_win_rate(rule: str, model_answers: list[list[str]], baseline_answers: list[list[str]], *,
                  resamples: int, seed: int) -> dict[str, Any]:
    """Per-prompt outcomes and the win rate with its 95% bootstrap CI."""
    from alignlab.annotation.simulated import RULE_SCORES, rule_outcome
    from alignlab.metrics.bootstrap import bootstrap_ci

    outcomes = [sum(rule_outcome(rule, a, b) for a, b in zip(mine, theirs, strict=True)) / len(mine)
                for mine, theirs in zip(model_answers, baseline_answers, strict=True)]
    result = bootstrap_ci(outcomes, n_resamples=resamples, seed=seed)
    score = RULE_SCORES.get(rule)
    flat = [score(a) for answers in model_answers for a in answers]
    flat_base = [score(a) for answers in baseline_answers for a in answers]
    judgements = [rule_outcome(rule, a, b) for mine, theirs in zip(model_answers, baseline_answers, strict=True)
                  for a, b in zip(mine, theirs, strict=True)]
    return {"win_rate": {"value": result.value, "low": result.low, "high": result.high, "n": result.n,
                         "confidence": result.confidence},
            "tie_rate": sum(j == 0.5 for j in judgements) / len(judgements),
            "rule_score": sum(flat) / len(flat), "baseline_rule_score": sum(flat_base) / len(flat_base),
            "outcomes": outcomes}


def mean_reward(judge: str, prompts: list[str], answers: list[list[str]]) -> float:
    from alignlab.models.reward import RewardModel

    rm = RewardModel.load(judge)
    flat_prompts = [p for p, group in zip(prompts, answers, strict=True) for _ in group]
    flat = [a for group in answers for a in group]
    return float(rm.score(flat_prompts, flat).reward.mean())


def _rule_section(context: Any, options: EvalOptions, model: str, baseline: str, judge: str | None) -> dict:
    from alignlab.data.io import write_jsonl
    from alignlab.pipeline.candidates import synthetic_prompts

    section = options.rule_winrate
    held_out = synthetic_prompts(section.prompts, f"held-out/{context.pipeline.run.seed}")
    prompts = [p["prompt"] for p in held_out]
    seed = context.pipeline.run.seed  # the same sampling seed for every round and both models
    context.echo(f"rule win rate: {model} vs {baseline} on {len(prompts)} held-out prompts")
    mine = generate_answers(model, prompts, section, seed, options.batch_size)
    theirs = generate_answers(baseline, prompts, section, seed, options.batch_size)
    result = rule_win_rate(context.pipeline.rule, mine, theirs, resamples=section.bootstrap_resamples, seed=seed)
    write_jsonl(Path(context.dir) / "rule_winrate.jsonl", (
        {"prompt": p, "model": m, "baseline": b, "outcome": o}
        for p, m, b, o in zip(prompts, mine, theirs, result.pop("outcomes"), strict=True)))
    if judge:
        result["reward"] = mean_reward(judge, prompts, mine)
        result["baseline_reward"] = mean_reward(judge, prompts, theirs)
    win = result["win_rate"]
    context.echo(f"rule win rate {win['value']:.3f} [{win['low']:.3f}, {win['high']:.3f}] "
                 f"(ties {result['tie_rate']:.2f})")
    return result


def _suites(context: Any, options: EvalOptions, model: str, baseline: str | None, judge: str | None) -> str:
    from alignlab.config.eval import EvalConfig
    from alignlab.config.loader import load_config
    from alignlab.demo import resolve_shipped_path
    from alignlab.eval.runner import evaluate

    path = resolve_shipped_path(options.suites_config)
    config = load_config(path, EvalConfig)
    names = options.suites or config.eval.suites
    names = [n for n in names if n not in options.exclude]
    if baseline is None:
        names = [n for n in names if n != "winrate"]
    if judge is None:
        names = [n for n in names if n not in ("winrate", "reward_bench")]
    out = Path(context.dir) / "suites"
    overrides = [f"run.seed={context.pipeline.run.seed}"]
    if context.pipeline.run.threads:
        overrides.append(f"run.threads={context.pipeline.run.threads}")
    evaluate(model, names, judge=judge, baseline=baseline, out=out, limit=options.limit,
             config=path, overrides=overrides, progress=context.echo)
    return str(out)


def run_eval_stage(context: Any) -> dict[str, Any]:
    from alignlab.utils.io import atomic_write_json

    options = EvalOptions.model_validate(context.spec.config)
    model = context.one("model", "model")
    baseline = context.one("baseline", "model")
    judge = context.one("judge", "reward_model")
    stage_of = {role: (context.inputs.get(role) or [{}])[0].get("key") for role in ("model", "baseline")}
    outputs: dict[str, Any] = {"model_evaluated": model, "baseline": baseline, "judge": judge,
                               "model_stage": stage_of["model"], "baseline_stage": stage_of["baseline"]}
    metrics: dict[str, Any] = {}
    if options.rule_winrate.prompts and baseline:
        metrics["rule"] = _rule_section(context, options, model, baseline, judge)
    if options.suites_config:
        outputs["suites"] = _suites(context, options, model, baseline, judge)
    atomic_write_json(Path(context.dir) / "metrics.json", metrics)
    return {"eval": str(context.dir), **outputs, "metrics": metrics}
