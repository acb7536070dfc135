"""Scaling out: samples/s on 1 vs 2 processes (CPU, DDP over gloo), and ZeRO-2 vs ZeRO-3 memory and speed (GPU).

    .venv/bin/python benchmarks/scaling.py                      # CPU: rm and dpo, 1 vs 2 processes (recorded)
    .venv/bin/python benchmarks/scaling.py --repeats 1 --steps 6   # quick check
    python benchmarks/scaling.py --mode gpu --gpus 1            # GPU: dpo, ~290M-parameter Llama, ZeRO-2 vs ZeRO-3

CPU mode. Each trainer runs as a user runs it: `alignlab rm train` / `alignlab train dpo` in one process, and
`alignlab launch --config-file configs/accelerate/ddp_cpu.yaml --num-processes 2 -- ...` in two, with the same
per-device batch (weak scaling: two processes train twice the samples per step), the same number of optimizer
steps, one torch thread per process, tiny models (`tiny:micro` reward model, a `micro` tiny policy).
Throughput = steps x global batch / the trainer's own train_runtime (rank 0's; start-up, data preparation and
evaluation excluded). Efficiency = samples/s on 2 / (2 x samples/s on 1): 1.0 is perfect scaling. Runs
alternate 1,2 then 2,1 ... so a shared machine's drift hits both; medians are reported.

GPU mode. The same DPO run under configs/accelerate/zero2.yaml and zero3.yaml on `--gpus` GPUs, bf16, with a
random-init Llama of about 290M parameters (hidden 1024, 24 layers, the tiny 2048-token tokenizer) built locally: peak
GPU memory (the largest `nvidia-smi` memory.used of any GPU, sampled every 0.2 s) and samples/s.

Writes benchmarks/results/scaling.{json,md} (CPU) or scaling_gpu.{json,md} (GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

RM = """\
run: {{name: {name}, output_dir: {out}/runs, seed: 0, threads: 1}}
model: {{name_or_path: "tiny:micro"}}
data: {{path: "synthetic:keyword?n=2000&seed=0&chat=1", format: pairwise, test_size: 0.02, max_length: 128}}
train: {{lr: 1.0e-3, batch_size: {batch}, max_steps: {steps}, logging_steps: 5, save_steps: 100000}}
rm: {{type: bradley_terry, batching: padded, output_dir: {out}/models/{name}}}
"""
DPO = """\
run: {{name: {name}, output_dir: {out}/runs, seed: 0, threads: 1}}
model: {{name_or_path: {policy}}}
data: {{path: "synthetic:sentiment?n=2000&seed=0&chat=1", test_size: 0.02, max_length: 128}}
train: {{lr: 1.0e-4, batch_size: {batch}, max_steps: {steps}, logging_steps: 5, save_steps: 100000}}
eval: {{at_checkpoints: false}}
reference: {{cache_dir: {out}/refcache}}
tiny_policy: {{size: {size}, sft_steps: 10}}
"""


def _alignlab(args: list[str]) -> None:
    command = [sys.executable, "-c", "from alignlab.cli import main; main()", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore", "HF_HUB_OFFLINE": "1"})
    if result.returncode:
        raise SystemExit(f"failed: {' '.join(args)}\n{result.stderr[-3000:]}")


def run_once(trainer: str, processes: int, index: int, work: Path, args: argparse.Namespace,
             launcher: str = "ddp_cpu", policy: str | None = None, size: str = "micro") -> dict:
    """One training run; returns its throughput from the run's summary."""
    name = f"{trainer}_{launcher}_{processes}p_{index}"
    template = RM if trainer == "rm" else DPO
    config = work / f"{name}.yaml"
    config.write_text(template.format(name=name, out=work, batch=args.batch, steps=args.steps,
                                      policy=policy or work / "policy", size=size))
    command = ["rm", "train"] if trainer == "rm" else ["train", "dpo"]
    command += ["--config", str(config)]
    if processes > 1 or launcher != "ddp_cpu":
        extra = ["--mixed-precision", "bf16"] if args.mode == "gpu" else []
        command = ["launch", "--config-file", launcher, "--num-processes", str(processes), *extra, "--", *command]
    _alignlab(command)
    summary = json.loads((work / "runs" / name / "summary.json").read_text())
    runtime = summary["train"]["train_runtime_s"] if trainer == "rm" else summary["train_runtime_s"]
    samples = args.steps * args.batch * processes
    return {"trainer": trainer, "processes": processes, "launcher": launcher, "run": index,
            "global_batch": args.batch * processes, "steps": args.steps, "train_runtime_s": runtime,
            "samples_per_second": round(samples / runtime, 2)}


def cpu_mode(args: argparse.Namespace, work: Path) -> dict:
    # Warm-up: the tiny base models, the tiny policy and the reference cache are built once, outside the timing.
    for trainer in args.trainers:
        run_once(trainer, 1, -1, work, argparse.Namespace(**{**vars(args), "steps": 2}))
    rows = []
    for index in range(args.repeats):
        order = (1, 2) if index % 2 == 0 else (2, 1)
        for trainer in args.trainers:
            for processes in order:
                row = run_once(trainer, processes, index, work, args)
                print(f"  {trainer:4s} {processes} process(es)  run {index}  {row['samples_per_second']:8.2f} "
                      f"samples/s  ({row['train_runtime_s']:.1f} s)", flush=True)
                rows.append(row)
    medians = {}
    for trainer in args.trainers:
        one = statistics.median(r["samples_per_second"] for r in rows if r["trainer"] == trainer
                                and r["processes"] == 1)
        two = statistics.median(r["samples_per_second"] for r in rows if r["trainer"] == trainer
                                and r["processes"] == 2)
        medians[trainer] = {"samples_per_second_1": one, "samples_per_second_2": two,
                            "speedup": round(two / one, 3), "efficiency": round(two / (2 * one), 3)}
    return {"rows": rows, "medians": medians}


def _peak_gpu_memory(stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True).stdout.split()
        if out:
            peak[0] = max(peak[0], *(int(value) for value in out))
        time.sleep(0.2)


def build_policy(out: Path, work: Path) -> str:
    """A random-init Llama of about 290M parameters with the tiny tokenizer, saved once under `out`."""
    from transformers import LlamaForCausalLM

    from alignlab.models import load_tokenizer
    from alignlab.models.tiny import TinySize, build_tiny_models, llama_config

    if (out / "config.json").is_file():
        return str(out)
    tiny = build_tiny_models(work / "tokenizer_source", size="nano")
    tokenizer = load_tokenizer(tiny.policy_dir)
    config = llama_config(TinySize(1024, 24, 16, 8, 2816, "290M"), vocab_size=len(tokenizer),
                          max_position_embeddings=1024)
    model = LlamaForCausalLM(config)
    print(f"policy: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters -> {out}", flush=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def gpu_mode(args: argparse.Namespace, work: Path) -> dict:
    policy = build_policy(work / "policy_290m", work)
    rows = []
    for index in range(args.repeats):
        order = ("zero2", "zero3") if index % 2 == 0 else ("zero3", "zero2")
        for launcher in order:
            stop, peak = threading.Event(), [0]
            sampler = threading.Thread(target=_peak_gpu_memory, args=(stop, peak), daemon=True)
            sampler.start()
            row = run_once("dpo", args.gpus, index, work, args, launcher=launcher, policy=policy)
            stop.set()
            sampler.join()
            row["peak_gpu_memory_mib"] = peak[0]
            print(f"  {launcher} {args.gpus} GPU(s) run {index}  {row['samples_per_second']:8.2f} samples/s  "
                  f"peak {peak[0]} MiB", flush=True)
            rows.append(row)
    medians = {launcher: {"samples_per_second": statistics.median(r["samples_per_second"] for r in rows
                                                                  if r["launcher"] == launcher),
                          "peak_gpu_memory_mib": statistics.median(r["peak_gpu_memory_mib"] for r in rows
                                                                   if r["launcher"] == launcher)}
               for launcher in ("zero2", "zero3")}
    return {"rows": rows, "medians": medians}


def markdown(result: dict) -> str:
    lines = [f"# Scaling ({result['mode']})", "", f"Command: `{result['command']}`", "",
             f"Machine: {result['machine']}. Date: {result['date']}.", ""]
    if result["mode"] == "cpu":
        lines += ["| trainer | samples/s, 1 process | samples/s, 2 processes | speed-up | efficiency |",
                  "|---|---|---|---|---|"]
        for trainer, m in result["medians"].items():
            lines.append(f"| {trainer} | {m['samples_per_second_1']:.2f} | {m['samples_per_second_2']:.2f} | "
                         f"{m['speedup']:.2f}x | {m['efficiency']:.2f} |")
    else:
        lines += ["| launcher | samples/s | peak GPU memory (MiB) |", "|---|---|---|"]
        for launcher, m in result["medians"].items():
            lines.append(f"| {launcher} | {m['samples_per_second']:.2f} | {m['peak_gpu_memory_mib']:.0f} |")
    lines += ["", "Every run:", "", "| trainer | launcher | processes | run | samples/s | train_runtime_s |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['trainer']} | {r['launcher']} | {r['processes']} | {r['run']} | {r['samples_per_second']} | "
              f"{r['train_runtime_s']} |" for r in result["rows"]]
    return "\n".join(lines + ["", result["note"], ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--trainers", nargs="+", default=["rm", "dpo"], choices=("rm", "dpo"))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=8, help="per-device batch size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpus", type=int, default=1, help="GPU mode: processes (one per GPU)")
    parser.add_argument("--work", type=Path, default=None, help="keep the runs here (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alignlab-scaling-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result = (cpu_mode if args.mode == "cpu" else gpu_mode)(args, work)
    result.update(mode=args.mode, command="python benchmarks/scaling.py " + " ".join(sys.argv[1:]),
                  machine=f"{platform.machine()}, {os.cpu_count()} CPU cores", date=time.strftime("%Y-%m-%d"),
                  note=("The CPU runs share this machine's 2 cores with other jobs: two single-threaded processes "
                        "compete with everything else, so efficiency here is a lower bound for idle cores."
                        if args.mode == "cpu" else "bf16, one process per GPU."))
    stem = "scaling" if args.mode == "cpu" else "scaling_gpu"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
