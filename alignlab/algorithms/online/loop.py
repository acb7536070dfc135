"""The online-RL run around an update rule: PPO, GRPO and RLOO differ only in `Method.update`.

    run = train_online(config, PPOMethod(config), force=False, echo=print)

One run, in order:
1. Everything a user can get wrong, before the run directory exists: prompts (held-out split, chat template,
   length limits), the policy (a tiny one built first when `tiny_policy` asks), rewards (rule names and
   arguments, reward-model folders), the reference and the method's own models (a critic's tokenizer).
2. `open_run`; an `accelerate.Accelerator` places the trainable module and optimiser (one process here;
   `accelerate launch --num_processes 2` splits each round's prompts between processes and averages gradients).
3. Resume from the last complete `checkpoints/step_N/` (trainable weights in safetensors, optimiser, method
   state such as the adaptive KL coefficient, the held-out baseline); a round's prompts and sampling seed
   depend only on (seed, step), so a resumed run continues the same sequence of rounds.
4. Held-out reward before training; then each round: push weights to the engine (vLLM), sample and score
   (`rollout.collect`), `method.update`, metrics (reward and its components, KL, entropy, response length,
   finished share, generation / scoring / training seconds, tokens/s) to `metrics.jsonl`, sampled generations
   to `samples/step_N.jsonl` every `sample_steps`, held-out reward every `eval_steps`, a checkpoint every
   `save_steps`. Guards: the KL budget, the reward ensemble's spread, and the gap between training-reward and
   oracle gains on held-out prompts; with `guards.early_stop` the first breach ends training.
5. The final held-out reward, the policy in `<run>/model/`, and `summary.json` last.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from alignlab.runs import Run

Echo = Callable[[str], None]


@dataclass
class Context:
    """What an update rule sees: the prepared trainable module and optimiser, the models, the config."""

    config: Any
    accelerator: Any
    model: Any  # the prepared trainable module (policy, or actor-critic)
    optimizer: Any
    policy: Any  # the causal LM inside it (unwrapped)
    reference: Any
    tokenizer: Any
    step: int = 0


class Method(Protocol):
    """An update rule. Optional: `param_groups(trainable, lr)`, the optimiser's groups (see build_optimizer)."""

    name: str

    def samples_per_prompt(self) -> int: ...

    def build(self, config: Any, policy: Any, tokenizer: Any) -> Any:
        """The trainable module (checked before the run directory exists)."""
        ...

    def update(self, ctx: Context, rollout: Any) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def train_online(config: Any, method: Method, *, force: bool = False, echo: Echo = print) -> Run:
    from alignlab.algorithms.online.data import prepare, read_prompts
    from alignlab.algorithms.online.engines import check_engine
    from alignlab.algorithms.online.models import load_policy, load_reference, same_tokenizer
    from alignlab.rewards import build_rewards
    from alignlab.runs import finished_run, open_training_run

    done = finished_run(config, force, echo)
    if done is not None:
        return done
    split = read_prompts(config.data)
    rewards = build_rewards(config.rewards)
    oracle = build_rewards(config.guards.oracle, where="guards.oracle") if config.guards.oracle else None
    policy, tokenizer = load_policy(config, split.records)
    split = prepare(split, tokenizer, config.data, max_new_tokens=config.rollout.max_new_tokens,
                    context=getattr(policy.config, "max_position_embeddings", None))
    for reward in rewards.model_rewards():
        if not same_tokenizer(reward.tokenizer, tokenizer):
            echo(f"note: reward model {reward.path} has another tokenizer than the policy; completions are "
                 "re-tokenised from text in its training format")
    reference = load_reference(config, policy, tokenizer)
    trainable = method.build(config, policy, tokenizer)
    check_engine(config.rollout, config.model.name_or_path)
    run = open_training_run(config, force)  # everything a user can get wrong has been checked by now
    return _train(config, method, run, split, rewards, oracle, policy, reference, trainable, tokenizer, echo)


def _train(config: Any, method: Method, run: Run, split: Any, rewards: Any, oracle: Any, policy: Any,
           reference: Any, trainable: Any, tokenizer: Any, echo: Echo) -> Run:
    import torch
    from accelerate import Accelerator

    from alignlab.algorithms.online.engines import build_engine

    accelerator = Accelerator(mixed_precision=config.train.mixed_precision, cpu=not torch.cuda.is_available())
    trainable.to(accelerator.device)
    reference.to(accelerator.device)
    optimizer = build_optimizer(config, method, trainable)
    model, optimizer = accelerator.prepare(trainable, optimizer)
    ctx = Context(config, accelerator, model, optimizer, policy, reference, tokenizer)
    engine = build_engine(config.rollout, policy, tokenizer, config.model.name_or_path, seed=config.run.seed,
                          is_main=accelerator.is_main_process)
    if getattr(engine, "threads_note", None) and accelerator.is_main_process:
        echo(f"note: {engine.threads_note}")
    state = _resume(run, ctx, method, echo)
    main = accelerator.is_main_process
    eval_prompts = split.eval[:config.train.eval_prompts] if config.train.eval_prompts else split.eval
    if state["baseline"] is None:
        state["baseline"] = evaluate(ctx, engine, eval_prompts, rewards, oracle)
        if main:
            run.log(0, **state["baseline"])
            echo(f"held-out reward before training: {_fmt(state['baseline'])}")
    latest = dict(state["baseline"])
    last = state["step"] if state.get("stopped") else config.train.steps  # a guard's stop survives a resume
    with _step_progress(config.train.steps, state["step"], echo, main) as bar:
        for step in range(state["step"] + 1, last + 1):
            ctx.step = step
            metrics, rollout = _round(ctx, engine, method, split.train, rewards, step)
            reason = _guards(config.guards, metrics, state)
            if main and (step % config.train.logging_steps == 0 or step == config.train.steps or reason):
                run.log(step, **metrics)
                bar.note(f"step {step}/{config.train.steps}: reward {metrics['reward/mean']:.3f}  "
                         f"kl {metrics['kl']:.3f}  len {metrics['response_length']:.1f}  ({metrics['time/step']:.1f}s)")
            if main and step % config.train.sample_steps == 0:
                _write_samples(run, step, rollout, config.train.samples)
            if step % config.train.eval_steps == 0 and step != config.train.steps:
                latest = evaluate(ctx, engine, eval_prompts, rewards, oracle)
                diverged = _divergence(config.guards, latest, state)  # always: it records eval/oracle_divergence
                reason = reason or diverged
                if main:
                    run.log(step, **latest)
            state["step"] = step
            if reason:
                state["stopped"] = reason
                bar.note(f"early stop at step {step}: {reason}")
            if step % config.train.save_steps == 0 or reason:
                _checkpoint(run, ctx, method, state)
            bar.advance()
            if reason:
                break
    if state["step"] == config.train.steps or state.get("stopped"):
        latest = evaluate(ctx, engine, eval_prompts, rewards, oracle)
        _divergence(config.guards, latest, state)
        if main:
            run.log(state["step"], **latest)
    return _finish(run, ctx, method, state, latest, split, echo)


def _step_progress(steps: int, done: int, echo: Echo, main: bool) -> Any:
    """The steps' bar and ETA on a terminal, the step lines with their ETA elsewhere; one process shows it."""
    from alignlab.utils.progress import StepProgress

    bar = StepProgress(steps, "train", echo if main else (lambda line: None), bar=None if main else False)
    bar.done = done  # a resumed run starts where it stopped
    return bar


def build_optimizer(config: Any, method: Method, trainable: Any) -> Any:
    """AdamW over the trainable parameters; a method with `param_groups` (PPO: policy and value model at their
    own learning rates) sets the groups."""
    import torch

    groups = getattr(method, "param_groups", None)
    params = groups(trainable, config.train.lr) if groups is not None else \
        [{"params": [p for p in trainable.parameters() if p.requires_grad]}]
    return torch.optim.AdamW(params, lr=config.train.lr, weight_decay=config.train.weight_decay)


def _round(ctx: Context, engine: Any, method: Method, prompts: list, rewards: Any,
           step: int) -> tuple[dict[str, float], Any]:
    from alignlab.algorithms.online.engines import sampling_params, sampling_seed, sync_weights
    from alignlab.algorithms.online.rollout import collect

    config, accelerator = ctx.config, ctx.accelerator
    started = time.perf_counter()
    synced = sync_weights(engine, ctx.policy, accelerator)
    synced_at = time.perf_counter()
    batch = pick_prompts(prompts, config.run.seed, step, config.train.prompts_per_step, accelerator.process_index,
                         accelerator.num_processes)
    sampling = sampling_params(config.rollout, method.samples_per_prompt(),
                               seed=sampling_seed(engine, config.run.seed, step, accelerator.process_index))
    rollout = collect(engine, batch, sampling, rewards, ctx.tokenizer,
                      unfinished_reward=config.rollout.unfinished_reward, device=accelerator.device)
    trained = time.perf_counter()
    metrics = method.update(ctx, rollout)
    done = time.perf_counter()
    tokens = float(rollout.response_mask.sum())
    metrics.update({
        "reward/mean": float(rollout.scores.mean()), "reward/std": float(rollout.scores.std()) if len(rollout) > 1
        else 0.0,
        **{f"reward/{name}": float(values.mean()) for name, values in rollout.reward.components.items()},
        "response_length": tokens / len(rollout), "finished": float(rollout.finished.float().mean()),
        "time/weight_sync": synced_at - started if synced else 0.0,
        "time/generation": rollout.timings["generation"], "time/scoring": rollout.timings["scoring"],
        "time/training": done - trained, "time/step": done - started,
        "tokens_per_s/generation": tokens / max(rollout.timings["generation"], 1e-9),
    })
    if rollout.reward.ensemble_std is not None:
        metrics["reward/ensemble_std"] = float(rollout.reward.ensemble_std.mean())
    return _reduce(accelerator, metrics), rollout


def pick_prompts(prompts: list, seed: int, step: int, per_step: int, process: int, processes: int) -> list:
    """This process's prompts for round `step`: a function of (seed, step) only, so a resumed run repeats it."""
    rng = random.Random(f"alignlab-online/{seed}/{step}")
    wanted = per_step * processes
    order = rng.sample(range(len(prompts)), wanted) if wanted <= len(prompts) else rng.choices(range(len(prompts)),
                                                                                              k=wanted)
    return [prompts[i] for i in order[process * per_step:(process + 1) * per_step]]


def _reduce(accelerator: Any, metrics: dict[str, float]) -> dict[str, float]:
    if accelerator.num_processes == 1:
        return metrics
    import torch

    keys = sorted(metrics)
    values = accelerator.reduce(torch.tensor([metrics[k] for k in keys], device=accelerator.device), "mean")
    return dict(zip(keys, values.tolist(), strict=True))


def evaluate(ctx: Context, engine: Any, prompts: list, rewards: Any, oracle: Any) -> dict[str, float]:
    """Mean held-out reward (and its components, the oracle's, length, finished share) of one sample each."""
    from alignlab.algorithms.online.engines import sampling_params, sync_weights

    if not prompts:
        return {}
    config = ctx.config
    sync_weights(engine, ctx.policy, ctx.accelerator)
    sampling = sampling_params(config.rollout, 1, seed=config.run.seed + 17,
                               temperature=config.train.eval_temperature)
    completions = engine.generate([p.text for p in prompts], sampling)
    texts = [c.text for c in completions]
    columns = {key: [p.columns.get(key) for p in prompts] for key in prompts[0].columns}
    result = rewards([p.prompt for p in prompts], texts, columns)
    out = {"eval/reward": float(result.total.mean()),
           **{f"eval/reward/{name}": float(values.mean()) for name, values in result.components.items()},
           "eval/response_length": sum(len(c.token_ids) for c in completions) / len(completions),
           "eval/finished": sum(c.finish_reason == "stop" for c in completions) / len(completions)}
    if oracle is not None:
        out["eval/oracle"] = float(oracle([p.prompt for p in prompts], texts, columns).total.mean())
    from alignlab.algorithms.online.quality import eval_quality

    out |= eval_quality(ctx, prompts, completions, sampled=config.train.eval_temperature > 0)
    return out


def _guards(guards: Any, metrics: dict[str, float], state: dict[str, Any]) -> str | None:
    kl = metrics["kl"]
    state["kl_max"] = max(state.get("kl_max", 0.0), kl)
    reasons = []
    if guards.kl_budget is not None:
        metrics["guards/kl_budget_used"] = kl / guards.kl_budget
        if kl > guards.kl_budget:
            state["kl_breaches"] = state.get("kl_breaches", 0) + 1
            reasons.append(f"KL to the reference {kl:.3f} is over guards.kl_budget {guards.kl_budget}")
    spread = metrics.get("reward/ensemble_std")
    if guards.max_ensemble_std is not None and spread is not None and spread > guards.max_ensemble_std:
        state["ensemble_breaches"] = state.get("ensemble_breaches", 0) + 1
        reasons.append(f"reward ensemble spread {spread:.3f} is over guards.max_ensemble_std "
                       f"{guards.max_ensemble_std}")
    return reasons[0] if reasons and guards.early_stop else None


def _divergence(guards: Any, latest: dict[str, float], state: dict[str, Any]) -> str | None:
    """(training-reward gain) - (oracle gain) on held-out prompts since the start; then the degeneration guard
    (distinct-2 and reference perplexity against the evaluation before training, `online.quality`)."""
    from alignlab.algorithms.online.quality import degeneration

    base = state["baseline"] or {}
    degenerate = degeneration(guards, latest, base)
    if "eval/oracle" not in latest or "eval/oracle" not in base:
        return degenerate
    gap = (latest["eval/reward"] - base["eval/reward"]) - (latest["eval/oracle"] - base["eval/oracle"])
    latest["eval/oracle_divergence"] = gap
    if guards.max_divergence is not None and gap > guards.max_divergence and guards.early_stop:
        return f"held-out reward gained {gap:.3f} more than the oracle (guards.max_divergence {guards.max_divergence})"
    return degenerate


def _write_samples(run: Run, step: int, rollout: Any, count: int) -> None:
    from alignlab.algorithms.online.rollout import sample_rows
    from alignlab.utils.io import atomic_write_text

    rows = sample_rows(rollout, count)
    (run.dir / "samples").mkdir(exist_ok=True)
    atomic_write_text(run.dir / "samples" / f"step_{step}.jsonl",
                      "".join(json.dumps({"step": step, **row}, ensure_ascii=False) + "\n" for row in rows))


def _checkpoint(run: Run, ctx: Context, method: Method, state: dict[str, Any]) -> None:
    import torch
    from safetensors.torch import save_model

    from alignlab.utils.io import atomic_write_json

    ctx.accelerator.wait_for_everyone()
    if not ctx.accelerator.is_main_process:
        return
    with run.checkpoint(state["step"], keep_last=ctx.config.train.keep_checkpoints) as tmp:
        save_model(ctx.accelerator.unwrap_model(ctx.model), str(tmp / "trainable.safetensors"))
        torch.save(ctx.optimizer.state_dict(), tmp / "optimizer.pt")
        atomic_write_json(tmp / "state.json", {**state, "method": method.state_dict()})


def _resume(run: Run, ctx: Context, method: Method, echo: Echo) -> dict[str, Any]:
    import torch
    from safetensors.torch import load_model

    latest = run.latest_checkpoint()
    if latest is None or not (latest / "state.json").is_file():
        return {"step": 0, "baseline": None, "stopped": None}
    echo(f"resuming from {latest}")
    load_model(ctx.accelerator.unwrap_model(ctx.model), str(latest / "trainable.safetensors"))
    ctx.optimizer.load_state_dict(torch.load(latest / "optimizer.pt", weights_only=True))
    state = json.loads((latest / "state.json").read_text(encoding="utf-8"))
    method.load_state_dict(state.pop("method", {}))
    return state


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k.removeprefix('eval/')} {v:.3f}" for k, v in metrics.items() if k.count("/") == 1)


def _finish(run: Run, ctx: Context, method: Method, state: dict[str, Any], latest: dict[str, float], split: Any,
            echo: Echo) -> Run:
    from alignlab.utils.io import atomic_dir

    ctx.accelerator.wait_for_everyone()
    if not ctx.accelerator.is_main_process:
        return run
    with atomic_dir(run.dir / "model") as tmp:
        ctx.policy.save_pretrained(tmp)
        ctx.tokenizer.save_pretrained(tmp)
    before, after = state["baseline"] or {}, latest
    budget = ctx.config.guards.kl_budget
    run.finish({
        "method": method.name, "steps": state["step"], "stopped_early": state.get("stopped"),
        "eval_before": before, "eval": after,
        "reward_gain": after.get("eval/reward", 0.0) - before.get("eval/reward", 0.0),
        "kl": {"max": state.get("kl_max"), "budget": budget, "breaches": state.get("kl_breaches", 0),
               "within_budget": None if budget is None else state.get("kl_max", 0.0) <= budget},
        "ensemble_breaches": state.get("ensemble_breaches", 0),
        "data": {"train_prompts": len(split.train), "eval_prompts": len(split.eval), "dropped": split.dropped},
        "rollout_engine": ctx.config.rollout.engine, "model": str(run.dir / "model"),
    })
    from alignlab.models.card import hand_off

    hand_off(run, run.dir / "model", echo, method=method.name)  # model card, adapter base path, hub upload
    nan = float("nan")
    echo(f"held-out reward {before.get('eval/reward', nan):.3f} -> {after.get('eval/reward', nan):.3f}"
         f" (max KL {state.get('kl_max', 0.0):.3f}) ({run.dir})")
    return run
