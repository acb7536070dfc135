"""Recorded background processes: found only while the same process lives; stop touches only those."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil

from alignlab.annotation.server import processes

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_start_find_stop(tmp_path):
    process = processes.start("sleeper", SLEEPER, env={}, pid_dir=tmp_path / "run", log_dir=tmp_path / "logs")
    try:
        found = processes.find("sleeper", tmp_path / "run")
        assert found is not None and found.pid == process.pid
        assert processes.stop("sleeper", tmp_path / "run", timeout_s=5)
        assert not processes.alive(process)
        assert processes.find("sleeper", tmp_path / "run") is None
        assert not processes.stop("sleeper", tmp_path / "run")  # nothing left to stop
    finally:
        if processes.alive(process):
            process.kill()


def test_a_reused_pid_is_never_signalled(tmp_path):
    stranger = subprocess.Popen(SLEEPER)
    try:
        run = tmp_path / "run"
        run.mkdir()
        created = psutil.Process(stranger.pid).create_time()
        # A record naming the stranger's PID but another start time: the process we started is gone.
        (run / "server.json").write_text(json.dumps({"pid": stranger.pid, "create_time": created - 1000}))
        assert processes.find("server", run) is None
        assert not processes.stop("server", run)
        assert stranger.poll() is None  # still running
    finally:
        stranger.kill()
        stranger.wait()


def test_log_tail_is_one_line(tmp_path):
    (tmp_path / "server.log").write_text("start\n\nTraceback\nValueError: boom\n")
    assert processes.log_tail(tmp_path, "server", lines=2) == "Traceback | ValueError: boom"
    assert processes.log_tail(tmp_path, "missing") == ""
