"""Online RL throughput: `alignlab train grpo` vs TRL's GRPOTrainer (A/B alternated), PPO alone; vLLM vs HF on GPU.

CPU (default):
    .venv/bin/python benchmarks/online_rl.py --pairs 3 --steps 10

- The same tiny SFT'd nano policy (built once), the same prompts (`synthetic:sentiment?n=600&seed=0&chat=1`),
  the same rule reward (`sentiment`), the same settings: 8 prompts x 4 generations per step, 32 new tokens,
  temperature 1, lr 1e-4, beta 0.04, one optimiser step per round, fp32, one thread.
- A = alignlab (`train_grpo`, hf rollout engine), B = TRL 1.16 `GRPOTrainer` (transformers generate), each in a
  fresh child process (peak RSS from `os.wait4`), alternated A B B A A B ...; per-step time is the training loop
  only (ours: the sum of metrics' time/step; TRL: `trainer.train()` wall time), medians and the ratio reported.
- PPO alone: the per-step split into generation / scoring / training, tokens/s, peak RSS.

GPU (a CUDA machine with vllm>=0.22,<0.32 installed):
    python benchmarks/online_rl.py --mode gpu --out benchmarks/results/online_rl_gpu

- A locally built ~300M-parameter Llama (random weights, the tiny tokenizer; or --model PATH): rollout tokens/s
  of the vllm engine (colocated) vs the hf engine on the same prompts and sampling (target >= 5x), then one PPO
  run on the vllm engine with its per-step breakdown (generation / weight sync / scoring / training).

vLLM on CPU (in .venv-vllm, built by scripts/vllm_env.sh):
    .venv-vllm/bin/python benchmarks/online_rl.py --mode vllm-cpu --pairs 3 --steps 5

- Rollout tokens/s, 64 prompts x 64 new tokens (temperature 1, one sample each), of the hf engine and the vllm
  engine eager and compiled (`enforce_eager=False`: torch.compile; its start, ~30 s, is reported apart), on the
  tiny SFT'd nano policy (fp32) and on a 30M-parameter Llama built by `build_tiny_models(size="base")` (bf16).
  Each engine runs in a fresh child process, the order rotating every round; medians over the rounds.
- GRPO and PPO seconds per step with each engine (the CPU settings above; 5 steps), split into generation,
  weight sync and training, alternated hf / vllm, medians. Targets: vllm >= 1.5x hf tokens/s at >= 30M
  parameters; a GRPO step on the nano policy no slower with vllm.

Results: benchmarks/results/online_rl.{json,md} (CPU), online_rl_vllm_cpu.{json,md}, or the --out prefix.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = "synthetic:sentiment?n=600&seed=0&chat=1"
SETTINGS = {"prompts_per_step": 8, "num_generations": 4, "max_new_tokens": 32, "temperature": 1.0, "lr": 1e-4,
            "beta": 0.04}


def _online_config(kind: str, policy: str, out: str, steps: int, engine: str = "hf") -> dict:
    config = {
        "run": {"name": f"bench_{kind}", "output_dir": out, "seed": 0, "threads": 1},
        "model": {"name_or_path": policy},
        "data": {"path": PROMPTS, "test_size": 0.1, "max_prompt_length": 64},
        "rollout": {"engine": engine, "max_new_tokens": SETTINGS["max_new_tokens"],
                    "temperature": SETTINGS["temperature"]},
        "rewards": [{"rule": "sentiment"}],
        "train": {"steps": steps, "prompts_per_step": SETTINGS["prompts_per_step"], "lr": SETTINGS["lr"],
                  "minibatch_size": 32, "eval_prompts": 1, "eval_steps": 10_000, "save_steps": 10_000,
                  "sample_steps": 10_000},
    }
    if kind == "grpo":
        config["grpo"] = {"num_generations": SETTINGS["num_generations"], "beta": SETTINGS["beta"]}
    else:
        config["train"].update({"prompts_per_step": 16, "epochs": 2, "minibatch_size": 8, "lr": 2e-4})
    return config


def child_ours(kind: str, policy: str, steps: int, engine: str = "hf") -> dict:
    from alignlab.config import CONFIGS

    with tempfile.TemporaryDirectory() as out:
        settings = _online_config(kind, policy, out, steps, engine=engine)
        if engine == "vllm":
            settings["rollout"]["vllm"] = {"enforce_eager": True, "kv_cache_gib": 0.5}
        config = CONFIGS.get(kind).model_validate(settings)
        module = __import__(f"alignlab.algorithms.{kind}", fromlist=["x"])
        run = getattr(module, f"train_{kind}")(config, echo=lambda _: None)
        rows = [m for m in run.metrics() if "time/step" in m]
    total = sum(m["time/step"] for m in rows)
    tokens = sum(m["response_length"] for m in rows) * (32 if kind == "grpo" else 16)
    split = {key: sum(m[f"time/{key}"] for m in rows) / len(rows)
             for key in ("generation", "weight_sync", "scoring", "training")}
    return {"seconds_per_step": total / len(rows), "tokens_per_s": tokens / total, "split": split,
            "reward_first": rows[0]["reward/mean"], "reward_last": rows[-1]["reward/mean"]}


def child_trl(policy: str, steps: int) -> dict:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from alignlab.data.synthetic import load_synthetic
    from alignlab.models import load_causal_lm, load_tokenizer
    from alignlab.rewards.rules import make_rule

    torch.set_num_threads(1)
    sentiment = make_rule("sentiment", {}, "bench")

    def reward(prompts, completions, **_):  # noqa: ANN001, ANN202 - TRL's signature
        return sentiment(prompts, [c[-1]["content"] if isinstance(c, list) else c for c in completions])

    _fmt, records = load_synthetic(PROMPTS)
    dataset = Dataset.from_dict({"prompt": [r["prompt"] for r in records]})
    tokenizer = load_tokenizer(policy)
    batch = SETTINGS["prompts_per_step"] * SETTINGS["num_generations"]
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(output_dir=out, per_device_train_batch_size=batch,
                          num_generations=SETTINGS["num_generations"],
                          max_completion_length=SETTINGS["max_new_tokens"], temperature=SETTINGS["temperature"],
                          learning_rate=SETTINGS["lr"], beta=SETTINGS["beta"], max_steps=steps, bf16=False,
                          use_cpu=True, gradient_checkpointing=False, logging_steps=1, report_to=[],
                          save_strategy="no", seed=0, lr_scheduler_type="constant", top_k=0)
        trainer = GRPOTrainer(model=load_causal_lm(policy), reward_funcs=reward, args=args, train_dataset=dataset,
                              processing_class=tokenizer)
        started = time.perf_counter()
        trainer.train()
        total = time.perf_counter() - started
        logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    length = statistics.mean(entry.get("completions/mean_length", 0.0) for entry in logs)
    return {"seconds_per_step": total / steps, "tokens_per_s": length * batch * steps / total,
            "reward_first": logs[0]["reward"], "reward_last": logs[-1]["reward"]}


def _spawn(args: list[str]) -> tuple[dict, float]:
    """Run a child (this script), return its JSON and its peak RSS in MB."""
    process = subprocess.Popen([sys.executable, __file__, *args], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONWARNINGS": "ignore"})
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"child {args} failed with status {status}: {output[-2000:]}")
    peak_mb = usage.ru_maxrss / 1024  # KB on Linux
    return json.loads(output.strip().splitlines()[-1]), peak_mb


def build_policy(cache: Path) -> str:
    from alignlab.algorithms.tiny_policy import ensure_tiny_policy
    from alignlab.config.dpo import TinyPolicySection
    from alignlab.data.synthetic import load_synthetic

    out = cache / "nano-online"
    _fmt, records = load_synthetic(PROMPTS)
    ensure_tiny_policy(TinyPolicySection(size="nano", sft_steps=60), out, records)
    return str(out)


def run_cpu(pairs: int, steps: int, out: Path, cache: Path) -> dict:
    policy = build_policy(cache)
    runs: list[dict] = []
    for pair in range(pairs):
        order = ("alignlab", "trl") if pair % 2 == 0 else ("trl", "alignlab")
        for side in order:
            args = ["--child", "grpo" if side == "alignlab" else "trl", "--policy", policy, "--steps", str(steps)]
            result, peak = _spawn(args)
            runs.append({"pair": pair + 1, "side": side, **result, "peak_rss_mb": peak})
            print(f"  pair {pair + 1} {side:9s} {result['seconds_per_step']:.2f} s/step  "
                  f"{result['tokens_per_s']:.0f} tok/s  peak RSS {peak:.0f} MB", flush=True)
    ppo, ppo_peak = _spawn(["--child", "ppo", "--policy", policy, "--steps", str(steps)])
    medians = {side: {key: statistics.median(r[key] for r in runs if r["side"] == side)
                      for key in ("seconds_per_step", "tokens_per_s", "peak_rss_mb")} for side in ("alignlab", "trl")}
    ratio = medians["trl"]["seconds_per_step"] / medians["alignlab"]["seconds_per_step"]
    result = {"mode": "cpu", "settings": SETTINGS, "steps_per_run": steps, "prompts": PROMPTS, "runs": runs,
              "medians": medians, "speed_ratio_alignlab_over_trl": ratio,
              "ppo": {**ppo, "peak_rss_mb": ppo_peak, "prompts_per_step": 16, "epochs": 2, "minibatch_size": 8},
              "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
              "date": time.strftime("%Y-%m-%d"),
              "command": " ".join(["python", "benchmarks/online_rl.py", *sys.argv[1:]])}
    _write(out, result, _markdown_cpu(result))
    return result


def _markdown_cpu(r: dict) -> str:
    lines = [f"# Online RL benchmark (CPU), {r['date']}", "", f"`{r['command']}`", "",
             f"GRPO, {r['settings']['prompts_per_step']} prompts x {r['settings']['num_generations']} generations, "
             f"{r['settings']['max_new_tokens']} new tokens, {r['steps_per_run']} steps per run, nano policy, "
             "one thread per process.", "",
             "| run | side | s/step | tokens/s | peak RSS MB |", "|---|---|---|---|---|"]
    lines += [f"| {x['pair']} | {x['side']} | {x['seconds_per_step']:.2f} | {x['tokens_per_s']:.0f} | "
              f"{x['peak_rss_mb']:.0f} |" for x in r["runs"]]
    m = r["medians"]
    lines += ["", "| median | s/step | tokens/s | peak RSS MB |", "|---|---|---|---|"]
    lines += [f"| {side} | {m[side]['seconds_per_step']:.2f} | {m[side]['tokens_per_s']:.0f} | "
              f"{m[side]['peak_rss_mb']:.0f} |" for side in ("alignlab", "trl")]
    p = r["ppo"]
    lines += ["", f"**speed ratio alignlab / TRL GRPOTrainer: {r['speed_ratio_alignlab_over_trl']:.2f}x** "
              "(target >= 1.0)", "",
              "PPO alone (16 prompts/step, 2 epochs, minibatch 8, value head):", "",
              "| s/step | generation s | scoring s | training s | tokens/s | peak RSS MB |",
              "|---|---|---|---|---|---|",
              f"| {p['seconds_per_step']:.2f} | {p['split']['generation']:.2f} | {p['split']['scoring']:.4f} | "
              f"{p['split']['training']:.2f} | {p['tokens_per_s']:.0f} | {p['peak_rss_mb']:.0f} |", ""]
    return "\n".join(lines)


def run_gpu(out: Path, model: str | None, steps: int) -> dict:
    """vLLM (colocated) vs HF rollout tokens/s on one model, then a PPO run on vLLM with its step breakdown."""
    import torch

    from alignlab.backends.rollout import ROLLOUT_ENGINES, SamplingParams
    from alignlab.data.synthetic import load_synthetic
    from alignlab.models import load_causal_lm, load_tokenizer

    if not torch.cuda.is_available():
        raise SystemExit("--mode gpu needs a CUDA GPU")
    cache = out.parent / "online_rl_gpu_model"
    model = model or _build_gpu_model(cache)
    tokenizer = load_tokenizer(model)
    _fmt, records = load_synthetic(PROMPTS)
    prompts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
               for r in records[:256]]
    sampling = SamplingParams(max_new_tokens=128, temperature=1.0, n=4, seed=0)
    rates = {}
    engines = {"hf": lambda: ROLLOUT_ENGINES.get("hf")(load_causal_lm(model, dtype="bfloat16").cuda(), tokenizer,
                                                         batch_size=256),
               "vllm": lambda: ROLLOUT_ENGINES.get("vllm")(model, tokenizer, gpu_memory_utilization=0.5)}
    for name, make in engines.items():
        engine = make()
        engine.generate(prompts[:8], sampling)  # warm-up
        torch.cuda.synchronize()
        started = time.perf_counter()
        completions = engine.generate(prompts, sampling)
        torch.cuda.synchronize()
        rates[name] = sum(len(c.token_ids) for c in completions) / (time.perf_counter() - started)
        print(f"  {name}: {rates[name]:.0f} tokens/s", flush=True)
        del engine
        torch.cuda.empty_cache()
    from alignlab.algorithms.ppo import train_ppo
    from alignlab.config.online import PPOConfig

    with tempfile.TemporaryDirectory() as tmp:
        config = _online_config("ppo", model, tmp, steps, engine="vllm")
        config["rollout"]["max_new_tokens"] = 128
        config["train"]["prompts_per_step"] = 64
        run = train_ppo(PPOConfig.model_validate(config), echo=print)
        rows = [m for m in run.metrics() if "time/step" in m]
    breakdown = {key: statistics.median(m[f"time/{key}"] for m in rows)
                 for key in ("generation", "weight_sync", "scoring", "training", "step")}
    result = {"mode": "gpu", "device": torch.cuda.get_device_name(0), "model": model,
              "rollout_tokens_per_s": rates, "vllm_over_hf": rates["vllm"] / rates["hf"],
              "ppo_step_seconds_median": breakdown, "date": time.strftime("%Y-%m-%d")}
    md = "\n".join([f"# Online RL benchmark (GPU: {result['device']}), {result['date']}", "",
                    f"rollout tokens/s: hf {rates['hf']:.0f}, vllm {rates['vllm']:.0f}, "
                    f"**vllm/hf {result['vllm_over_hf']:.1f}x** (target >= 5x)", "",
                    "PPO step on vllm (median s): " + ", ".join(f"{k} {v:.2f}" for k, v in breakdown.items()), ""])
    _write(out, result, md)
    return result


def _build_gpu_model(cache: Path) -> str:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from alignlab.models import build_tiny_models, load_tokenizer

    out = cache / "llama300m"
    if (out / "config.json").is_file():
        return str(out)
    tiny = build_tiny_models(cache / "tiny", size="nano", overwrite=True)
    tokenizer = load_tokenizer(tiny.policy_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=1024, intermediate_size=4096, num_hidden_layers=20,
                         num_attention_heads=16, num_key_value_heads=8, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def _write(out: Path, result: dict, markdown: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown)
    print(markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("cpu", "gpu", "vllm-cpu"), default="cpu")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--model", default=None, help="gpu mode: a local model folder (default: built ~300M Llama)")
    parser.add_argument("--cache", type=Path, default=ROOT / "runs" / "bench_online_rl")
    parser.add_argument("--child", choices=("grpo", "ppo", "trl", "rollout"), help=argparse.SUPPRESS)
    parser.add_argument("--policy", help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="hf", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import torch

        torch.set_num_threads(1)
        if args.child == "rollout":
            from online_rl_vllm import child_rollout

            result = child_rollout(args.engine, args.policy, args.dtype)
        else:
            result = child_trl(args.policy, args.steps) if args.child == "trl" else \
                child_ours(args.child, args.policy, args.steps, args.engine)
        print(json.dumps(result))
        return
    if args.mode == "vllm-cpu":
        from online_rl_vllm import run_vllm_cpu

        run_vllm_cpu(args.pairs, args.steps, args.out or ROOT / "benchmarks" / "results" / "online_rl_vllm_cpu",
                     args.cache, spawn=_spawn, build_policy=build_policy, write=_write)
    elif args.mode == "gpu":
        run_gpu(args.out or ROOT / "benchmarks" / "results" / "online_rl_gpu", args.model, args.steps)
    else:
        run_cpu(args.pairs, args.steps, args.out or ROOT / "benchmarks" / "results" / "online_rl", args.cache)


if __name__ == "__main__":
    main()
