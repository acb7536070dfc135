"""Shared test setup: offline hubs, few threads, and helpers to run the real CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `alignlab ARGS...` as a real subprocess (the installed console entry point's code path)."""
    return subprocess.run(
        [sys.executable, "-c", "from alignlab.cli import main; main()", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def run_cli_in_own_session(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`run_cli` for commands that start other processes (launchers, servers): the CLI runs in its own session,
    so on a timeout (a hang) every process it started dies with it and the test fails."""
    process = subprocess.Popen([sys.executable, "-c", "from alignlab.cli import main; main()", *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"alignlab {' '.join(args[:6])} ... did not finish in {timeout} s (a hang between processes?)")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def merge_sections(base: dict, sections: dict) -> dict:
    """A test config: `base` with each given section's keys overriding (a non-dict value replaces the section)."""
    out = {name: dict(values) if isinstance(values, dict) else values for name, values in base.items()}
    for name, values in sections.items():
        out[name] = {**out.get(name, {}), **values} if isinstance(values, dict) else values
    return out


@pytest.fixture
def cli():
    return run_cli


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` run only where a CUDA GPU is present."""
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)
