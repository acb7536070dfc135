"""Checkpoint hooks: where evaluations attach to an offline trainer's checkpoints.

    from alignlab.hooks import CHECKPOINT_HOOKS, HookContext
    CHECKPOINT_HOOKS.register("my_eval", lambda ctx: {"my_eval/score": score(ctx.model, ctx.tokenizer)})

then `eval.hooks: [my_eval]` in a DPO/KTO config (or `hooks=` in the API). A hook runs at every checkpoint and
at the end; the floats it returns land in `metrics.jsonl` (and, at the end, in `summary.json`). The registry
sits here, below both the config layer (which checks hook names) and the trainers (which run them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alignlab.registry import Registry

__all__ = ["CHECKPOINT_HOOKS", "CheckpointHook", "HookContext"]


@dataclass
class HookContext:
    """What a checkpoint hook sees: the policy being trained, its tokenizer, the step and the run."""

    model: Any
    tokenizer: Any
    step: int
    run: Any  # alignlab.runs.Run
    final: bool


CheckpointHook = Callable[[HookContext], dict[str, float]]
CHECKPOINT_HOOKS: Registry[CheckpointHook] = Registry("checkpoint hook")
