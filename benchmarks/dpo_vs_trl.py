"""`alignlab train dpo` against a plain TRL `DPOTrainer` script: same model, data, hyper-parameters, precision.

    python benchmarks/dpo_vs_trl.py                      # 3 alternated rounds, small (~15M) model, 128-256 tokens
    python benchmarks/dpo_vs_trl.py --rounds 5 --size base --threads 2
    python benchmarks/dpo_vs_trl.py --data hh            # the shipped HH-RLHF harmless pairs (long prompts)

Two data shapes (`--data`): `synthetic`, short prompts and long responses (20-38 sentences), and `hh`, the
shipped HH-RLHF harmless-base pairs (`preference_data/hh_rlhf_harmless`): multi-turn conversations whose
prompt is most of every sequence, the shape where computing the prompt once per pair pays most. For KTO each
HH pair gives two unpaired examples (chosen: desirable, rejected: undesirable), alternating by pair.

Three sides, alternated in every round (the order rotates, so no side always runs first or last):
- `trl`:            a plain TRL script (its defaults, except the shared settings below): the reference model is a
                    second copy of the policy, run beside it at every step.
- `alignlab`:       `alignlab train dpo` with its defaults and a cold reference cache (computed in this run).
- `alignlab_warm`:  the same with the reference cache already on disk (a second run or round on the same data).
Shared: the SFT'd tiny policy, the train/held-out JSONL files, lr, batch size, epochs, beta, max_length, seed,
fp32 on CPU without gradient checkpointing (TRL's bf16 and checkpointing defaults are switched off, and
alignlab's per-size precision choice with `train.bf16: false`, so both sides compute the same thing; `--precision
best` runs each side's own default instead and writes `*_best` results), one evaluation at the end, the final
model saved.

Each side runs in its own child process, timed from after its imports to the saved model: data reading,
tokenization, reference log-probs, training, held-out evaluation. Reported per side (median over rounds):
samples/s (training pairs per second, whole run), tokens/s (training tokens per second, whole run), train-loop
samples/s (the Trainer's own `train_runtime`), peak RSS of the child, held-out reward accuracy and margin; and
the median over rounds of the per-round ratios alignlab / trl. Results go to benchmarks/results/ as JSON and a
Markdown table of the medians followed by one row per round and side. Timings on a shared machine are
noisy: compare the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SIDES = ("trl", "alignlab", "alignlab_warm")


def arguments(argv: list[str] | None = None, **defaults) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", default="small", help="tiny model size: nano, micro, small (~15M), base (~30M)")
    parser.add_argument("--train", type=int, default=defaults.get("train", 256), help="training examples")
    parser.add_argument("--eval", type=int, default=64, help="held-out examples (a multiple of --batch-size)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=defaults.get("lr", 5e-4))
    parser.add_argument("--beta", type=float, default=defaults.get("beta", 0.1))
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--sentences", default="20-38", help="sentences per response (about 6 tokens each)")
    parser.add_argument("--data", choices=("synthetic", "hh"), default="synthetic",
                        help="synthetic long-response pairs, or the shipped HH-RLHF harmless pairs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", choices=("fp32", "best"), default="fp32",
                        help="fp32: both sides fp32 (train.bf16: false, TRL bf16=False); best: each side's default "
                             "(alignlab picks per model size, TRL's bf16=True)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--from-json", type=Path, default=None, help="re-render the table of a saved result")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- setup (parent) ----------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, kind: str) -> Path:
    """The work folder: an SFT'd tiny policy, train.jsonl and test.jsonl (made once, reused by every side)."""
    import torch

    from alignlab.algorithms.tiny_policy import build_tiny_policy
    from alignlab.config.dpo import TinyPolicySection
    from alignlab.data import write_jsonl
    from alignlab.data.synthetic import make_pairwise, make_unpaired

    torch.set_num_threads(args.threads)  # the SFT below too: oversubscribed OpenMP threads crawl
    work = args.workdir or Path(tempfile.mkdtemp(prefix=f"{kind}_vs_trl_"))
    low, high = (int(x) for x in args.sentences.split("-"))
    if not (work / "train.jsonl").is_file() and args.data == "hh":
        return prepare_hh(args, kind, work)
    if not (work / "train.jsonl").is_file():
        make = make_pairwise if kind == "dpo" else make_unpaired
        records = make(args.train + args.eval, seed=0, rule="sentiment", sentences=(low, high), chat=True)
        write_jsonl(work / "train.jsonl", records[:args.train])
        write_jsonl(work / "test.jsonl", records[args.train:])
    if not (work / "policy").exists():
        from alignlab.algorithms.preference_data import read_records

        fmt = "pairwise" if kind == "dpo" else "unpaired"
        items = read_records(str(work / "train.jsonl"), fmt)[1]
        build_tiny_policy(TinyPolicySection(size=args.size, sft_steps=20, sft_lr=1e-3), work / "policy",
                          [record for _w, record in items])
    return work


HH = ROOT / "preference_data" / "hh_rlhf_harmless"


def prepare_hh(args: argparse.Namespace, kind: str, work: Path) -> Path:
    """HH-RLHF pairs that fit in max_length untruncated (so both sides compute exactly the same tokens; TRL
    and alignlab truncate differently): the tiny policy is built on candidate pairs first (its tokenizer
    decides the lengths), then the first `train` / `eval` fitting pairs are kept. For KTO each pair gives one
    unpaired example, its chosen (desirable) or rejected (undesirable) side by turns."""
    import torch

    from alignlab.algorithms.preference_data import Encoder, read_records
    from alignlab.algorithms.tiny_policy import build_tiny_policy
    from alignlab.config.dpo import PreferenceDataSection, TinyPolicySection
    from alignlab.data import read_rows, to_trl, write_jsonl
    from alignlab.models import load_tokenizer

    torch.set_num_threads(args.threads)
    candidates = {"train": read_rows(HH / "train.jsonl")[:6 * args.train],
                  "test": read_rows(HH / "test.jsonl")[:6 * args.eval]}
    write_jsonl(work / "candidates.jsonl", candidates["train"])
    items = read_records(str(work / "candidates.jsonl"), "pairwise")[1]
    build_tiny_policy(TinyPolicySection(size=args.size, sft_steps=20, sft_lr=1e-3), work / "policy",
                      [record for _w, record in items])
    encoder = Encoder.for_data(load_tokenizer(work / "policy"), PreferenceDataSection(
        path=str(work / "candidates.jsonl"), max_length=10**6))
    for split, count in (("train", args.train), ("test", args.eval)):
        kept = []
        for index, row in enumerate(candidates[split]):
            pair = to_trl(row, "pairwise", "conversational")
            prompt, answers = encoder.encode(pair["prompt"], [pair["chosen"], pair["rejected"]], f"{split}:{index}")
            if len(prompt) + max(len(a) for a in answers) <= args.max_length:
                kept.append(row)
        if len(kept) < count:
            raise SystemExit(f"only {len(kept)} HH {split} pairs fit in {args.max_length} tokens; lower the count")
        write_jsonl(work / f"{split}.jsonl", [_as_kind(kind, row, i) for i, row in enumerate(kept[:count])])
    return work


def _as_kind(kind: str, row: dict, index: int) -> dict:
    if kind == "dpo":
        return row
    desirable = index % 2 == 0
    return {"id": f"unpaired-{row['id']}", "prompt": row["prompt"],
            "completion": row["chosen" if desirable else "rejected"], "label": desirable,
            "source": row.get("source", "hh-rlhf")}


def alignlab_yaml(args: argparse.Namespace, work: Path, kind: str, name: str, cache_dir: Path) -> Path:
    method = (f"dpo: {{loss_type: sigmoid, beta: {args.beta}}}" if kind == "dpo"
              else f"kto: {{loss_type: kto, beta: {args.beta}}}")
    fmt = "pairwise" if kind == "dpo" else "unpaired"
    bf16 = ", bf16: false" if args.precision == "fp32" else ""  # best: unset, chosen per model size
    text = f"""\
run: {{name: {name}, output_dir: {work / 'runs'}, seed: 0, threads: {args.threads}}}
model: {{name_or_path: {work / 'policy'}}}
data: {{path: {work / 'train.jsonl'}, eval_path: {work / 'test.jsonl'}, format: {fmt}, max_length: {args.max_length}}}
train: {{lr: {args.lr}, batch_size: {args.batch_size}, epochs: {args.epochs}, logging_steps: 10,
        save_steps: 100000{bf16}}}
reference: {{cache_dir: {cache_dir}}}
{method}
"""
    path = work / f"{name}.yaml"
    path.write_text(text)
    return path


def run_child(side: str, args: argparse.Namespace, work: Path, script: Path, extra: list[str]) -> dict:
    result = work / f"result_{side}_{time.time_ns()}.json"
    command = [sys.executable, str(script), "--worker", side, "--result", str(result), "--workdir", str(work),
               *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(result.read_text())


def child_arguments(args: argparse.Namespace) -> list[str]:
    return ["--size", args.size, "--train", str(args.train), "--eval", str(args.eval),
            "--batch-size", str(args.batch_size), "--epochs", str(args.epochs), "--lr", str(args.lr),
            "--beta", str(args.beta), "--max-length", str(args.max_length), "--threads", str(args.threads),
            "--data", args.data, "--precision", args.precision]


def alternate(args: argparse.Namespace, kind: str, script: Path) -> dict:
    """Prime the warm cache once (untimed), then `rounds` rounds of the three sides in rotating order."""
    work = prepare(args, kind)
    extra = child_arguments(args)
    run_child("alignlab_warm", args, work, script, extra)  # fills work/refcache_warm
    rounds = []
    for index in range(args.rounds):
        order = SIDES[index % 3:] + SIDES[:index % 3]
        results = {side: run_child(side, args, work, script, extra) for side in order}
        for result in results.values():
            result.pop("model_dir", None)  # a path of this machine: results name no paths
        rounds.append(results)
        print(f"round {index + 1}: " + ", ".join(f"{s} {results[s]['wall_s']:.1f} s" for s in order),
              flush=True)
    # Everything that needs the work folder is computed here, before its path is dropped from the report:
    # results never depend on (nor name) where they were written.
    tokens = alignlab_tokens(work, kind, args.max_length)
    return {"kind": kind, "settings": vars(args) | {"workdir": "<workdir>", "from_json": None},
            "tokens_per_epoch": tokens, "rounds": rounds}


# -- workers (children) ------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def cpu_seconds() -> float:
    """User + system CPU time of this process: steadier than wall time when other jobs share the machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def alignlab_worker(args: argparse.Namespace, kind: str) -> dict:
    # Imports happen before the clock starts, as in the TRL script (both import the same libraries).
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import torch
    import trl  # noqa: F401

    import alignlab.backends.train.preference  # noqa: F401
    from alignlab.config import load_config

    torch.set_num_threads(args.threads)
    warm = args.worker == "alignlab_warm"
    name = "alignlab_warm" if warm else f"alignlab_{time.time_ns()}"
    cache = args.workdir / ("refcache_warm" if warm else f"refcache_{name}")
    config_path = alignlab_yaml(args, args.workdir, kind, name, cache)
    if kind == "dpo":
        from alignlab.algorithms.dpo import train_dpo as train
        from alignlab.config.dpo import DPOConfig as Schema
    else:
        from alignlab.algorithms.kto import train_kto as train
        from alignlab.config.dpo import KTOConfig as Schema
    start, cpu = time.perf_counter(), cpu_seconds()
    run = train(load_config(config_path, Schema), force=True, echo=lambda _: None)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    summary = run.summary()
    return {"wall_s": wall, "cpu_s": cpu, "train_runtime_s": summary["train_runtime_s"], "steps": summary["steps"],
            "accuracy": summary["eval"]["rewards/accuracies"], "margin": summary["eval"]["rewards/margins"],
            "cache_hit": summary["reference"]["cache_hit"], "peak_rss_mb": peak_rss_mb(),
            "model_dir": summary["model"]}


def trl_shared_settings(args: argparse.Namespace) -> dict:
    """The TRL config settings both sides share (DPOConfig and KTOConfig take the same ones): fp32 on CPU (bf16
    autocast, TRL's default, with `--precision best`), no gradient checkpointing (TRL's default switched off), no
    saving during training, one worker."""
    return dict(
        output_dir=str(args.workdir / "trl_out"), learning_rate=args.lr, per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size, num_train_epochs=args.epochs, beta=args.beta,
        max_length=args.max_length, bf16=args.precision == "best", gradient_checkpointing=False, use_cpu=True, seed=0,
        data_seed=0,
        logging_steps=10, save_strategy="no", report_to="none", disable_tqdm=True, dataloader_num_workers=0,
    )


def trl_dpo_worker(args: argparse.Namespace) -> dict:
    """The plain TRL script a user would write, with the shared settings."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from alignlab.data import read_rows, to_trl

    torch.set_num_threads(args.threads)
    start, cpu = time.perf_counter(), cpu_seconds()
    rows = {split: [to_trl(r, "pairwise", "conversational") for r in read_rows(args.workdir / f"{split}.jsonl")]
            for split in ("train", "test")}
    model = AutoModelForCausalLM.from_pretrained(args.workdir / "policy", dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(args.workdir / "policy")
    config = DPOConfig(**trl_shared_settings(args))
    trainer = DPOTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows["train"]),
                         eval_dataset=Dataset.from_list(rows["test"]), processing_class=tokenizer)
    train = trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model(str(args.workdir / "trl_out" / "model"))
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "train_runtime_s": train.metrics["train_runtime"],
            "steps": trainer.state.global_step, "accuracy": metrics["eval_rewards/accuracies"],
            "margin": metrics["eval_rewards/margins"], "peak_rss_mb": peak_rss_mb(),
            "tokens": _trl_tokens(trainer.train_dataset)}


def _trl_tokens(dataset, *answers: str) -> int:
    answers = answers or ("chosen_ids", "rejected_ids")
    return sum(len(row["prompt_ids"]) * len(answers) + sum(len(row[a]) for a in answers) for row in dataset)


def alignlab_tokens(work: Path, kind: str, max_length: int) -> int:
    """Training tokens per epoch as alignlab encodes them (prompt + response, every sequence)."""
    from alignlab.algorithms.preference_data import Encoder, read_records
    from alignlab.config.dpo import PreferenceDataSection
    from alignlab.data import to_trl
    from alignlab.models import load_tokenizer

    fmt = "pairwise" if kind == "dpo" else "unpaired"
    encoder = Encoder.for_data(load_tokenizer(work / "policy"), PreferenceDataSection(
        path=str(work / "train.jsonl"), max_length=max_length))
    total = 0
    for where, record in read_records(str(work / "train.jsonl"), fmt)[1]:
        row = to_trl(record, fmt, "conversational")
        sides = [row["chosen"], row["rejected"]] if kind == "dpo" else [row["completion"]]
        prompt, answers = encoder.encode(row["prompt"], sides, where)
        total += sum(len(prompt) + len(answer) for answer in answers)
    return total


# -- report ------------------------------------------------------------------------------------------------


def summarize(report: dict, samples: int, tokens: int) -> dict:
    table = {}
    for side in SIDES:
        runs = [r[side] for r in report["rounds"]]
        table[side] = {
            "samples_per_s": statistics.median(samples / r["wall_s"] for r in runs),
            "tokens_per_s": statistics.median(tokens / r["wall_s"] for r in runs),
            "train_loop_samples_per_s": statistics.median(samples / r["train_runtime_s"] for r in runs),
            "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
            "accuracy": statistics.median(r["accuracy"] for r in runs),
            "margin": statistics.median(r["margin"] for r in runs),
            "wall_s": statistics.median(r["wall_s"] for r in runs),
        }
    timed = [r for r in report["rounds"] if all("cpu_s" in r[side] for side in SIDES)]
    for side in SIDES:
        if timed:
            table[side]["cpu_samples_per_s"] = statistics.median(samples / r[side]["cpu_s"] for r in timed)
    for side in ("alignlab", "alignlab_warm"):
        if timed:
            table[side]["cpu_ratio_vs_trl"] = statistics.median(r["trl"]["cpu_s"] / r[side]["cpu_s"] for r in timed)
        table[side]["ratio_vs_trl"] = statistics.median(
            r["trl"]["wall_s"] / r[side]["wall_s"] for r in report["rounds"])
        table[side]["train_loop_ratio_vs_trl"] = statistics.median(
            r["trl"]["train_runtime_s"] / r[side]["train_runtime_s"] for r in report["rounds"])
        table[side]["rss_ratio_vs_trl"] = statistics.median(
            r[side]["peak_rss_mb"] / r["trl"]["peak_rss_mb"] for r in report["rounds"])
    return table


def _precision_words(precision: str) -> str:
    return ("fp32 on both sides" if precision == "fp32" else
            "each side's best precision (alignlab: chosen per model size, see env.json; TRL: bf16=True)")


def markdown(kind: str, table: dict, settings: dict, samples: int, tokens: int) -> str:
    lines = [
        f"{kind.upper()}: {settings['size']} tiny model, {settings['train']} training / {settings['eval']} held-out "
        f"examples, {settings.get('epochs', 1):g} epoch(s), {samples} training samples and {tokens} training "
        f"tokens per run, batch {settings['batch_size']}, "
        f"max_length {settings['max_length']}, data {settings.get('data', 'synthetic')}, "
        f"{_precision_words(settings.get('precision', 'fp32'))}, CPU, "
        f"{settings['threads']} thread(s), medians of "
        f"{settings['rounds']} alternated rounds.",
        "",
        "| side | samples/s | tokens/s | train-loop samples/s | samples per CPU-s | peak RSS MB | held-out acc | "
        "margin | ratio vs TRL (wall, whole run) | ratio (CPU time) | ratio (train loop) | RSS ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for side in SIDES:
        row = table[side]
        if "ratio_vs_trl" in row:
            ratios = (f"{row['ratio_vs_trl']:.2f} | {row.get('cpu_ratio_vs_trl', float('nan')):.2f} | "
                      f"{row['train_loop_ratio_vs_trl']:.2f} | {row['rss_ratio_vs_trl']:.2f}")
        else:
            ratios = "1.00 | 1.00 | 1.00 | 1.00"
        lines.append(f"| {side} | {row['samples_per_s']:.3f} | {row['tokens_per_s']:.0f} | "
                     f"{row['train_loop_samples_per_s']:.3f} | {row.get('cpu_samples_per_s', float('nan')):.3f} | "
                     f"{row['peak_rss_mb']:.0f} | {row['accuracy']:.3f} | {row['margin']:.3f} | {ratios} |")
    return "\n".join(lines) + "\n"


def per_round(report: dict) -> str:
    """One row per round and side: wall and CPU seconds, the Trainer's train loop, and that round's ratios."""
    lines = ["| round | side | wall s | CPU s | train loop s | peak RSS MB | held-out acc | ratio vs TRL (wall) | "
             "ratio (CPU) |", "|---|---|---|---|---|---|---|---|---|"]
    for index, results in enumerate(report["rounds"], start=1):
        trl = results["trl"]
        for side in SIDES:
            r = results[side]
            cpu = r.get("cpu_s", float("nan"))
            lines.append(f"| {index} | {side} | {r['wall_s']:.1f} | {cpu:.1f} | {r['train_runtime_s']:.1f} | "
                         f"{r['peak_rss_mb']:.0f} | {r['accuracy']:.3f} | {trl['wall_s'] / r['wall_s']:.2f} | "
                         f"{trl.get('cpu_s', float('nan')) / cpu:.2f} |")
    return "\n".join(lines) + "\n"


def main(kind: str = "dpo", argv: list[str] | None = None, **defaults) -> None:
    args = arguments(argv, **defaults)
    script = Path(__file__).resolve() if kind == "dpo" else Path(sys.argv[0]).resolve()
    if args.worker:
        if args.worker == "trl":
            result = trl_dpo_worker(args) if kind == "dpo" else defaults["trl_worker"](args)
        else:
            result = alignlab_worker(args, kind)
        if defaults.get("posthoc"):  # the same held-out evaluation for both sides, after the clock stopped
            result.update(defaults["posthoc"](args, Path(result["model_dir"])))
        args.result.write_text(json.dumps(result))
        return
    if args.from_json:
        report = json.loads(args.from_json.read_text())
        args = argparse.Namespace(**{**report["settings"], "rounds": len(report["rounds"])})
    else:
        report = alternate(args, kind, script)
    epochs = args.epochs
    samples = int(args.train * epochs)
    if "tokens_per_epoch" not in report:
        raise SystemExit(f"{args.from_json}: recorded before results kept their token count; run the benchmark again")
    tokens = int(report["tokens_per_epoch"] * epochs)
    trl_tokens = report["rounds"][0]["trl"].get("tokens")
    if trl_tokens is not None and int(trl_tokens * epochs) != tokens:
        print(f"note: TRL tokenized {trl_tokens} tokens per epoch, alignlab {tokens / epochs:.0f}")
    table = summarize(report, samples, tokens)
    text = markdown(kind, table, vars(args) | {"rounds": args.rounds}, samples, tokens) + "\n" + per_round(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = (f"{kind}_vs_trl" + ("_hh" if getattr(args, "data", "synthetic") == "hh" else "")
            + ("_best" if getattr(args, "precision", "fp32") == "best" else "")
            + (f"_epochs{epochs:g}" if epochs != 1 else ""))  # a multi-epoch run keeps the 1-epoch tables
    (RESULTS / f"{name}.json").write_text(json.dumps({**report, "table": table}, indent=2, default=str))
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main("dpo")
