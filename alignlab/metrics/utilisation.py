"""Utilisation: achieved FLOP/s of a training or scoring run, and its share of the machine's measured peak.

A decoder with N parameters costs about 2·N FLOPs per token forward and 6·N per token trained (forward plus a
backward twice as dear; Kaplan et al. 2020, "Scaling Laws for Neural Language Models", attention's T² term
left out, small at 256 tokens). Achieved FLOP/s = (6·N·trained tokens + 2·N·forward-only tokens) / seconds,
counting the tokens the model actually ran (a prompt computed once counts once).

The peak is measured, not looked up: the best rate of square matmuls at the run's precision and thread count,
measured once per machine and cached as JSON under the user's cache directory
($XDG_CACHE_HOME/alignlab/peak_flops.json, else ~/.cache/alignlab/...), keyed by CPU or GPU model, torch
version, device, dtype and threads. Other work on the machine can only make a measured peak too low, never too
high, so a run that achieves more than the cached peak measures it again and the cache keeps the higher value
(on this 2-core machine a peak measured under load read 18 GFLOP/s for fp32 on one thread; quiet, it is 100).

    peak = peak_flops("bfloat16")                     # measured on first use, then read from the cache
    meter = UtilisationMeter(n_params)                 # a TrainerCallback timing each optimizer step
    meter.count(tokens, trained=True)                  # from the trainer's loss, per micro-batch
    logs.update(meter.report("float32"))               # {"flops_per_s", "peak_flops_per_s", "share_of_peak"}
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

TRAIN_FLOPS_PER_TOKEN = 6  # per parameter
FORWARD_FLOPS_PER_TOKEN = 2


def achieved_flops(n_params: int, seconds: float, *, trained_tokens: int = 0, forward_tokens: int = 0) -> float:
    """FLOP/s of `trained_tokens` trained and `forward_tokens` scored by an N-parameter model in `seconds`."""
    flops = n_params * (TRAIN_FLOPS_PER_TOKEN * trained_tokens + FORWARD_FLOPS_PER_TOKEN * forward_tokens)
    return flops / seconds if seconds > 0 else 0.0


def cache_file() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "alignlab" / "peak_flops.json"


def machine_key(dtype: str, device: str, threads: int) -> str:
    import torch

    if device.startswith("cuda"):
        chip = torch.cuda.get_device_name(torch.device(device))
    else:
        chip = _cpu_model()
    return f"{chip}|{device}|torch {torch.__version__}|{dtype}|{threads} threads"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure_peak_flops(dtype: str = "float32", device: str = "cpu", size: int = 1024, repeats: int = 5,
                       min_seconds: float = 0.5) -> float:
    """The best FLOP/s of at least `repeats` (size x size) @ (size x size) matmuls at `dtype` (2·size³ FLOPs
    each), repeated for at least `min_seconds` so a moment of contention does not decide it."""
    import torch

    kind = getattr(torch, dtype)
    a = torch.randn(size, size, device=device).to(kind)
    b = torch.randn(size, size, device=device).to(kind)
    torch.matmul(a, b)  # warm-up: kernels chosen, memory touched
    best, spent, done = float("inf"), 0.0, 0
    while done < repeats or spent < min_seconds:
        done += 1
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.matmul(a, b)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2 * size**3 / best


def peak_flops(dtype: str = "float32", device: str = "cpu", threads: int | None = None,
               path: Path | None = None, *, remeasure: bool = False) -> float:
    """The machine's matmul peak at `dtype`, measured on first use and cached (see the module docstring);
    `remeasure` measures again and keeps the higher of the two."""
    import torch

    from alignlab.utils.io import atomic_write_json

    threads = threads or torch.get_num_threads()
    path = path or cache_file()
    key = machine_key(dtype, device, threads)
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    cached = stored.get(key) if isinstance(stored.get(key), (int, float)) and stored[key] > 0 else None
    if cached is not None and not remeasure:
        return float(cached)
    value = max(measure_peak_flops(dtype, device), cached or 0.0)
    try:
        atomic_write_json(path, {**stored, key: value})
    except OSError:  # a read-only home: measure again next time rather than fail a run
        pass
    return value


class UtilisationMeter(TrainerCallback):
    """Times optimizer steps (on_step_begin .. on_step_end: forward, backward, optimizer) and turns the tokens
    counted during them into achieved FLOP/s and a share of the measured peak, reset at every report."""

    def __init__(self, n_params: int, device: str = "cpu") -> None:
        self.n_params, self.device = n_params, device
        self.trained_tokens = self.forward_tokens = 0
        self.seconds = 0.0
        self._started: float | None = None

    def count(self, tokens: int, *, trained: bool = True) -> None:
        if trained:
            self.trained_tokens += int(tokens)
        else:
            self.forward_tokens += int(tokens)

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def report(self, dtype: str) -> dict[str, float]:
        """{"flops_per_s", "peak_flops_per_s", "share_of_peak"} since the last report; empty when nothing ran."""
        if self.seconds <= 0 or not (self.trained_tokens or self.forward_tokens):
            return {}
        flops = achieved_flops(self.n_params, self.seconds, trained_tokens=self.trained_tokens,
                               forward_tokens=self.forward_tokens)
        peak = peak_flops(dtype, self.device)
        if flops > peak:  # the cached peak was measured while the machine was busy
            peak = peak_flops(dtype, self.device, remeasure=True)
        self.trained_tokens = self.forward_tokens = 0
        self.seconds = 0.0
        return {"flops_per_s": flops, "peak_flops_per_s": peak, "share_of_peak": flops / peak}


def attach_meter(trainer: Any) -> UtilisationMeter:
    """A meter for `trainer`'s model (its distinct parameters, a PEFT model's frozen base included: they all
    run), added to its callbacks."""
    model = trainer.model
    n_params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    device = str(next(model.parameters()).device)
    meter = UtilisationMeter(n_params, "cuda" if device.startswith("cuda") else "cpu")
    trainer.add_callback(meter)
    return meter


def training_dtype(args: Any) -> str:
    """The matmul precision a Trainer's arguments run at: bfloat16 under bf16 autocast, else float32."""
    if getattr(args, "bf16", False):
        return "bfloat16"
    if getattr(args, "fp16", False):
        return "float16"
    return "float32"
