"""vLLM rollout engines (GPU): colocated in this process, or a separately started OpenAI-compatible server.

    engine = VLLMRolloutEngine("runs/policy", tokenizer, gpu_memory_utilization=0.3)    # colocated
    engine = VLLMServerEngine("http://127.0.0.1:8000", tokenizer)                        # `vllm serve` elsewhere
    completions = engine.generate(prompts, SamplingParams(max_new_tokens=64, temperature=1.0, n=4))
    engine.update_weights(policy.state_dict())      # after every optimiser update

Supported: vllm>=0.22,<0.32 (the range TRL 1.16's extra accepts). vLLM is imported only when one of these
engines is built; a missing or out-of-range vLLM is a one-line error naming the fix (`check_vllm`).

Colocated: a `vllm.LLM` shares the GPU with the trainer (`gpu_memory_utilization` is its share), runs its
engine core in this process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, so weights can be copied in without leaving
the process), and samples with `logprobs_mode="processed_logprobs"`: the log-prob of each sampled token under
the distribution actually sampled from (after temperature and top-p/top-k), as the HF engine reports them.
`update_weights` loads a state dict (the policy's names, which are the Hugging Face checkpoint names vLLM's
`load_weights` reads) through `LLM.apply_model`, then resets the prefix cache (cached keys of old weights).

Server: generation goes over HTTP to `/v1/completions` with token-id prompts (the prompt text is tokenized
here, exactly as the HF engine does it), asking for the sampled tokens' ids and log-probs. The server's own
vLLM version is checked (`/version`). Weight sync uses vLLM's NCCL weight-transfer engine through TRL's
`VLLMClient` (the server must be started with `--weight-transfer-config '{"backend": "nccl"}'`); it needs
vLLM installed on the trainer's side too, and a CUDA device.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from alignlab.backends.rollout.base import Completion, SamplingParams, truncate_at_stop
from alignlab.errors import ConfigError, RunError

SUPPORTED_VLLM = (">=0.22", "<0.32")
_LOW, _HIGH = (0, 22), (0, 32)


def check_vllm_version(version: str | None, where: str = "rollout.engine vllm") -> str:
    """`version` if it is in the supported range; else a one-line ConfigError saying what to install."""
    wanted = f"vllm{','.join(SUPPORTED_VLLM)}"
    if version is None:
        raise ConfigError(f"{where}: vLLM is not installed; install it on a CUDA machine with "
                          f"`pip install \"{wanted}\"` (alignlab's gpu extra), or set rollout.engine: hf")
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion:
        raise ConfigError(f"{where}: cannot read the vLLM version {version!r}; install {wanted}") from None
    if not (Version("{}.{}".format(*_LOW)) <= parsed < Version("{}.{}".format(*_HIGH))):
        raise ConfigError(f"{where}: vLLM {version} is outside the supported range {wanted}; install a "
                          f"supported release (`pip install \"{wanted}\"`) or set rollout.engine: hf")
    return version


def installed_vllm() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("vllm")
    except metadata.PackageNotFoundError:
        return None


def check_vllm() -> str:
    return check_vllm_version(installed_vllm())


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


class VLLMRolloutEngine:
    """`RolloutEngine` over a `vllm.LLM` in this process, sharing the GPU with the trainer."""

    def __init__(self, model_path: str, tokenizer: Any, *, gpu_memory_utilization: float = 0.3,
                 max_model_len: int | None = None, dtype: str = "auto", seed: int = 0,
                 enforce_eager: bool = False) -> None:
        check_vllm()
        # The engine core must live in this process for `apply_model` to reach the weights without a copy
        # through a pipe; this is vLLM's switch for that (setdefault: a user's own choice wins).
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        from vllm import LLM

        self.tokenizer = tokenizer
        self.eos_token_ids = _eos_ids(tokenizer)
        self.llm = LLM(model=str(model_path), tokenizer=str(model_path), gpu_memory_utilization=gpu_memory_utilization,
                       max_model_len=max_model_len, dtype=dtype, seed=seed, enforce_eager=enforce_eager,
                       logprobs_mode="processed_logprobs", enable_prefix_caching=True)

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        from vllm import SamplingParams as VLLMSamplingParams

        encoded = self.tokenizer(list(prompts), add_special_tokens=False, verbose=False)["input_ids"]
        params = VLLMSamplingParams(
            n=sampling.n, temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_new_tokens,
            seed=sampling.seed, stop=list(sampling.stop) or None, logprobs=0, skip_special_tokens=True,
            **({"top_k": sampling.top_k} if sampling.top_k > 0 else {}),
        )
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
        items = list(state.items())

        def load(model: Any) -> None:
            model.load_weights(weights=iter(items))

        if hasattr(self.llm, "apply_model"):
            self.llm.apply_model(load)
        else:  # the in-process path TRL 1.16 uses
            load(self.llm.llm_engine.model_executor.driver_worker.model_runner.model)
        self.llm.reset_prefix_cache()


class VLLMServerEngine:
    """`RolloutEngine` over a separately started vLLM OpenAI-compatible server (`vllm serve MODEL`)."""

    def __init__(self, url: str, tokenizer: Any, *, timeout_s: float = 600.0, sync_weights: bool = True) -> None:
        self.url = url.rstrip("/")
        self.tokenizer = tokenizer
        self.timeout_s = timeout_s
        self.sync = sync_weights
        self.eos_token_ids = _eos_ids(tokenizer)
        self._client: Any = None
        version = self._request("GET", "/version").get("version")
        check_vllm_version(version, where=f"rollout.vllm.server_url {self.url}")
        self.model_name = self._request("GET", "/v1/models")["data"][0]["id"]

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - user's URL
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:300].replace("\n", " ")
            raise RunError(f"vLLM server {self.url}{path}: HTTP {err.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise RunError(f"rollout.vllm.server_url {self.url}: no vLLM server answers ({reason}); start one with "
                           "`vllm serve MODEL --weight-transfer-config '{\"backend\": \"nccl\"}'` or use "
                           "rollout.vllm.mode: colocate") from None

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        encoded = self.tokenizer(list(prompts), add_special_tokens=False, verbose=False)["input_ids"]
        body: dict[str, Any] = {
            "model": self.model_name, "prompt": encoded, "n": sampling.n, "temperature": sampling.temperature,
            "top_p": sampling.top_p, "max_tokens": sampling.max_new_tokens, "seed": sampling.seed, "logprobs": 0,
            "return_tokens_as_token_ids": True, "return_token_ids": True, "skip_special_tokens": True,
        }
        if sampling.top_k > 0:
            body["top_k"] = sampling.top_k
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        choices = sorted(self._request("POST", "/v1/completions", body)["choices"], key=lambda c: c["index"])
        if len(choices) != len(encoded) * sampling.n:
            raise RunError(f"vLLM server {self.url}: {len(choices)} completions for {len(encoded)} prompts x n="
                           f"{sampling.n}")
        return [self._parse(choice, sampling) for choice in choices]

    def _parse(self, choice: dict, sampling: SamplingParams) -> Completion:
        logprobs = choice.get("logprobs") or {}
        tokens = choice.get("token_ids")
        if tokens is None:  # `token_id:123` strings, from return_tokens_as_token_ids
            tokens = [int(str(t).rsplit(":", 1)[-1]) for t in logprobs.get("tokens") or []]
        values = [v if v is not None else 0.0 for v in logprobs.get("token_logprobs") or []]
        prompt_index, sample_index = divmod(choice["index"], sampling.n)
        return _completion(self.tokenizer, prompt_index, sample_index, list(tokens), values,
                           choice.get("finish_reason"), choice.get("text"), sampling, self.eos_token_ids)

    def update_weights(self, state: Mapping[str, Any]) -> None:
        """Stream `state` to the server over vLLM's NCCL weight-transfer engine (TRL's VLLMClient)."""
        if not self.sync:
            return
        if self._client is None:
            check_vllm()
            import torch
            from trl.generation.vllm_client import VLLMClient

            self._client = VLLMClient(base_url=self.url, connection_timeout=self.timeout_s)
            self._client.init_communicator(device=torch.cuda.current_device())
        metadata = [(name, str(t.dtype).removeprefix("torch."), list(t.shape)) for name, t in state.items()]
        self._client.update_named_params(metadata, iter(state.items()))
        self._client.reset_prefix_cache()
