"""Precision choice: bf16 autocast (fp32 master weights) or fp32, per device and model size.

On GPUs bf16 is the norm. On CPUs with bf16 matmul instructions (AVX-512 BF16 or AMX) bf16 matmuls run
several times fp32's rate, but small models spend much of a step outside matmuls (norms, softmax, the
optimizer, casts), so the whole step gains less, and less the smaller the model and its sequences. One step of
8 x 256 tokens (benchmarks/precision.py, one thread, AVX-512 BF16) took 1.36x fewer seconds at 0.9M parameters,
1.44x at 5M, 1.57x at 15M; but the shipped tiny trainings, shorter sequences plus the optimizer and data work
around each step, gain nothing below ~10M (benchmarks/results/precision.md, whole runs, equal held-out
accuracy): the nano reward model (0.9M, pairs of about 80 tokens) trained at 0.74x the fp32 rate in bf16, DPO
on the micro policy (5M, at most 128 tokens) 1.04x, DPO on the small policy (14.6M) 1.28x with held-out
accuracy 0.988 against 0.981 (81 pairs). So on a CPU, auto picks bf16 from `CPU_BF16_MIN_PARAMS` (10M) up. The
weights, the optimizer state and the loss stay fp32 (autocast).

    choice = choose_precision(n_params, device="cpu")          # Precision("fp32", "…reason…")
    choice = choose_precision(n_params, requested="bf16")      # an explicit choice wins (refused if unsupported)
    trainer_kwargs = choice.trainer_kwargs()                   # {"bf16": True} / {"bf16": False}

The choice and its reason are meant for the run's log, env.json and summary.json.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from alignlab.errors import ConfigError

# From this many parameters bf16 autocast trains faster on a bf16 CPU at equal held-out accuracy (whole tiny
# runs: 5M gained 1.04x, 14.6M 1.28x; the module docstring)
CPU_BF16_MIN_PARAMS = 10_000_000
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Precision:
    name: str  # "bf16" or "fp32"
    reason: str

    def trainer_kwargs(self) -> dict[str, bool]:
        return {"bf16": self.name == "bf16", "fp16": False}

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def cpu_bf16_flags(cpuinfo: str | None = None) -> list[str]:
    """The bf16 matmul instruction sets this CPU reports (Linux /proc/cpuinfo; empty elsewhere)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return []
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return [flag for flag in _CPU_BF16_FLAGS if flag in flags]


def choose_precision(n_params: int, device: str = "cpu", requested: str = "auto",
                     cpuinfo: str | None = None) -> Precision:
    """bf16 or fp32 for a model of `n_params` on `device`; `requested` is "auto", "bf16" or "fp32"."""
    if requested not in ("auto", "bf16", "fp32"):
        raise ConfigError(f"precision: {requested!r} is not one of auto, bf16, fp32")
    supported, where = _bf16_support(device, cpuinfo)
    if requested == "fp32":
        return Precision("fp32", "asked for")
    if requested == "bf16":
        if not supported:
            raise ConfigError(f"precision: bf16 asked for, but {where}; set precision: fp32 or auto")
        return Precision("bf16", f"asked for ({where})")
    if not supported:
        return Precision("fp32", where)
    if device.startswith("cuda"):
        return Precision("bf16", where)
    if n_params < CPU_BF16_MIN_PARAMS:
        return Precision("fp32", f"{where}, but a {n_params / 1e6:.1f}M-parameter model runs as fast in fp32 "
                                 f"(bf16 pays from {CPU_BF16_MIN_PARAMS / 1e6:.0f}M parameters)")
    return Precision("bf16", f"{where}; {n_params / 1e6:.1f}M parameters")


def _bf16_support(device: str, cpuinfo: str | None) -> tuple[bool, str]:
    if device.startswith("cuda"):
        import torch

        ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return ok, "the GPU supports bf16" if ok else "the GPU lacks bf16"
    flags = cpu_bf16_flags(cpuinfo)
    if flags:
        return True, f"the CPU has bf16 matmuls ({', '.join(flags)})"
    return False, "the CPU has no bf16 matmul instructions (AVX-512 BF16 or AMX)"
