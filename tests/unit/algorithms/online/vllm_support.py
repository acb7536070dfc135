"""What the vLLM tests share: the marker that selects them (`make test-vllm`, run in .venv-vllm) and skips
them where vLLM is not installed, and a rollout server started for a test module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from alignlab.backends.rollout.vllm import installed_vllm

VLLM_MISSING = "vLLM not installed: run scripts/vllm_env.sh"


def needs_vllm(test):
    """Mark a test `vllm` and skip it without vLLM."""
    return pytest.mark.vllm(pytest.mark.skipif(installed_vllm() is None, reason=VLLM_MISSING)(test))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RolloutServer:
    """`alignlab rollout serve MODEL` as a real subprocess; `url` once it answers."""

    def __init__(self, model: Path, log: Path, *, kv_cache_gib: float = 0.25, timeout_s: float = 600.0,
                 extra: tuple[str, ...] | list[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from alignlab.cli import main; main()", "rollout", "serve", str(model),
             "--port", str(self.port), "--kv-cache-gib", str(kv_cache_gib), *extra],
            stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, "PYTHONWARNINGS": "ignore"},
            start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rollout server exited {self.process.returncode}: {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/version", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"rollout server did not answer in {timeout_s}s: {log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
