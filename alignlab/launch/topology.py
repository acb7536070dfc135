"""Where this process sits in a multi-process run, and the few collective steps alignlab itself needs.

A launcher (`alignlab launch`, i.e. `accelerate launch`, or torchrun) starts one process per device and tells
each its place through the environment: WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, and accelerate's
ACCELERATE_* variables (DeepSpeed stage, FSDP). `current()` reads them; nothing here imports torch until a
collective step is actually needed, so `alignlab --help` stays light.

Rules every trainer follows under a launcher:
- rank 0 alone writes run-directory files (config.yaml, env.json, metrics.jsonl, summary.json, the final model)
  and shared caches (tiny models, reference log-probs);
- `main_process_first()` runs a block on rank 0 first; the other ranks wait at a barrier and then run the same
  block, finding what rank 0 wrote (they read, they do not write);
- every rank passes the same barriers in the same order: a barrier never depends on what one rank found on
  disk, so no rank waits forever for another.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Topology:
    """This process's place in the run (single process: world_size 1, rank 0, launcher "single")."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    local_world_size: int = 1
    launcher: str = "single"  # single | accelerate | torchrun
    distributed: str = "none"  # none | ddp | deepspeed | fsdp
    deepspeed_stage: int | None = None

    @property
    def num_machines(self) -> int:
        return max(1, self.world_size // max(1, self.local_world_size))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def as_dict(self) -> dict:
        return {**asdict(self), "num_machines": self.num_machines}


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def current() -> Topology:
    """The topology the launcher gave this process, from its environment."""
    world_size = _int("WORLD_SIZE", 1)
    if any(key.startswith("ACCELERATE_") and key != "ACCELERATE_LOG_LEVEL" for key in os.environ):
        launcher = "accelerate" if world_size > 1 or "ACCELERATE_MIXED_PRECISION" in os.environ else "single"
    else:
        launcher = "torchrun" if "TORCHELASTIC_RUN_ID" in os.environ else "single"
    stage = None
    if _flag("ACCELERATE_USE_DEEPSPEED"):
        distributed, stage = "deepspeed", _int("ACCELERATE_DEEPSPEED_ZERO_STAGE", 0) or None
    elif _flag("ACCELERATE_USE_FSDP"):
        distributed = "fsdp"
    else:
        distributed = "ddp" if world_size > 1 else "none"
    return Topology(world_size=world_size, rank=_int("RANK", 0), local_rank=_int("LOCAL_RANK", 0),
                    local_world_size=_int("LOCAL_WORLD_SIZE", world_size), launcher=launcher,
                    distributed=distributed, deepspeed_stage=stage)


def is_main_process() -> bool:
    """Rank 0 of the whole run (true in a single process)."""
    return _int("RANK", 0) == 0


def barrier() -> None:
    """Wait until every process of the run gets here; a no-op in a single process.

    The first call sets up the process group the way the Trainer will (accelerate's PartialState, gloo on CPU,
    NCCL or DeepSpeed's backend on GPU), so the Trainer built later finds it and reuses it."""
    if _int("WORLD_SIZE", 1) <= 1:
        return
    import torch
    from accelerate import PartialState

    PartialState(cpu=not torch.cuda.is_available()).wait_for_everyone()


@contextmanager
def main_process_first() -> Iterator[bool]:
    """Run the block on rank 0, then on the other ranks; yields whether this process is rank 0.

    If rank 0 fails inside the block it never reaches the barrier; the launcher then stops the other ranks
    (torchrun ends every worker when one fails), so a failure does not turn into a hang."""
    main = is_main_process()
    if not main:
        barrier()
    yield main
    if main:
        barrier()


def forwards_are_collective() -> bool:
    """True under DeepSpeed ZeRO-3 or FSDP, where every forward pass gathers sharded weights from all ranks, so
    code that runs a data-dependent number of forwards per step (length groups) must run one per step instead."""
    topology = current()
    return topology.world_size > 1 and (topology.deepspeed_stage == 3 or topology.distributed == "fsdp")
