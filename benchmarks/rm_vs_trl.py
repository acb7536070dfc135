"""Reward-model training throughput: `alignlab rm train` vs a plain TRL `RewardTrainer` script, side by side.

    .venv/bin/python benchmarks/rm_vs_trl.py                              # the recorded run (3 A/B pairs)
    .venv/bin/python benchmarks/rm_vs_trl.py --size nano --steps 4 --pairs 1 --train-pairs 64   # quick check

Both arms get the same tiny model (one `build_tiny_models` build, ~14M parameters at size `small`), the
same data (generated `keyword` pairs whose chat-templated sequences are 128-256 tokens long), batch size,
learning rate, number of optimizer steps, precision (fp32; `--precision best`: each side's default, written to
`*_best` results) and torch thread count:

- **A, alignlab**: `alignlab rm train --config <generated yaml>` as a user runs it (a child process); our
  `PairwiseRewardTrainer` with length-grouped batches (`rm.batching: length_grouped`, the default).
- **B, TRL**: the script a TRL user writes (`--trl-worker` mode of this file, a child process):
  `RewardTrainer(model, RewardConfig(...), train_dataset=conversational prompt/chosen/rejected)` with
  `bf16=False` and gradient checkpointing off (TRL turns both on by default; both are slower on a CPU).

Each arm runs in a fresh child process. Throughput comes from the trainer's own `train_runtime` (optimizer
steps only: model loading, tokenization and evaluation excluded, for both): samples/s = pairs trained per
second, tokens/s = non-pad tokens per second. Peak RSS is the child's `ru_maxrss` (`os.wait4`). Held-out
accuracy is computed the same way for both saved models by this script (plain transformers, chat template).
A/B pair i trains both arms with seed i (value-head init, batch order), so the accuracy columns show training
noise across seeds: the table gives each seed's paired gap and their mean (`--same-seed`: seed 0 everywhere).
On `--data hh` the held-out set is the test split's pairs that fit (130) topped up to `--test-pairs` (600) with
train-split pairs never trained on whose opening user turn no trained pair shares.
Arms alternate A,B then B,A ... so slow drift of a shared machine hits both. Reports every run, medians
and the A/B ratios, and writes them to `benchmarks/results/rm_vs_trl.{json,md}`.
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
RESULTS = ROOT / "benchmarks" / "results"


def prepare(work: Path, args: argparse.Namespace) -> dict:
    """Build the tiny model and write train/test JSONL once; return what both arms share."""
    from alignlab.data.io import write_jsonl
    from alignlab.data.synthetic import make_pairwise
    from alignlab.models.tiny import build_tiny_models

    tiny = build_tiny_models(work / "tiny", size=args.size, seed=0)
    if args.data == "hh":
        train, test = _hh_pairs(tiny.policy_dir, args)
    else:
        spec = (args.sentences_min, args.sentences_max)
        train = make_pairwise(args.train_pairs, seed=0, rule=args.rule, chat=True, sentences=spec)
        test = make_pairwise(args.test_pairs, seed=1, rule=args.rule, chat=True, sentences=spec)
    write_jsonl(work / "train.jsonl", train)
    write_jsonl(work / "test.jsonl", test)
    lengths = _lengths(tiny.policy_dir, train)
    return {"model": str(tiny.policy_dir), "parameters": tiny.reward_parameters, "train": str(work / "train.jsonl"),
            "test": str(work / "test.jsonl"), "lengths": lengths, "heldout_pairs": len(test)}


def _hh_pairs(model_dir: Path, args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """The shipped HH-RLHF harmless pairs whose chosen and rejected both fit in `--max-tokens` (TRL drops longer
    pairs and alignlab truncates them: keeping only pairs that fit gives both arms the same data)."""
    from transformers import AutoTokenizer

    from alignlab.data import load_records

    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def fits(record: dict) -> bool:
        return all(len(tokenizer.apply_chat_template(record["prompt"] + record[side], tokenize=True,
                                                     return_dict=False)) <= args.max_tokens
                   for side in ("chosen", "rejected"))

    folder = ROOT / "preference_data" / "hh_rlhf_harmless"
    pool = [r for r in load_records(folder / "train.jsonl") if fits(r)]
    train = pool[: args.train_pairs]
    test = [r for r in load_records(folder / "test.jsonl") if fits(r)][: args.test_pairs]
    # The test split holds 130 pairs that fit: one pair is 0.8 points, too coarse for a +-1 point check. Top the
    # held-out set up with train-split pairs never trained on whose opening user turn no trained pair shares.
    seen = {_opening(r) for r in train}
    spare = [r for r in pool[args.train_pairs:] if _opening(r) not in seen]
    return train, test + spare[: max(0, args.test_pairs - len(test))]


def _opening(record: dict) -> str:
    return next((m["content"] for m in record["prompt"] if m["role"] == "user"), "").strip().lower()


def _lengths(model_dir: Path, records: list[dict]) -> dict:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    sizes = sorted(len(tokenizer.apply_chat_template(r["prompt"] + r[side], tokenize=True, return_dict=False))
                   for r in records for side in ("chosen", "rejected"))
    return {"min": sizes[0], "median": sizes[len(sizes) // 2], "max": sizes[-1]}


def _measured(command: list[str], env: dict) -> tuple[float, str]:
    """Run a child to completion; return its peak RSS in MB (from `os.wait4`) and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            sys.stderr.write(err.read()[-4000:])
            raise SystemExit(f"child failed with status {process.returncode}: {' '.join(command[:8])}")
        peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        return peak, out.read()


def _env(threads: int) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONWARNINGS": "ignore",
            "OMP_NUM_THREADS": str(threads)}


def _seed(args: argparse.Namespace, index: int) -> int:
    """Pair i trains both arms with seed i (head init, batch order): one seed for every run made the accuracy
    gap one draw of training noise repeated; several seeds measure it. `--same-seed` restores seed 0 throughout."""
    return 0 if args.same_seed else index


def run_alignlab(work: Path, shared: dict, args: argparse.Namespace, index: int) -> dict:
    config = {
        "run": {"name": f"a{index}", "output_dir": str(work / "runs"), "seed": _seed(args, index),
                "threads": args.threads},
        "model": {"name_or_path": shared["model"]},
        "data": {"path": shared["train"], "eval_path": shared["test"], "max_length": 512},
        "train": {"lr": args.lr, "batch_size": args.batch_size, "max_steps": args.steps,
                  "logging_steps": max(1, args.steps // 4), "save_steps": 10 * args.steps,
                  **({"bf16": False} if args.precision == "fp32" else {})},  # best: chosen per model size
        "rm": {"type": "bradley_terry", "example_weight": "none", "output_dir": str(work / "models" / f"a{index}")},
    }
    path = work / f"a{index}.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    command = [sys.executable, "-c", "from alignlab.cli import main; main()", "rm", "train", "--config", str(path)]
    rss, _ = _measured(command, _env(args.threads))
    summary = json.loads((work / "runs" / f"a{index}" / "summary.json").read_text())["train"]
    return {"arm": "alignlab", "seed": _seed(args, index), "runtime_s": summary["train_runtime_s"],
            "tokens": summary["tokens"],
            "samples": args.steps * args.batch_size, "peak_rss_mb": rss,
            "model_dir": str(work / "models" / f"a{index}")}


def run_trl(work: Path, shared: dict, args: argparse.Namespace, index: int) -> dict:
    out = work / "models" / f"b{index}"
    command = [sys.executable, __file__, "--trl-worker", shared["model"], shared["train"], str(out),
               "--lr", str(args.lr), "--batch-size", str(args.batch_size), "--steps", str(args.steps),
               "--threads", str(args.threads), "--precision", args.precision, "--seed", str(_seed(args, index))]
    rss, stdout = _measured(command, _env(args.threads))
    result = json.loads(next(line for line in stdout.splitlines() if line.startswith("RESULT="))[7:])
    return {"arm": "trl", "seed": _seed(args, index), "runtime_s": result["train_runtime"], "tokens": result["tokens"],
            "samples": args.steps * args.batch_size, "peak_rss_mb": rss, "model_dir": str(out)}


def trl_worker(argv: list[str]) -> None:
    """The plain TRL script (arm B): what a TRL user writes for the same job."""
    parser = argparse.ArgumentParser()
    for name in ("model", "train", "out"):
        parser.add_argument(name)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import torch
    from datasets import load_dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    torch.set_num_threads(args.threads)
    dataset = load_dataset("json", data_files=args.train, split="train")
    dataset = dataset.select_columns(["prompt", "chosen", "rejected"])
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    torch.manual_seed(args.seed)
    model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=1)
    config = RewardConfig(output_dir=args.out + "-ckpt", learning_rate=args.lr, max_steps=args.steps,
                          per_device_train_batch_size=args.batch_size, logging_steps=max(1, args.steps // 4),
                          save_strategy="no", seed=args.seed,
                          bf16=args.precision == "best", gradient_checkpointing=False, report_to="none",
                          disable_tqdm=True,
                          dataloader_num_workers=0, use_cpu=not torch.cuda.is_available())
    trainer = RewardTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
    output = trainer.train()
    trainer.save_model(args.out)
    tokenizer.save_pretrained(args.out)
    print("RESULT=" + json.dumps({"train_runtime": output.metrics["train_runtime"],
                                  "tokens": trainer._total_train_tokens}))


def heldout_accuracy(model_dir: str, test_path: str) -> float:
    """Pairwise accuracy of a saved model on the test file, scored with plain transformers (chat template)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from alignlab.data.io import read_rows

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    correct = 0
    rows = read_rows(test_path)
    with torch.inference_mode():
        for row in rows:
            rewards = []
            for side in ("chosen", "rejected"):
                text = tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False)
                inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt")
                rewards.append(model(**inputs).logits[0, 0].item())
            correct += rewards[0] > rewards[1]
    return correct / len(rows)


def summarize(runs: list[dict], shared: dict, args: argparse.Namespace) -> dict:
    def median(arm: str, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["arm"] == arm)

    for run in runs:
        run["samples_per_s"] = run["samples"] / run["runtime_s"]
        run["tokens_per_s"] = run["tokens"] / run["runtime_s"]
    # Accuracy: the mean over seeds (pair i = seed i on both arms) and each seed's paired gap, not a median.
    medians = {arm: {**{key: median(arm, key) for key in ("samples_per_s", "tokens_per_s", "peak_rss_mb")},
                     "accuracy": statistics.fmean(r["accuracy"] for r in runs if r["arm"] == arm)}
               for arm in ("alignlab", "trl")}
    a, b = medians["alignlab"], medians["trl"]
    gaps = [100 * (x["accuracy"] - y["accuracy"]) for x, y in zip(
        (r for r in runs if r["arm"] == "alignlab"), (r for r in runs if r["arm"] == "trl"), strict=True)]
    ratios = {"samples_per_s": a["samples_per_s"] / b["samples_per_s"],
              "tokens_per_s": a["tokens_per_s"] / b["tokens_per_s"],
              "peak_rss": a["peak_rss_mb"] / b["peak_rss_mb"],
              "accuracy_points": statistics.fmean(gaps), "accuracy_points_per_seed": gaps}
    setting = {key: getattr(args, key) for key in ("data", "size", "steps", "batch_size", "lr", "threads",
                                                    "train_pairs", "test_pairs", "rule", "pairs", "same_seed")}
    return {"setting": {**setting, "parameters": shared["parameters"], "sequence_tokens": shared["lengths"],
                        "heldout_pairs": shared["heldout_pairs"], "precision": args.precision},
            "runs": runs, "medians": medians, "ratios": ratios}


def markdown(result: dict) -> str:
    s = result["setting"]
    tokens = s["sequence_tokens"]
    lines = [f"alignlab rm train (A) vs plain TRL RewardTrainer (B), {s['data']} data: {s['size']} tiny model "
             f"({s['parameters']:,} parameters), {s['steps']} steps x {s['batch_size']} pairs, sequences "
             f"{tokens['min']}-{tokens['max']} tokens (median {tokens['median']}), "
             f"{'fp32 on both sides' if s.get('precision', 'fp32') == 'fp32' else 'each side its best precision'}, "
             f"{s['threads']} thread(s), "
             f"{s['pairs']} alternating A/B pairs"
             f"{' (seed 0 throughout)' if s.get('same_seed', True) else ' (pair i: seed i on both arms)'}, "
             f"{s.get('heldout_pairs', s['test_pairs'])} held-out pairs", "",
             "| run | arm | seed | samples/s | tokens/s | peak RSS MB | held-out accuracy |",
             "|---|---|---|---|---|---|---|"]
    for i, r in enumerate(result["runs"]):
        lines.append(f"| {i + 1} | {r['arm']} | {r.get('seed', 0)} | {r['samples_per_s']:.2f} | "
                     f"{r['tokens_per_s']:.0f} | {r['peak_rss_mb']:.0f} | {r['accuracy']:.3f} |")
    a, b, ratio = result["medians"]["alignlab"], result["medians"]["trl"], result["ratios"]
    lines += ["", "| median (accuracy: mean over seeds) | samples/s | tokens/s | peak RSS MB | held-out accuracy |",
              "|---|---|---|---|---|"]
    for name, m in (("alignlab", a), ("TRL", b)):
        lines.append(f"| {name} | {m['samples_per_s']:.2f} | {m['tokens_per_s']:.0f} | {m['peak_rss_mb']:.0f} | "
                     f"{m['accuracy']:.3f} |")
    lines += [f"| A/B | {ratio['samples_per_s']:.2f}x | {ratio['tokens_per_s']:.2f}x | {ratio['peak_rss']:.2f}x | "
              f"{ratio['accuracy_points']:+.1f} points |"]
    if "accuracy_points_per_seed" in ratio:
        per_seed = ", ".join(f"{gap:+.1f}" for gap in ratio["accuracy_points_per_seed"])
        lines += ["", f"Accuracy gap alignlab - TRL per seed, points: {per_seed}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--trl-worker":
        trl_worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", help="Tiny model size (nano, micro, small, base).")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=3, help="A/B pairs (alternating order).")
    parser.add_argument("--train-pairs", type=int, default=320)
    parser.add_argument("--test-pairs", type=int, default=None,
                        help="Held-out pairs (default 200 synthetic; 600 hh: the test split's 130 that fit, "
                             "topped up with train-split pairs never trained on).")
    parser.add_argument("--same-seed", action="store_true",
                        help="Seed 0 for every run (default: pair i uses seed i on both arms).")
    parser.add_argument("--data", choices=("synthetic", "hh"), default="synthetic",
                        help="synthetic: generated pairs of 128-256 tokens; hh: the shipped HH-RLHF harmless pairs "
                             "that fit in --max-tokens (real length spread).")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--rule", default="keyword")
    parser.add_argument("--sentences-min", type=int, default=17)
    parser.add_argument("--sentences-max", type=int, default=36)
    parser.add_argument("--precision", choices=("fp32", "best"), default="fp32",
                        help="fp32: both sides fp32 (train.bf16: false, TRL bf16=False); best: each side's default "
                             "(alignlab picks per model size, TRL's bf16=True)")
    parser.add_argument("--no-save", action="store_true", help="Print only; do not write benchmarks/results/.")
    args = parser.parse_args()
    if args.test_pairs is None:
        args.test_pairs = 600 if args.data == "hh" else 200
    with tempfile.TemporaryDirectory(prefix="rm_vs_trl_") as tmp:
        work = Path(tmp)
        shared = prepare(work, args)
        runs = []
        for index in range(args.pairs):
            order = (run_alignlab, run_trl) if index % 2 == 0 else (run_trl, run_alignlab)
            for arm in order:
                started = time.perf_counter()
                run = arm(work, shared, args, index)
                run["accuracy"] = heldout_accuracy(run.pop("model_dir"), shared["test"])
                print(f"pair {index + 1} {run['arm']}: {run['samples'] / run['runtime_s']:.2f} samples/s, "
                      f"accuracy {run['accuracy']:.3f} ({time.perf_counter() - started:.0f}s)", flush=True)
                runs.append(run)
        result = summarize(runs, shared, args)
    print(markdown(result))
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        from alignlab.utils.io import atomic_write_json, atomic_write_text

        suffix = ("" if args.data == "synthetic" else f"_{args.data}") + ("_best" if args.precision == "best" else "")
        atomic_write_json(RESULTS / f"rm_vs_trl{suffix}.json", result)
        atomic_write_text(RESULTS / f"rm_vs_trl{suffix}.md", markdown(result))


if __name__ == "__main__":
    main()
