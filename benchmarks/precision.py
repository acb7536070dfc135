"""bf16 autocast vs fp32 for one training step of tiny Llamas on this CPU, alternated in one process.

    python benchmarks/precision.py nano micro small base

Per size: a random-init Llama (`alignlab.models.tiny`), batch 8 x 256 tokens, forward + backward + AdamW step,
fp32 weights and optimizer either way (bf16 only inside `torch.autocast`); 4 timed steps per side after one
warm-up each, the order flipping every step; medians. Prints seconds per step, the speed-up, and achieved
GFLOP/s (6·N·tokens/s) with its share of this machine's measured matmul peak at that precision (the same
number training logs report as `share_of_peak`, `alignlab.metrics.utilisation`). Held-out accuracy is not
measured here (see the DPO/KTO/RM benchmarks for that).
"""

from __future__ import annotations

import statistics
import sys
import time


def main(sizes: list[str]) -> None:
    import torch
    from transformers import LlamaForCausalLM

    from alignlab.metrics.utilisation import peak_flops
    from alignlab.models.tiny import tiny_llama_config

    torch.set_num_threads(1)
    peaks = {dtype: peak_flops(dtype, remeasure=True) for dtype in ("float32", "bfloat16")}
    for size in sizes:
        torch.manual_seed(0)
        model = LlamaForCausalLM(tiny_llama_config(size, vocab_size=2048))
        n_params = sum(p.numel() for p in model.parameters())
        ids = torch.randint(3, 2048, (8, 256))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step(bf16: bool, model=model, ids=ids, optimizer=optimizer) -> None:  # noqa: ANN001
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        step(False)
        step(True)
        times: dict[bool, list[float]] = {False: [], True: []}
        for index in range(4):
            for bf16 in (False, True) if index % 2 == 0 else (True, False):
                start = time.perf_counter()
                step(bf16)
                times[bf16].append(time.perf_counter() - start)
        fp32, bf16 = statistics.median(times[False]), statistics.median(times[True])
        tokens = ids.numel()
        rate = {"float32": 6 * n_params * tokens / fp32, "bfloat16": 6 * n_params * tokens / bf16}
        print(f"{size} params={n_params / 1e6:.1f}M fp32 {fp32:.2f}s bf16 {bf16:.2f}s speedup {fp32 / bf16:.2f}x "
              f"GFLOP/s fp32 {rate['float32'] / 1e9:.1f} ({rate['float32'] / peaks['float32']:.0%} of "
              f"{peaks['float32'] / 1e9:.0f}) bf16 {rate['bfloat16'] / 1e9:.1f} "
              f"({rate['bfloat16'] / peaks['bfloat16']:.0%} of {peaks['bfloat16'] / 1e9:.0f})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["nano", "micro", "small", "base"])
