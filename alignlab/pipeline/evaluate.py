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

Generation quality (`quality:`, `alignlab.pipeline.quality`): the same samples of both models give distinct-1/2,
repetition, length, finished share, perplexity under the reference model and the sampled KL to it, each with
a 95% interval, and the degeneration guard's verdict (`guard:` thresholds and action) that the runner acts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.pipeline.quality import QualityOptions


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
    quality: QualityOptions = Field(default_factory=QualityOptions, description="Generation quality of the "
                                    "policy and the baseline, and the degeneration guard (alignlab.pipeline.quality).")


@dataclass
class Sampled:
    """One model's sampled answers to the held-out prompts: texts per prompt, plus what quality metrics need."""

    answers: list[list[str]]
    prompts: list[str]               # the held-out prompt of each completion (prompt-major)
    prompt_ids: list[list[int]]      # chat-formatted prompt ids, one per completion
    completion_ids: list[list[int]]
    finished: list[bool]
    tokenizer: Any = None
    model: Any = None


def sample_answers(model_path: str, prompts: list[str], options: RuleWinRateOptions, seed: int,
                   batch_size: int) -> Sampled:
    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.models import load_causal_lm, load_tokenizer
    from alignlab.pipeline.candidates import chat_prompts

    tokenizer = load_tokenizer(model_path)
    model = load_causal_lm(model_path).eval()
    engine = ROLLOUT_ENGINES.get("hf")(model, tokenizer, batch_size=batch_size)
    n = options.samples if options.temperature > 0 else 1
    sampling = SamplingParams(max_new_tokens=options.max_new_tokens, temperature=options.temperature, n=n, seed=seed)
    texts = chat_prompts(tokenizer, prompts)
    completions = engine.generate(texts, sampling)
    prompt_ids = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    return Sampled(answers=[[c.text.strip() for c in completions[i * n:(i + 1) * n]] for i in range(len(prompts))],
                   prompts=[prompts[c.prompt_index] for c in completions],
                   prompt_ids=[list(prompt_ids[c.prompt_index]) for c in completions],
                   completion_ids=[list(c.token_ids) for c in completions],
                   finished=[c.finish_reason == "stop" for c in completions], tokenizer=tokenizer, model=model)


def generate_answers(model_path: str, prompts: list[str], options: RuleWinRateOptions, seed: int,
                     batch_size: int) -> list[list[str]]:
    return sample_answers(model_path, prompts, options, seed, batch_size).answers


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
    mine = sample_answers(model, prompts, section, seed, options.batch_size)
    theirs = sample_answers(baseline, prompts, section, seed, options.batch_size)
    result = rule_win_rate(context.pipeline.rule, mine.answers, theirs.answers,
                           resamples=section.bootstrap_resamples, seed=seed)
    write_jsonl(Path(context.dir) / "rule_winrate.jsonl", (
        {"prompt": p, "model": m, "baseline": b, "outcome": o}
        for p, m, b, o in zip(prompts, mine.answers, theirs.answers, result.pop("outcomes"), strict=True)))
    if judge:
        result["reward"] = mean_reward(judge, prompts, mine.answers)
        result["baseline_reward"] = mean_reward(judge, prompts, theirs.answers)
    win = result["win_rate"]
    context.echo(f"rule win rate {win['value']:.3f} [{win['low']:.3f}, {win['high']:.3f}] "
                 f"(ties {result['tie_rate']:.2f})")
    if options.quality.enabled:
        result |= _quality_section(context, options, prompts, mine, theirs, baseline)
    return result


def _stage_or_path(context: Any, path: str, baseline: str) -> str:
    """The stage that made the reference model (what the report names), else its path."""
    for role in ("reference", "baseline"):
        found = (context.inputs.get(role) or [{}])[0]
        if found.get("model") == path:
            return str(found.get("key"))
    return path


def _quality_section(context: Any, options: EvalOptions, prompts: list[str], mine: Sampled, theirs: Sampled,
                     baseline: str) -> dict[str, Any]:
    from alignlab.pipeline.quality import load_reference, measure, side_by_side, verdict

    quality = options.quality
    reference_path = quality.reference or context.one("reference", "model") or baseline
    reference = (theirs.model, theirs.tokenizer) if reference_path == baseline else load_reference(reference_path)
    seed = context.pipeline.run.seed
    args = {"resamples": quality.resamples, "seed": seed, "batch_size": options.batch_size}
    out = {"quality": measure(mine, reference, **args), "baseline_quality": measure(theirs, reference, **args),
           "reference": _stage_or_path(context, reference_path, baseline),
           "samples": side_by_side(prompts, mine.answers, theirs.answers, quality.samples_shown)}
    out["guard"] = verdict(out["quality"], out["baseline_quality"], quality.guard)
    q, b = out["quality"], out["baseline_quality"]
    context.echo(f"generation quality: distinct-2 {q['distinct_2']['value']:.3f} (baseline "
                 f"{b['distinct_2']['value']:.3f}), reference perplexity {q['reference_perplexity']['value']:.2f} "
                 f"(baseline {b['reference_perplexity']['value']:.2f}), sampled KL "
                 f"{(q.get('sampled_kl') or {}).get('value', float('nan')):.2f}")
    for reason in out["guard"]["reasons"]:
        context.echo(f"guard tripped ({quality.guard.action}): {reason}")
    return out


def _suites(context: Any, options: EvalOptions, model: str, baseline: str | None, judge: str | None) -> str:
    from alignlab.config.eval import EvalConfig
    from alignlab.config.loader import load_config
    from alignlab.eval.runner import evaluate
    from alignlab.paths import shipped_path

    path = shipped_path(options.suites_config)
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
