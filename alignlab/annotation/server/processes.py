"""Background processes started by `annotate up`, recorded so that `annotate down` stops exactly those.

Each process gets `<pid_dir>/<name>.json` with its PID and start time. A recorded process counts as ours
only while a process with that PID *and* that start time exists: after a reboot or PID reuse the record is
stale and nothing is signalled. Processes run in their own session (they outlive the CLI call) and write to
`<log_dir>/<name>.log`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from alignlab.utils.io import atomic_write_json

# psutil's create_time is rounded differently across calls on some kernels; a match within this is the same.
_START_TIME_TOLERANCE_S = 1.0


def _record_path(pid_dir: Path, name: str) -> Path:
    return pid_dir / f"{name}.json"


def start(name: str, argv: Sequence[str], *, env: Mapping[str, str], pid_dir: Path, log_dir: Path,
          cwd: Path | None = None) -> psutil.Process:
    """Start `argv` detached, log to `<log_dir>/<name>.log`, and record it under `name`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    pid_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{name}.log", "ab") as log:
        # umask 077: what the process creates (the server's database holds every API key) is private.
        child = subprocess.Popen(list(argv), env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True, umask=0o077)
    process = psutil.Process(child.pid)
    atomic_write_json(_record_path(pid_dir, name), {"pid": child.pid, "create_time": process.create_time(),
                                                   "argv0": os.path.basename(argv[0])})
    return process


def find(name: str, pid_dir: Path) -> psutil.Process | None:
    """The recorded process if it is still the one we started and still alive, else None."""
    path = _record_path(pid_dir, name)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        process = psutil.Process(int(record["pid"]))
        same = abs(process.create_time() - float(record["create_time"])) < _START_TIME_TOLERANCE_S
        alive = process.status() != psutil.STATUS_ZOMBIE
    except (OSError, ValueError, KeyError, psutil.Error):
        return None
    return process if same and alive else None


def stop(name: str, pid_dir: Path, *, timeout_s: float = 15.0) -> bool:
    """Stop the recorded process and the children it forked (SIGTERM, then SIGKILL); True if one ran."""
    process = find(name, pid_dir)
    _record_path(pid_dir, name).unlink(missing_ok=True)
    if process is None:
        return False
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.Error:
        family = [process]
    for member in family:
        _signal(member, signal.SIGTERM)
    _, alive = psutil.wait_procs(family, timeout=timeout_s)
    for member in alive:
        _signal(member, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    return True


def kill(name: str, pid_dir: Path) -> bool:
    """SIGKILL the recorded process at once, leaving its record (tests simulate a crash with this)."""
    process = find(name, pid_dir)
    if process is None:
        return False
    _signal(process, signal.SIGKILL)
    psutil.wait_procs([process], timeout=10)
    return True


def _signal(process: psutil.Process, sig: int) -> None:
    try:
        process.send_signal(sig)
    except psutil.Error:
        pass


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie (a child that exited stays a zombie until its parent reaps it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def log_tail(log_dir: Path, name: str, lines: int = 5) -> str:
    """The last non-empty lines of a process log, joined with ' | ' (for one-line error messages)."""
    path = log_dir / f"{name}.log"
    if not path.is_file():
        return ""
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 8192))
        text = handle.read().decode("utf-8", "replace")
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def wait_until(predicate, *, timeout_s: float, interval_s: float = 0.25, while_alive: psutil.Process | None = None
               ) -> bool:
    """Poll `predicate()` until true (True), the deadline passes or `while_alive` exits (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        if while_alive is not None and not alive(while_alive):
            return False
        time.sleep(interval_s)
    return bool(predicate())
