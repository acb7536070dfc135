"""`alignlab rollout serve MODEL`: a vLLM rollout server that alignlab trainers reach in server mode.

    alignlab rollout serve runs/tiny_policies/nano-online --port 8000
    alignlab train grpo --config configs/grpo/tiny_vllm_server.yaml     # rollout.vllm.server_url: ...:8000

It becomes vLLM's OpenAI-compatible server in the foreground (exec; Ctrl-C stops it) with what the trainer
needs: the sampled tokens' log-probs after temperature and top-p/top-k, the checkpoint's own dtype, and weight
reload from safetensors files over its RPC endpoint (no NCCL; works on a CPU). Only typer is imported at start-up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

app = typer.Typer(name="rollout", help="Rollout engines for online RL: a vLLM server trainers share.",
                  no_args_is_help=True)


@app.command()
def serve(
    model: str = typer.Argument(..., help="The policy the trainers start from (a folder or a hub id)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    dtype: str = typer.Option(None, "--dtype", help="float32 | bfloat16 | float16 (default: the checkpoint's)."),
    kv_cache_gib: float = typer.Option(None, "--kv-cache-gib", min=0.01, help="KV-cache size in GiB (default on "
                                       "a CPU: 1; on a GPU: vLLM's share of the GPU)."),
    max_model_len: int = typer.Option(None, "--max-model-len", min=16),
    compile: bool = typer.Option(False, "--compile/--eager", help="torch.compile / CUDA graphs: faster decoding, "
                                 "slower start (tens of seconds on a CPU, cached afterwards)."),
    seed: int = typer.Option(0, "--seed"),
    nccl: bool = typer.Option(False, "--nccl", help="Also accept weights over NCCL (CUDA; rollout.vllm.weight_sync: "
                              "nccl). Weight reload from files is always on."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and print the command; start nothing."),
) -> None:
    """Start a vLLM server for MODEL; trainers connect with rollout.vllm.mode: server."""
    import shlex

    from alignlab.backends.rollout.vllm import CPU_KV_CACHE_GIB, check_architecture, check_vllm, on_cpu
    from alignlab.backends.rollout.vllm_server import serve_command
    from alignlab.errors import ConfigError

    if dtype not in (None, "float32", "bfloat16", "float16"):
        raise ConfigError(f"--dtype {dtype}: use float32, bfloat16 or float16 (or leave it out: the checkpoint's)")
    looks_local = model.startswith((".", "/", "~")) or model.count("/") != 1  # a hub id is org/name
    if looks_local and not Path(model).expanduser().is_dir():
        raise ConfigError(f"alignlab rollout serve {model}: no such model folder; give a folder written by "
                          "save_pretrained (or `alignlab models tiny`)")
    version = check_vllm(where="alignlab rollout serve")
    check_architecture(model)
    if kv_cache_gib is None and on_cpu():
        kv_cache_gib = CPU_KV_CACHE_GIB
    argv, env = serve_command(model, host=host, port=port, dtype=dtype, kv_cache_gib=kv_cache_gib,
                              max_model_len=max_model_len, enforce_eager=not compile, seed=seed, nccl=nccl)
    typer.echo(f"rollout server: {model} on http://{host}:{port} (vLLM {version}, weight sync: files"
               f"{' and nccl' if nccl else ''})", err=True)
    if dry_run:
        typer.echo(" ".join(f"{k}={v}" for k, v in env.items()) + " " + shlex.join(argv))
        return
    sys.stdout.flush()
    sys.stderr.flush()
    # exec, not a child: signals (Ctrl-C, a scheduler's SIGTERM) reach vLLM itself, which shuts its engine down
    os.execve(argv[0], argv, {**os.environ, **env})

