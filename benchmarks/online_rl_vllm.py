"""The vLLM-on-CPU part of benchmarks/online_rl.py (`--mode vllm-cpu`): rollout tokens/s hf vs vllm (eager and
compiled) on the nano policy and a 30M Llama, and GRPO/PPO seconds per step per engine. Run through
online_rl.py, which owns the child processes; see its docstring for the protocol."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROLLOUT = {"prompts": 64, "max_new_tokens": 64}
ENGINES = ("hf", "vllm-eager", "vllm-compiled")


def child_rollout(engine: str, model: str, dtype: str) -> dict:
    """Tokens/s of one engine on `model`: one warm-up call, then one timed call of 64 prompts x 64 tokens."""
    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.data.synthetic import load_synthetic
    from alignlab.models import load_causal_lm, load_tokenizer

    tokenizer = load_tokenizer(model)
    _fmt, records = load_synthetic("synthetic:sentiment?n=600&seed=0&chat=1")
    prompts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
               for r in records[:ROLLOUT["prompts"]]]
    started = time.perf_counter()
    if engine == "hf":
        rollout = ROLLOUT_ENGINES.get("hf")(load_causal_lm(model, dtype=dtype).eval(), tokenizer, batch_size=64)
    else:
        rollout = ROLLOUT_ENGINES.get("vllm")(model, tokenizer, dtype=dtype, kv_cache_gib=0.5,
                                              enforce_eager=engine == "vllm-eager")
    start_s = time.perf_counter() - started
    # min_tokens is not in our SamplingParams: an eos ends a row early in both engines alike
    sampling = SamplingParams(max_new_tokens=ROLLOUT["max_new_tokens"], temperature=1.0, seed=0)
    rollout.generate(prompts[:8], sampling)
    started = time.perf_counter()
    completions = rollout.generate(prompts, sampling)
    seconds = time.perf_counter() - started
    tokens = sum(len(c.token_ids) for c in completions)
    return {"tokens_per_s": tokens / seconds, "tokens": tokens, "seconds": seconds, "start_s": start_s}


def build_30m(cache: Path) -> str:
    """The 30.4M-parameter `base` tiny Llama (random weights, the tiny tokenizer), saved in bf16."""
    import torch

    from alignlab.models import build_tiny_models, load_causal_lm

    out = cache / "base30m"
    if (out / "policy" / "config.json").is_file():
        return str(out / "policy")
    tiny = build_tiny_models(out, size="base", overwrite=True)
    assert tiny.policy_parameters >= 30_000_000, tiny.policy_parameters
    model = load_causal_lm(tiny.policy_dir).to(torch.bfloat16)
    model.save_pretrained(tiny.policy_dir)
    return str(tiny.policy_dir)


def run_vllm_cpu(rounds: int, steps: int, out: Path, cache: Path, *, spawn: Callable, build_policy: Callable,
                 write: Callable) -> dict:
    models = {"nano (fp32)": (build_policy(cache), "float32"), "base 30M (bf16)": (build_30m(cache), "bfloat16")}
    rollout_runs, step_runs = [], []
    for round_ in range(rounds):
        for label, (model, dtype) in models.items():
            order = ENGINES[round_ % 3:] + ENGINES[:round_ % 3]
            for engine in order:
                result, peak = spawn(["--child", "rollout", "--engine", engine, "--policy", model, "--dtype", dtype])
                rollout_runs.append({"round": round_ + 1, "model": label, "engine": engine, **result,
                                     "peak_rss_mb": peak})
                print(f"  round {round_ + 1} {label:16s} {engine:13s} {result['tokens_per_s']:7.0f} tok/s  "
                      f"start {result['start_s']:.1f} s", flush=True)
        for kind in ("grpo", "ppo"):
            for engine in (("hf", "vllm") if round_ % 2 == 0 else ("vllm", "hf")):
                result, peak = spawn(["--child", kind, "--engine", engine, "--policy", models["nano (fp32)"][0],
                                      "--steps", str(steps)])
                step_runs.append({"round": round_ + 1, "kind": kind, "engine": engine, **result, "peak_rss_mb": peak})
                print(f"  round {round_ + 1} {kind} {engine:5s} {result['seconds_per_step']:.2f} s/step "
                      f"(generation {result['split']['generation']:.2f}, sync {result['split']['weight_sync']:.3f}, "
                      f"training {result['split']['training']:.2f})", flush=True)
        # written after every round: a run cut short still leaves the rounds it finished (`rounds_done`)
        result = _summary(models, rollout_runs, step_runs, rounds, round_ + 1, steps)
        write(out, result, _markdown(result))
    return result


def _summary(models: dict, rollout_runs: list, step_runs: list, rounds: int, done: int, steps: int) -> dict:
    rates = {label: {engine: statistics.median(r["tokens_per_s"] for r in rollout_runs
                                               if r["model"] == label and r["engine"] == engine)
                     for engine in ENGINES} for label in models}
    starts = {engine: statistics.median(r["start_s"] for r in rollout_runs if r["engine"] == engine)
              for engine in ENGINES}
    steps_median = {kind: {engine: {key: statistics.median(
        (r["seconds_per_step"] if key == "step" else r["split"][key]) for r in step_runs
        if r["kind"] == kind and r["engine"] == engine) for key in ("step", "generation", "weight_sync", "training")}
        for engine in ("hf", "vllm")} for kind in ("grpo", "ppo")}
    return {"mode": "vllm-cpu", "rollout": ROLLOUT, "rounds": rounds, "rounds_done": done, "steps_per_run": steps,
            "rollout_tokens_per_s": rates, "start_seconds": starts, "online_step_seconds": steps_median,
            "rollout_runs": rollout_runs, "step_runs": step_runs,
            "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
            "date": time.strftime("%Y-%m-%d"),
            "command": " ".join(["python", "benchmarks/online_rl.py", *sys.argv[1:]])}


def _markdown(r: dict) -> str:
    lines = [f"# vLLM rollouts on CPU, {r['date']}", "", f"`{r['command']}` (in .venv-vllm: vllm-cpu 0.32.0, "
             "transformers 5.19)", "",
             f"Rollout: {r['rollout']['prompts']} prompts x {r['rollout']['max_new_tokens']} new tokens, temperature 1,"
             f" one child process per engine and model, order rotated, {r['rounds_done']} of {r['rounds']} rounds "
             "done, medians. Threads: hf "
             "1 (torch), vLLM its own OpenMP binding (1 core of 2, one reserved).", "",
             "| model | hf tok/s | vllm eager tok/s | vllm compiled tok/s | eager / hf | compiled / hf |",
             "|---|---|---|---|---|---|"]
    for label, rates in r["rollout_tokens_per_s"].items():
        lines.append(f"| {label} | {rates['hf']:.0f} | {rates['vllm-eager']:.0f} | {rates['vllm-compiled']:.0f} | "
                     f"{rates['vllm-eager'] / rates['hf']:.2f}x | {rates['vllm-compiled'] / rates['hf']:.2f}x |")
    lines += ["", "Engine start (median s): " + ", ".join(f"{k} {v:.1f}" for k, v in r["start_seconds"].items()),
              "", f"Online RL on the nano policy, {r['steps_per_run']} steps per run (median s per step):", "",
              "| method | engine | step | generation | weight sync | training |", "|---|---|---|---|---|---|"]
    for kind, engines in r["online_step_seconds"].items():
        for engine, m in engines.items():
            lines.append(f"| {kind} | {engine} | {m['step']:.2f} | {m['generation']:.2f} | {m['weight_sync']:.3f} | "
                         f"{m['training']:.2f} |")
    grpo = r["online_step_seconds"]["grpo"]
    base = r["rollout_tokens_per_s"]["base 30M (bf16)"]
    lines += ["", f"GRPO step vllm / hf: {grpo['vllm']['step'] / grpo['hf']['step']:.2f} (target <= 1.0); "
              f"30M rollout vllm / hf: eager {base['vllm-eager'] / base['hf']:.2f}x, compiled "
              f"{base['vllm-compiled'] / base['hf']:.2f}x (target >= 1.5x).", ""]
    return "\n".join(lines)
