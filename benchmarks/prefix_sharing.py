"""The DPO step with the prompt computed once per pair vs separate (length-grouped) forwards, in one process.

    python benchmarks/prefix_sharing.py                          # small (~15M) Llama, HH-RLHF and synthetic pairs
    python benchmarks/prefix_sharing.py --size base --steps 6    # ~30M

What is timed, per batch of pairs (`--batch-size`), alternating A and B inside one process (the order flips
every step, so a shared machine's drift hits both), median over `--steps` batches:
- train step: the policy's forward (TRL's fused log-prob head) and backward on chosen and rejected, as
  `AlignlabDPOTrainer` runs it: `paired_logps` forced to share (A) or to run separately (B);
- reference pass: the same forward under `inference_mode` (what filling the reference cache costs).
Both compute the same numbers (checked every step: summed log-probs equal within 1e-4). Data: `hh`, the
shipped HH-RLHF harmless pairs (multi-turn prompts, most of each sequence; pairs that fit in `--max-length`
untruncated), and `synthetic`, short prompts with long responses (`alignlab.data.synthetic`, sentiment rule).
Reports tokens/s (the tokens a separate forward holds: the prompt twice), the A/B ratio, and utilisation:
achieved FLOP/s (6·N per trained token actually run, 2·N per scored one) as a share of the matmul peak
measured on this machine (`alignlab.metrics.utilisation`). Writes benchmarks/results/prefix_sharing.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HH = ROOT / "preference_data" / "hh_rlhf_harmless" / "train.jsonl"


def batches(kind: str, tokenizer, args: argparse.Namespace) -> list[list[dict]]:
    """Batches of {"prompt_ids", "chosen_ids", "rejected_ids"} that fit in max_length untruncated."""
    from alignlab.algorithms.preference_data import Encoder
    from alignlab.config.dpo import PreferenceDataSection
    from alignlab.data import read_rows, to_trl
    from alignlab.data.synthetic import make_pairwise

    need = args.batch_size * (args.steps + 1)
    rows = read_rows(HH)[:20 * need] if kind == "hh" else make_pairwise(
        4 * need, seed=0, rule="sentiment", sentences=(20, 38), chat=True)
    encoder = Encoder.for_data(tokenizer, PreferenceDataSection(path="pairs.jsonl", max_length=10**6))
    examples = []
    for index, row in enumerate(rows):
        pair = to_trl(row, "pairwise", "conversational")
        prompt, (chosen, rejected) = encoder.encode(pair["prompt"], [pair["chosen"], pair["rejected"]], str(index))
        if len(prompt) + max(len(chosen), len(rejected)) <= args.max_length:
            examples.append({"prompt_ids": prompt, "chosen_ids": chosen, "rejected_ids": rejected})
        if len(examples) == need:
            break
    return [examples[i:i + args.batch_size] for i in range(0, len(examples), args.batch_size)]


def build(args: argparse.Namespace):
    import torch
    from transformers import LlamaForCausalLM

    from alignlab.backends.train.preference import patch_log_prob_head
    from alignlab.data import read_rows
    from alignlab.models.tiny import tiny_llama_config, train_tokenizer

    texts = [m["content"] for row in read_rows(HH)[:2000] for side in ("prompt", "chosen", "rejected")
             for m in row[side]]
    tokenizer = train_tokenizer(texts, vocab_size=2048)
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config(args.size, vocab_size=len(tokenizer)))
    patch_log_prob_head(model)
    return model, tokenizer


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(model, data: list[list[dict]], args: argparse.Namespace) -> dict:
    """Median seconds per batch of each side (train step and reference pass) and the tokens they ran."""
    import torch

    from alignlab.backends.train.preference import PreferenceCollator, paired_logps
    from alignlab.backends.train.prefix_sharing import pairs_from_batch, pairs_tokens

    collate = PreferenceCollator(pad_token_id=2)
    times = {(mode, side): [] for mode in ("train", "reference") for side in ("shared", "separate")}
    tokens = {"separate_rows": [], "shared_rows": [], "logical": []}
    prompt_share = []
    for index, examples in enumerate(data):
        batch = collate.torch_call(examples)
        separate = (batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
        half = len(examples)
        pairs = pairs_from_batch(*separate, slice(0, half), slice(half, None))
        results = {}

        def run(side: str, train: bool, pairs=pairs, separate=separate, results=results) -> None:  # noqa: ANN001
            if train:
                logps, _, _ = paired_logps(model, pairs, separate, share=side == "shared")
                logps.sum().backward()
                model.zero_grad(set_to_none=True)
            else:
                with torch.inference_mode():
                    logps, _, _ = paired_logps(model, pairs, separate, share=side == "shared")
            results[side] = logps.detach()

        order = ("shared", "separate") if index % 2 == 0 else ("separate", "shared")
        for mode in ("train", "reference"):
            for side in order:
                seconds = timed(lambda side=side, mode=mode: run(side, mode == "train"))
                if index > 0:  # the first batch warms both sides up
                    times[(mode, side)].append(seconds)
            assert torch.allclose(results["shared"], results["separate"], atol=1e-4), "shared != separate"
        if index > 0:
            tokens["separate_rows"].append(int(batch["attention_mask"].sum()))
            tokens["shared_rows"].append(pairs_tokens(pairs))
            prompt_share.append(sum(2 * len(p) for p in pairs.prompts) / int(batch["attention_mask"].sum()))
    return {"seconds": {f"{m}/{s}": statistics.median(v) for (m, s), v in times.items()},
            "tokens_per_batch": {k: statistics.median(v) for k, v in tokens.items() if v},
            "prompt_share": statistics.median(prompt_share)}


def summarize(model, result: dict) -> dict:
    from alignlab.metrics.utilisation import achieved_flops, peak_flops

    n_params = sum(p.numel() for p in model.parameters())
    peak = peak_flops("float32")
    sec, tok = result["seconds"], result["tokens_per_batch"]
    rows = {}
    for mode in ("train", "reference"):
        for side in ("shared", "separate"):
            ran = tok["shared_rows"] if side == "shared" else tok["separate_rows"]
            kind = {"trained_tokens": ran} if mode == "train" else {"forward_tokens": ran}
            flops = achieved_flops(n_params, sec[f"{mode}/{side}"], **kind)
            rows[f"{mode}/{side}"] = {"seconds": sec[f"{mode}/{side}"],
                                      "tokens_per_s": tok["separate_rows"] / sec[f"{mode}/{side}"],
                                      "flops_per_s": flops, "share_of_peak": flops / peak}
        rows[f"{mode}/ratio"] = sec[f"{mode}/separate"] / sec[f"{mode}/shared"]
    return {"n_params": n_params, "peak_flops_per_s": peak, "prompt_share": result["prompt_share"],
            "tokens_per_batch": tok, "rows": rows}


def markdown(report: dict) -> str:
    s = report["settings"]
    lines = [f"Prefix sharing, one process, {s['size']} Llama ({report['data']['hh']['n_params'] / 1e6:.1f}M "
             f"parameters), batch {s['batch_size']} pairs, max_length {s['max_length']}, fp32, {s['threads']} "
             f"thread(s), medians of {s['steps']} alternated batches; machine shared with other jobs (loaded).", "",
             "| data | prompt share | pass | separate s | shared s | speed-up | tokens/s shared | "
             "utilisation shared | utilisation separate |", "|---|---|---|---|---|---|---|---|---|"]
    for data, summary in report["data"].items():
        rows = summary["rows"]
        for mode in ("train", "reference"):
            shared, separate = rows[f"{mode}/shared"], rows[f"{mode}/separate"]
            lines.append(f"| {data} | {summary['prompt_share']:.0%} | {mode} | {separate['seconds']:.2f} | "
                         f"{shared['seconds']:.2f} | {rows[f'{mode}/ratio']:.2f}x | {shared['tokens_per_s']:.0f} | "
                         f"{shared['share_of_peak']:.0%} | {separate['share_of_peak']:.0%} |")
    peak = report["data"]["hh"]["peak_flops_per_s"]
    lines += ["", f"Measured fp32 matmul peak at {s['threads']} thread(s): {peak / 1e9:.1f} GFLOP/s (cached per "
              "machine; measured while the machine was loaded, so utilisation shares are relative to that)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5, help="timed batches per data shape (after one warm-up)")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default="hh,synthetic")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    import torch

    from alignlab.utils.io import atomic_write_json, atomic_write_text

    torch.set_num_threads(args.threads)
    model, tokenizer = build(args)
    report = {"settings": vars(args), "data": {}}
    for kind in args.data.split(","):
        report["data"][kind] = summarize(model, measure(model, batches(kind, tokenizer, args), args))
        print(kind, json.dumps(report["data"][kind]["rows"], indent=1), flush=True)
    text = markdown(report)
    print(text)
    if not args.no_save:
        atomic_write_json(RESULTS / "prefix_sharing.json", report)
        atomic_write_text(RESULTS / "prefix_sharing.md", text)


if __name__ == "__main__":
    main()
