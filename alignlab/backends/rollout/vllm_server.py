"""vLLM rollout server: the command that starts one, and the engine that trainers use to reach it.

    alignlab rollout serve runs/policy --port 8000          # serve_command(...) run in the foreground
    engine = VLLMServerEngine("http://127.0.0.1:8000", tokenizer, model_path="runs/policy")
    completions = engine.generate(prompts, SamplingParams(max_new_tokens=64, temperature=1.0, n=4))
    engine.update_weights(policy.state_dict())

The layout of "N devices train, M devices generate" (TRL's vllm-serve mode, OpenRLHF's engines): one server,
any number of trainer processes. Generation goes over HTTP to `/v1/completions` with token-id prompts
(tokenized here exactly as the HF engine does), one request per prompt with its own seed (`prompt_seed`),
sent concurrently, asking for the sampled tokens' ids and log-probs.

On connect the engine checks that a server answers, that its vLLM version is in the supported range and equal
to this side's when vLLM is installed here too, and that it serves the trainer's model.

Weight sync, chosen by `weight_sync`:
- `files` (any device, no NCCL): the main trainer process writes the policy's weights as one safetensors
  file into `sync_dir` (a folder the server can read; default a private temporary folder on this machine),
  atomically, and asks the server to reload it through `/collective_rpc` (`vllm_worker.WeightSyncExtension`,
  present when the server was started by `alignlab rollout serve`); then the prefix cache is reset.
  `last_sync` holds the seconds spent writing and reloading.
- `nccl` (CUDA): vLLM's NCCL weight-transfer engine through TRL's `VLLMClient` (the server must be started
  with `--weight-transfer-config '{"backend": "nccl"}'`); needs vLLM on the trainer's side too.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alignlab.backends.rollout.base import Completion, SamplingParams
from alignlab.backends.rollout.vllm import (
    _completion,
    _eos_ids,
    check_vllm,
    check_vllm_version,
    installed_vllm,
    prompt_seed,
)
from alignlab.errors import ConfigError, RunError

WORKER_EXTENSION = "alignlab.backends.rollout.vllm_worker.WeightSyncExtension"
START_HINT = "start one with `alignlab rollout serve MODEL`"


def checkpoint_dtype(model_path: str | Path) -> str:
    """The dtype a checkpoint was saved in (config.json), which the server runs in: vLLM's own `auto` would
    serve an fp32 checkpoint in bf16."""
    config = Path(model_path) / "config.json"
    if not config.is_file():
        return "auto"
    data = json.loads(config.read_text(encoding="utf-8"))
    dtype = data.get("dtype") or data.get("torch_dtype") or "float32"
    return str(dtype).removeprefix("torch.")


def serve_command(model: str, *, host: str = "127.0.0.1", port: int = 8000, dtype: str | None = None,
                  kv_cache_gib: float | None = None, max_model_len: int | None = None, enforce_eager: bool = True,
                  seed: int = 0, nccl: bool = False, python: str | None = None) -> tuple[list[str], dict[str, str]]:
    """(argv, extra environment) of a vLLM OpenAI-compatible server that alignlab trainers can sync."""
    import sys

    argv = [python or sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
            "--host", host, "--port", str(port), "--dtype", dtype or checkpoint_dtype(model), "--seed", str(seed),
            "--logprobs-mode", "processed_logprobs", "--enable-prefix-caching",
            "--worker-extension-cls", WORKER_EXTENSION]
    if kv_cache_gib:
        argv += ["--kv-cache-memory-bytes", str(int(kv_cache_gib * 2**30))]
    if max_model_len:
        argv += ["--max-model-len", str(max_model_len)]
    if enforce_eager:
        argv.append("--enforce-eager")
    if nccl:  # weight_sync: nccl (CUDA): vLLM's NCCL weight-transfer engine, as TRL's VLLMClient expects
        argv += ["--weight-transfer-config", json.dumps({"backend": "nccl"})]
    return argv, {"VLLM_SERVER_DEV_MODE": "1"}


def same_model(served: Sequence[str], model_path: str | None) -> bool:
    if model_path is None:
        return True
    wanted = {str(model_path).rstrip("/")}
    if Path(model_path).exists():
        wanted.add(str(Path(model_path).resolve()))
    names = {str(name).rstrip("/") for name in served if name}
    names |= {str(Path(name).resolve()) for name in names if Path(name).exists()}
    return bool(wanted & names)


class VLLMServerEngine:
    """`RolloutEngine` over a vLLM OpenAI-compatible server started elsewhere (`alignlab rollout serve`)."""

    seeds_per_request = True  # each prompt's own seed (`prompt_seed`): its samples do not depend on its batch

    def __init__(self, url: str, tokenizer: Any, *, model_path: str | None = None, timeout_s: float = 600.0,
                 sync_weights: bool = True, weight_sync: str = "files", sync_dir: str | None = None,
                 is_main: bool = True) -> None:
        self.url = url.rstrip("/")
        self.tokenizer = tokenizer
        self.timeout_s = timeout_s
        self.sync = sync_weights
        self.weight_sync = weight_sync
        self.is_main = is_main
        self.shared = True  # several trainer processes may use one server: the main one syncs, the rest wait
        self.eos_token_ids = _eos_ids(tokenizer)
        self.last_sync: dict[str, float] = {}
        self._client: Any = None
        self.server_version = self._connect(model_path)
        self.sync_dir = Path(sync_dir) if sync_dir else None
        if self.sync and weight_sync == "files":
            self._check_extension()
            if self.sync_dir is None and is_main:
                self.sync_dir = Path(tempfile.mkdtemp(prefix="alignlab-weights-"))
                weakref.finalize(self, shutil.rmtree, str(self.sync_dir), True)

    def _connect(self, model_path: str | None) -> str:
        where = f"rollout.vllm.server_url {self.url}"
        version = self._request("GET", "/version", timeout=min(self.timeout_s, 30.0)).get("version")
        check_vllm_version(version, where=where)
        local = installed_vllm()
        if local is not None and version != local:
            raise ConfigError(f"{where}: the server runs vLLM {version}, this trainer has {local}; run both on "
                              "the same vLLM release")
        models = self._request("GET", "/v1/models")["data"]
        self.model_name = models[0]["id"]
        served = [name for entry in models for name in (entry.get("id"), entry.get("root"))]
        if not same_model(served, model_path):
            raise ConfigError(f"{where}: the server serves {self.model_name!r}, not the trainer's model "
                              f"{model_path!r}; start it with `alignlab rollout serve {model_path}`")
        return version

    def _check_extension(self) -> None:
        try:
            self._rpc("alignlab_ping")
        except RunError:
            raise ConfigError(f"rollout.vllm.server_url {self.url}: the server cannot reload weights from files "
                              f"(no /collective_rpc or no alignlab worker extension); {START_HINT}, or set "
                              "rollout.vllm.sync_weights: false") from None

    def _request(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout_s) as response:  # noqa: S310
                raw = response.read().decode()
                return json.loads(raw) if raw.strip() else {}
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:300].replace("\n", " ")
            raise RunError(f"vLLM server {self.url}{path}: HTTP {err.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise RunError(f"rollout.vllm.server_url {self.url}: no vLLM server answers ({reason}); {START_HINT} "
                           "or use rollout.vllm.mode: colocate") from None

    def _rpc(self, method: str, *args: str) -> list[Any]:
        return self._request("POST", "/collective_rpc", {"method": method, "args": list(args)}).get("results", [])

    def generate(self, prompts: Sequence[str], sampling: SamplingParams) -> list[Completion]:
        """One request per prompt, sent concurrently (the server batches them): each prompt has its own seed."""
        from concurrent.futures import ThreadPoolExecutor

        encoded = self.tokenizer(list(prompts), add_special_tokens=False, verbose=False)["input_ids"]
        with ThreadPoolExecutor(max_workers=min(32, max(1, len(encoded)))) as pool:
            per_prompt = list(pool.map(lambda ids: self._complete(ids, sampling), encoded))
        return [self._parse(choice, prompt_index, sampling)
                for prompt_index, choices in enumerate(per_prompt) for choice in choices]

    def _complete(self, ids: list[int], sampling: SamplingParams) -> list[dict]:
        body: dict[str, Any] = {
            "model": self.model_name, "prompt": ids, "n": sampling.n, "temperature": sampling.temperature,
            "top_p": sampling.top_p, "max_tokens": sampling.max_new_tokens,
            "seed": prompt_seed(sampling.seed, ids), "logprobs": 0,
            "return_tokens_as_token_ids": True, "return_token_ids": True, "skip_special_tokens": True,
        }
        if sampling.top_k > 0:
            body["top_k"] = sampling.top_k
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        choices = sorted(self._request("POST", "/v1/completions", body)["choices"], key=lambda c: c["index"])
        if len(choices) != sampling.n:
            raise RunError(f"vLLM server {self.url}: {len(choices)} completions for one prompt x n={sampling.n}")
        return choices

    def _parse(self, choice: dict, prompt_index: int, sampling: SamplingParams) -> Completion:
        logprobs = choice.get("logprobs") or {}
        tokens = choice.get("token_ids")
        if tokens is None:  # `token_id:123` strings, from return_tokens_as_token_ids
            tokens = [int(str(t).rsplit(":", 1)[-1]) for t in logprobs.get("tokens") or []]
        values = [v if v is not None else 0.0 for v in logprobs.get("token_logprobs") or []]
        return _completion(self.tokenizer, prompt_index, choice["index"], list(tokens), values,
                           choice.get("finish_reason"), choice.get("text"), sampling, self.eos_token_ids)

    def update_weights(self, state: Mapping[str, Any]) -> None:
        """Push `state` (Hugging Face names) to the server by the chosen path; a no-op when sync is off."""
        if not self.sync or not self.is_main:
            return
        if self.weight_sync == "files":
            self._sync_files(state)
        else:
            self._sync_nccl(state)

    def _sync_files(self, state: Mapping[str, Any]) -> None:
        from safetensors.torch import save_file

        started = time.perf_counter()
        seen: set[int] = set()
        tensors = {}
        for name, tensor in state.items():
            tensor = tensor.detach().to("cpu").contiguous()
            if tensor.data_ptr() in seen:  # tied weights (embeddings / lm_head): safetensors stores each once
                tensor = tensor.clone()
            seen.add(tensor.data_ptr())
            tensors[name] = tensor
        assert self.sync_dir is not None
        self.sync_dir.mkdir(parents=True, exist_ok=True)
        target = self.sync_dir / "policy.safetensors"
        partial = self.sync_dir / f".policy.{os.getpid()}.tmp"
        save_file(tensors, str(partial))
        os.replace(partial, target)
        written = time.perf_counter()
        self._rpc("alignlab_reload_weights", str(target.resolve()))
        self._request("POST", "/reset_prefix_cache")
        self.last_sync = {"write": written - started, "reload": time.perf_counter() - written}

    def _sync_nccl(self, state: Mapping[str, Any]) -> None:
        """Stream `state` over vLLM's NCCL weight-transfer engine (TRL's VLLMClient); CUDA only."""
        if self._client is None:
            check_vllm()
            import torch
            from trl.generation.vllm_client import VLLMClient

            if not torch.cuda.is_available():
                raise ConfigError("rollout.vllm.weight_sync nccl needs a CUDA device; use weight_sync: files")
            self._client = VLLMClient(base_url=self.url, connection_timeout=self.timeout_s)
            self._client.init_communicator(device=torch.cuda.current_device())
        metadata = [(name, str(t.dtype).removeprefix("torch."), list(t.shape)) for name, t in state.items()]
        self._client.update_named_params(metadata, iter(state.items()))
        self._client.reset_prefix_cache()
