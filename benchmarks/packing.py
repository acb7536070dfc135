"""Packed rows (several sequences to a row, block-diagonal attention) vs length-grouped padded rows, one process.

    python benchmarks/packing.py                       # small (~15M) Llama, batches of 16, three length spreads
    python benchmarks/packing.py --size base --steps 4

Per length spread (`--spreads`, token lengths drawn uniformly), `--steps` batches of `--batch-size` random
sequences, each run two ways, alternating A/B (the order flips every batch): length groups padded to their own
longest row (`alignlab.backends.train.grouping`, what DPO/KTO run today) and rows packed first-fit decreasing up
to the longest sequence (`alignlab.models.packing`). Timed: a forward (as a reference pass) and a forward +
backward (as a training step). Both compute the same summed log-probs (checked every batch: 1e-4 plus 1e-5
relative; a random 2048-token model sums about -7.6 per token). Reported:
token positions run each way, the median seconds and the ratio grouped / packed. This is what sets
`alignlab.models.packing.PACK_MIN_SAVING`: packing pays when it runs clearly fewer positions than grouping.
Writes benchmarks/results/packing.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--spreads", default="100-250,20-250,20-120")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()

    import torch
    from transformers import LlamaForCausalLM

    from alignlab.backends.train.preference import grouped_sequence_logps, pad_right, patch_log_prob_head
    from alignlab.backends.train.prefix_sharing import padded_tokens
    from alignlab.models.packing import packed_positions
    from alignlab.models.tiny import tiny_llama_config

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config(args.size, vocab_size=2048))
    patch_log_prob_head(model)
    n_params = sum(p.numel() for p in model.parameters())
    rng = random.Random(0)

    def forward(prompts, completions, pack):
        return grouped_sequence_logps(model, *pad_right(prompts, completions, 0), pack=pack)[0]

    rows_out = []
    for spread in args.spreads.split(","):
        low, high = (int(x) for x in spread.split("-"))
        for backward in (False, True):
            times = {"grouped": [], "packed": []}
            positions = {"grouped": [], "packed": []}
            for step in range(args.steps + 1):  # the first batch warms up, untimed
                lengths = [rng.randint(low, high) for _ in range(args.batch_size)]
                prompts = [[1, *(rng.randrange(3, 2048) for _ in range(n // 4))] for n in lengths]
                completions = [[rng.randrange(3, 2048) for _ in range(n - len(p))] for n, p in
                               zip(lengths, prompts, strict=True)]
                values = {}
                for side in (("grouped", "packed") if step % 2 else ("packed", "grouped")):
                    model.zero_grad()
                    start = time.perf_counter()
                    with torch.set_grad_enabled(backward):
                        result = forward(prompts, completions, pack=side == "packed")
                        if backward:
                            result.sum().backward()
                    seconds = time.perf_counter() - start
                    values[side] = result.detach()
                    if step:
                        times[side].append(seconds)
                torch.testing.assert_close(values["packed"], values["grouped"], atol=1e-4, rtol=1e-5)
                if step:
                    positions["grouped"].append(padded_tokens(lengths, grouped=True))
                    positions["packed"].append(packed_positions(lengths))
            medians = {side: statistics.median(v) for side, v in times.items()}
            grouped_positions, packed_count = sum(positions["grouped"]), sum(positions["packed"])
            row = {"spread": spread, "pass": "forward + backward" if backward else "forward",
                   "grouped_s": round(medians["grouped"], 3), "packed_s": round(medians["packed"], 3),
                   "speedup": round(medians["grouped"] / medians["packed"], 3),
                   "positions_grouped": grouped_positions, "positions_packed": packed_count,
                   "positions_saved": round(1 - packed_count / grouped_positions, 3)}
            rows_out.append(row)
            print(row, flush=True)
    header = (f"Packing vs length grouping, one process, {args.size} Llama ({n_params / 1e6:.1f}M parameters), "
              f"batches of {args.batch_size} random sequences, fp32, {args.threads} thread(s), medians of "
              f"{args.steps} alternated batches.\n\n`python benchmarks/packing.py "
              f"--size {args.size} --steps {args.steps}`\n")
    table = ["| lengths | pass | grouped s | packed s | speed-up | positions saved by packing |",
             "|---|---|---|---|---|---|"]
    table += [f"| {r['spread']} | {r['pass']} | {r['grouped_s']} | {r['packed_s']} | {r['speedup']}x | "
              f"{100 * r['positions_saved']:.0f}% |" for r in rows_out]
    text = header + "\n" + "\n".join(table) + "\n"
    print(text)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "packing.json").write_text(json.dumps({"settings": vars(args), "rows": rows_out}, indent=2))
        (RESULTS / "packing.md").write_text(text)


if __name__ == "__main__":
    main()
