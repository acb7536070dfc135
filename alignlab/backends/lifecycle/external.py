"""`external` backend: run another framework's command line and pick up the checkpoint it writes.

    command: ["{python}", "train.py", "--model", "{model}", "--data", "{data}", "--out", "{output_dir}"]

- The command is a list of arguments, or one string split as a shell would split it (no shell runs, so no
  quoting surprises and no injection through placeholders). Placeholders: {output_dir} (default
  `<run>/output`), {model}, {data}, {python} (the running interpreter), {run_dir}. Only `{identifier}` is a
  placeholder (an unknown one is an error, so a typo cannot slip through); other braces, as in inline code or
  JSON, pass through as they are.
- Its stdout and stderr stream, line by line, into `<run>/external.log` (appended on every attempt), so a
  crash keeps everything the command printed.
- The checkpoint is the newest folder holding a `config.json` under the output folder (a Trainer's
  `checkpoint-N` folders and final model folders alike), or the newest match of `checkpoint` (a glob relative
  to the output folder). Its training numbers are read from a `trainer_state.json` beside it when there is one.
- A failing command is one line: its exit code, the log's path and the last lines it printed.
- Re-running an unfinished run runs the command again (resuming is the command's own business); a finished
  run is reused unless forced, like every run.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.backends.lifecycle.base import Echo
from alignlab.errors import ConfigError, RunError
from alignlab.runs import Run

LOG_NAME = "external.log"
TAIL_LINES = 5
TAIL_CHARS = 400
PLACEHOLDERS = ("output_dir", "model", "data", "python", "run_dir")
# {name} with a bare identifier inside; other braces (inline code, JSON) pass through untouched.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Prepared:
    argv: list[str]
    output_dir: Path
    cwd: Path | None


def output_dir_of(config: Any) -> Path:
    run_dir = Path(config.run.output_dir) / config.run.name
    return Path(config.output_dir or run_dir / "output").resolve()


def build_argv(config: Any) -> list[str]:
    """The command with placeholders filled in; an unknown or unset placeholder is a ConfigError."""
    raw = config.command
    if isinstance(raw, str):
        try:
            raw = shlex.split(raw)
        except ValueError as err:
            raise ConfigError(f"command: cannot split {config.command!r} ({err}); give a list of arguments") from None
    values = {"output_dir": str(output_dir_of(config)), "python": sys.executable,
              "run_dir": str((Path(config.run.output_dir) / config.run.name).resolve()),
              "model": config.model, "data": config.data}

    def fill(match: re.Match, arg: str) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
            hint = f" (did you mean {{{close[0]}}}?)" if close else ""
            raise ConfigError(f"command argument {arg!r}: unknown placeholder {{{name}}}{hint}; valid: "
                              f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        if values[name] is None:
            raise ConfigError(f"command argument {arg!r} uses {{{name}}} but {name} is not set in the config")
        return values[name]

    argv = [_PLACEHOLDER.sub(lambda match, arg=arg: fill(match, arg), arg) for arg in raw]
    return argv


def _check_program(argv: list[str], cwd: Path | None) -> None:
    program = argv[0]
    if os.sep in program:
        path = Path(program) if Path(program).is_absolute() or cwd is None else cwd / program
        if not path.is_file():
            raise ConfigError(f"command: program {program} not found; give an existing path or a name on PATH")
    elif shutil.which(program) is None:
        raise ConfigError(f"command: program {program!r} not found on PATH; install it, give its full path, or "
                          "use {python} for this Python")


def find_checkpoint(output_dir: Path, pattern: str | None = None) -> Path | None:
    """The newest folder under `output_dir` holding config.json (or matching `pattern`), None if there is none."""
    if not output_dir.is_dir():
        return None
    if pattern:
        found = [p for p in output_dir.glob(pattern) if p.is_dir()]
    else:
        found = [p.parent for p in output_dir.rglob("config.json") if not p.parent.name.startswith(".")]
    if not found:
        return None
    return max(found, key=lambda p: ((p / "config.json").stat().st_mtime if (p / "config.json").exists()
                                     else p.stat().st_mtime, str(p)))


def _stream(process: subprocess.Popen, log_path: Path, timeout_s: float | None) -> tuple[int, list[str], bool]:
    """Copy the command's output into the log as it comes (a reader thread, so the timeout holds even while
    the command is silent); (exit code, last lines, timed out)."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)

    def copy() -> None:
        assert process.stdout is not None
        with log_path.open("a", encoding="utf-8", errors="replace") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if line.strip():
                    tail.append(line.rstrip())

    reader = threading.Thread(target=copy, name="external-log", daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(process)
    reader.join(timeout=30)
    if timed_out:
        with log_path.open("a", encoding="utf-8") as log:
            log.write(f"[alignlab] stopped after timeout_s={timeout_s}\n")
    return process.wait(), list(tail), timed_out


def _stop(process: subprocess.Popen) -> None:
    """Stop the command and everything it started (it runs in its own process group)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def _tail_text(tail: list[str]) -> str:
    text = " | ".join(tail) or "(no output)"
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def _trainer_numbers(checkpoint: Path, output_dir: Path) -> dict[str, Any]:
    """Last train loss and held-out loss from a Trainer's trainer_state.json: the checkpoint's own, else the
    newest one under the output folder."""
    import json

    states = sorted(output_dir.rglob("trainer_state.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in [checkpoint / "trainer_state.json", *states]:
        if path.is_file():
            try:
                history = json.loads(path.read_text(encoding="utf-8")).get("log_history", [])
            except (OSError, ValueError):
                return {}
            train = next((e for e in reversed(history) if "loss" in e), {})
            held_out = next((e for e in reversed(history) if "eval_loss" in e), {})
            out: dict[str, Any] = {}
            if train:
                out["train"] = {"loss": train["loss"], "step": train.get("step")}
            if held_out:
                from alignlab.backends.lifecycle.base import perplexity

                out["eval"] = {"loss": held_out["eval_loss"], "perplexity": perplexity(held_out["eval_loss"])}
            return out
    return {}


class ExternalBackend:
    name = "external"

    def prepare(self, config: Any, *, echo: Echo = print) -> Prepared:
        argv = build_argv(config)
        cwd = Path(config.cwd) if config.cwd is not None else None
        if cwd is not None and not cwd.is_dir():
            raise ConfigError(f"cwd: {cwd} is not a folder")
        _check_program(argv, cwd)
        return Prepared(argv, output_dir_of(config), cwd)

    def run(self, config: Any, run: Run, *, echo: Echo = print, prepared: Prepared | None = None) -> Path:
        prepared = prepared or self.prepare(config, echo=echo)
        prepared.output_dir.mkdir(parents=True, exist_ok=True)
        log_path = run.dir / LOG_NAME
        with log_path.open("a", encoding="utf-8") as log:
            log.write(f"[alignlab] {time.strftime('%Y-%m-%d %H:%M:%S')} running: {shlex.join(prepared.argv)}\n")
        echo(f"external: {shlex.join(prepared.argv)}  (log: {log_path})")
        started = time.monotonic()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **config.env}
        process = subprocess.Popen(prepared.argv, cwd=prepared.cwd, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
                                   start_new_session=True)
        try:
            code, tail, timed_out = _stream(process, log_path, config.timeout_s)
        except BaseException:
            _stop(process)
            raise
        if timed_out:
            raise RunError(f"external command stopped after timeout_s={config.timeout_s} ({log_path}); "
                           f"last output: {_tail_text(tail)}")
        if code != 0:
            raise RunError(f"external command failed with exit code {code} ({log_path}); last output: "
                           f"{_tail_text(tail)}")
        checkpoint = find_checkpoint(prepared.output_dir, config.checkpoint)
        if checkpoint is None:
            wanted = f"no match for {config.checkpoint!r}" if config.checkpoint else "no folder with a config.json"
            raise RunError(f"external command finished but wrote no checkpoint ({wanted} under "
                           f"{prepared.output_dir}); point it at {{output_dir}} or set checkpoint: to a glob")
        run.finish({"backend": self.name, "command": prepared.argv, "exit_code": code, "log": str(log_path),
                    "command_runtime_s": round(time.monotonic() - started, 3),
                    **_trainer_numbers(checkpoint, prepared.output_dir),
                    "model": str(checkpoint)})
        echo(f"external: checkpoint {checkpoint}")
        return checkpoint


EXTERNAL = ExternalBackend()
