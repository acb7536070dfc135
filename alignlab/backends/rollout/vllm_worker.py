"""Runs inside a vLLM rollout server's workers: weight reload from a safetensors file, without NCCL.

`alignlab rollout serve` starts vLLM with `--worker-extension-cls
alignlab.backends.rollout.vllm_worker.WeightSyncExtension`, which mixes these methods into every worker; the
trainer calls them over the server's `/collective_rpc` endpoint (a vLLM development endpoint, on because the
server runs with `VLLM_SERVER_DEV_MODE=1`). Only strings cross the wire: the trainer writes the new weights
to a folder the server can read and sends the file's path. The load path is chosen as in the colocated
engine: the worker's `reload_weights` where the installed vLLM has it (CPU needs it), else `load_weights`.
"""

from __future__ import annotations

from typing import Any


class WeightSyncExtension:
    """Mixed into vLLM's Worker; `self` is the worker."""

    def alignlab_ping(self) -> str:
        return "alignlab"

    def alignlab_reload_weights(self, path: str) -> int:
        """Load the tensors of the safetensors file at `path` (Hugging Face names) in place; their count."""
        from safetensors.torch import load_file

        weights: dict[str, Any] = load_file(path)
        items = iter(weights.items())
        if hasattr(self, "reload_weights"):
            self.reload_weights(weights_iterator=items, is_checkpoint_format=True)
        else:
            self.model_runner.model.load_weights(weights=items)
        return len(weights)
