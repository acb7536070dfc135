"""The rollout engine a config names, built from plain arguments, and weight sync after each update.

`hf` generates with the training policy itself (same tensors, so there is nothing to sync); `vllm` runs a
separate engine (in this process, or a server) and receives the policy's weights after every update through
`update_weights`. vLLM is imported only here, only when selected (`alignlab.backends.rollout.vllm`).
"""

from __future__ import annotations

from typing import Any

from alignlab.config.online import RolloutSection


def build_engine(rollout: RolloutSection, policy: Any, tokenizer: Any, model_path: str, *, seed: int) -> Any:
    from alignlab.backends.rollout import ROLLOUT_ENGINES

    if rollout.engine == "hf":
        return ROLLOUT_ENGINES.get("hf")(policy, tokenizer, batch_size=rollout.batch_size)
    vllm = rollout.vllm
    if vllm.mode == "server":
        from alignlab.backends.rollout.vllm import VLLMServerEngine

        return VLLMServerEngine(vllm.server_url, tokenizer, timeout_s=vllm.timeout_s, sync_weights=vllm.sync_weights)
    return ROLLOUT_ENGINES.get("vllm")(model_path, tokenizer, gpu_memory_utilization=vllm.gpu_memory_utilization,
                                       max_model_len=vllm.max_model_len, dtype=vllm.dtype, seed=seed,
                                       enforce_eager=vllm.enforce_eager)


def sync_weights(engine: Any, policy: Any) -> bool:
    """Push the policy's weights to an engine that holds its own copy; False when it shares the policy."""
    if getattr(engine, "model", None) is policy:
        return False
    engine.update_weights(policy.state_dict())
    return True


def sampling_params(rollout: RolloutSection, n: int, seed: int, *, temperature: float | None = None) -> Any:
    from alignlab.backends.rollout import SamplingParams

    temp = rollout.temperature if temperature is None else temperature
    return SamplingParams(max_new_tokens=rollout.max_new_tokens, temperature=temp, top_p=rollout.top_p,
                          top_k=rollout.top_k, n=n if temp > 0 else 1, seed=seed)
