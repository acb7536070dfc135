"""Does online RL learn, across seeds? The shipped tiny PPO, GRPO and RLOO configs, run through the CLI.

    .venv/bin/python benchmarks/online_rl_learning.py --seeds 0 1 2

For each method and seed, one after the other (never in parallel: the timings are wall times),

    alignlab train METHOD --config configs/METHOD/tiny.yaml run.seed=SEED run.output_dir=OUT --force

then the run's summary.json gives the held-out rule reward (`sentiment`, greedy generations on the 10%
held-out prompts) before and after training, the largest per-round KL to the reference against
guards.kl_budget, and whether a guard stopped the run. The starting policy (`tiny_policy`, its own seed 0)
is built once by the first run and shared, so every "before" of a method is the same number; the run seed
changes the rounds' prompts and the sampling. Writes a Markdown table (default
benchmarks/results/online_rl_learning.md; a `## Notes` section already below the table is kept).
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
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("ppo", "grpo", "rloo")
NOTES = "## Notes"


def run_one(method: str, seed: int, out: Path) -> dict:
    command = [str(Path(sys.executable).with_name("alignlab")), "train", method, "--config",
               f"configs/{method}/tiny.yaml", f"run.seed={seed}", f"run.output_dir={out}", "--force"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{method} seed {seed} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    summary = json.loads((out / f"{method}_tiny" / "summary.json").read_text(encoding="utf-8"))
    kl = summary["kl"]
    return {"method": method, "seed": seed, "before": summary["eval_before"]["eval/reward"],
            "after": summary["eval"]["eval/reward"], "gain": summary["reward_gain"], "kl_max": kl["max"],
            "kl_budget": kl["budget"], "within": kl["within_budget"], "steps": summary["steps"],
            "stopped": summary["stopped_early"], "wall_s": wall}


def table(rows: list[dict], command: str) -> str:
    lines = [f"# Online RL learning across seeds (CPU), {date.today().isoformat()}", "",
             f"`{command}`", "",
             f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs), runs one after the other.",
             "Held-out reward: rule `sentiment` (#positive - #negative words, clipped to [-3, 3]), greedy, "
             "the configs' 10% held-out prompts (48 used).", "",
             "| method | seed | held-out reward before | after | gain | max KL | KL budget | steps | stopped early "
             "| wall s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['seed']} | {r['before']:.3f} | {r['after']:.3f} | {r['gain']:+.3f} | "
                     f"{r['kl_max']:.3f} | {r['kl_budget']} | {r['steps']} | {r['stopped'] or 'no'} | "
                     f"{r['wall_s']:.0f} |")
    lines += ["", "| method | median gain | min gain | seeds that gained | max KL (all seeds) | median wall s |",
              "|---|---|---|---|---|---|"]
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        gains = [r["gain"] for r in mine]
        lines.append(f"| {method} | {statistics.median(gains):+.3f} | {min(gains):+.3f} | "
                     f"{sum(g > 0 for g in gains)}/{len(gains)} | {max(r['kl_max'] for r in mine):.3f} | "
                     f"{statistics.median(r['wall_s'] for r in mine):.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "online_rl_learning.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="online-rl-seeds-") as tmp:
        for method in args.methods:
            for seed in args.seeds:
                row = run_one(method, seed, Path(tmp) / f"{method}-{seed}")
                rows.append(row)
                print(f"{method} seed {seed}: {row['before']:.3f} -> {row['after']:.3f} (max KL {row['kl_max']:.3f}"
                      f", {row['wall_s']:.0f}s)", flush=True)
    command = "python benchmarks/online_rl_learning.py --seeds " + " ".join(map(str, args.seeds))
    if args.methods != list(METHODS):
        command += " --methods " + " ".join(args.methods)
    text = table(rows, command)
    if args.out.is_file() and NOTES in (old := args.out.read_text(encoding="utf-8")):
        text += "\n" + old[old.index(NOTES):]  # hand-written notes below the table survive a re-run
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(text, encoding="utf-8")
    tmp_out.replace(args.out)
    print(text)


if __name__ == "__main__":
    main()
