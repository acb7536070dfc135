"""The rollout engine a config names, built from plain arguments, and weight sync after each update.

`hf` generates with the training policy itself (same tensors, so there is nothing to sync); `vllm` runs a
separate engine (in this process, or a server) and receives the policy's weights after every update through
`update_weights`. vLLM is imported only here, only when selected (`alignlab.backends.rollout.vllm`).
"""

from __future__ import annotations

from typing import Any

from alignlab.config.online import RolloutSection


def build_engine(rollout: RolloutSection, policy: Any, tokenizer: Any, model_path: str, *, seed: int,
                 is_main: bool = True) -> Any:
    from alignlab.backends.rollout import ROLLOUT_ENGINES

    if rollout.engine == "hf":
        return ROLLOUT_ENGINES.get("hf")(policy, tokenizer, batch_size=rollout.batch_size)
    vllm = rollout.vllm
    if vllm.mode == "server":
        from alignlab.backends.rollout.vllm_server import VLLMServerEngine

        return VLLMServerEngine(vllm.server_url, tokenizer, model_path=model_path, timeout_s=vllm.timeout_s,
                                sync_weights=vllm.sync_weights, weight_sync=vllm.weight_sync,
                                sync_dir=vllm.sync_dir, is_main=is_main)
    # "auto" is the policy's own dtype: vLLM's auto would run an fp32 policy in bf16 (biased importance ratios)
    dtype = vllm.dtype if vllm.dtype != "auto" else str(policy.dtype).removeprefix("torch.")
    return ROLLOUT_ENGINES.get("vllm")(model_path, tokenizer, gpu_memory_utilization=vllm.gpu_memory_utilization,
                                       max_model_len=vllm.max_model_len, dtype=dtype, seed=seed,
                                       enforce_eager=vllm.enforce_eager, kv_cache_gib=vllm.kv_cache_gib)


def check_engine(rollout: RolloutSection, model_path: str) -> None:
    """What can be checked before the run directory exists: a colocated vLLM is installed, in range, and runs
    the policy's architecture (a server is checked when the engine connects)."""
    if rollout.engine != "vllm" or rollout.vllm.mode != "colocate":
        return
    from alignlab.backends.rollout.vllm import check_architecture, check_vllm

    check_vllm()
    check_architecture(model_path)


def sync_weights(engine: Any, policy: Any, accelerator: Any = None) -> bool:
    """Push the policy's weights to an engine that holds its own copy; False when it shares the policy.

    A server shared by several trainer processes gets them from the main process only (the processes hold
    the same weights after every update); the others wait until it has them."""
    if getattr(engine, "model", None) is policy:
        return False
    engine.update_weights(policy.state_dict())
    if getattr(engine, "shared", False) and accelerator is not None and accelerator.num_processes > 1:
        accelerator.wait_for_everyone()
    return True


def sampling_seed(engine: Any, seed: int, step: int, process: int) -> int:
    """A round's sampling seed. Engines that seed every request on its own (vLLM) get the same seed in every
    process, so 2 processes sample what 1 process with the same global batch samples."""
    return seed * 1_000_003 + step * 101 + (0 if getattr(engine, "seeds_per_request", False) else process)


def sampling_params(rollout: RolloutSection, n: int, seed: int, *, temperature: float | None = None) -> Any:
    from alignlab.backends.rollout import SamplingParams

    temp = rollout.temperature if temperature is None else temperature
    return SamplingParams(max_new_tokens=rollout.max_new_tokens, temperature=temp, top_p=rollout.top_p,
                          top_k=rollout.top_k, n=n if temp > 0 else 1, seed=seed)
