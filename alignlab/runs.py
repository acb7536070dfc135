"""Run directories: self-describing, atomically written, resumable.

    runs/<name>/
      config.yaml     the resolved config (file + overrides + defaults)
      env.json        package versions, git sha, seed, device, threads, command line
      metrics.jsonl   one JSON object per logged step
      checkpoints/    step_<N>/ folders, each written atomically
      summary.json    written last; its presence means the run finished

`open_run` is called only after the config has validated, so a bad config never leaves a folder behind.
Re-running the same command resumes: the same config finds its folder, `latest_checkpoint()` says where to
continue, and metrics logged after that checkpoint are dropped so the curve has no duplicate steps. A
finished run is not redone unless `force=True`; a different config in the same folder is refused.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from alignlab.config.loader import dump_yaml
from alignlab.errors import RunError
from alignlab.launch.topology import current as current_topology
from alignlab.paths import project_root
from alignlab.utils.io import atomic_dir, atomic_write_json, atomic_write_text

TRACKED_PACKAGES = (
    "alignlab", "torch", "transformers", "trl", "peft", "datasets", "accelerate", "tokenizers",
    "safetensors", "numpy", "pandas", "pydantic", "argilla", "vllm", "deepspeed",
)
# step_N: the one name of a checkpoint, each published complete by a rename: `Run.checkpoint` (our loops) or
# `Run.publish_trainer_checkpoint` (a transformers Trainer writes `checkpoint-N` in place, its temporary folder,
# with trainer_state.json last). A `checkpoint-N` left behind is an interrupted save, never resumed from.
_STEP_DIR = re.compile(r"^step_(\d+)$")
_TRAINER_STATE = "trainer_state.json"


@dataclass
class Run:
    """An open run directory. Create with `open_run`."""

    dir: Path
    config: dict[str, Any]
    resumed: bool = False
    finished: bool = False
    writer: bool = True  # False on ranks > 0 of a multi-process run: they read the folder, rank 0 writes it
    tracking: Any = None  # alignlab.utils.tracking.Tracking when train.report_to / train.callbacks ask for one
    _started: float = field(default_factory=time.time, repr=False)

    @property
    def checkpoints_dir(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def metrics_path(self) -> Path:
        return self.dir / "metrics.jsonl"

    @property
    def summary_path(self) -> Path:
        return self.dir / "summary.json"

    def record_environment(self, **fields: Any) -> None:
        """Add facts decided once the model is known (e.g. the precision chosen) to env.json."""
        if not self.writer:
            return
        path = self.dir / "env.json"
        env = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        atomic_write_json(path, {**env, **fields})

    def log(self, step: int, **metrics: Any) -> None:
        """Append one metrics line; each line is flushed so a crash loses at most the line being written."""
        if not self.writer:
            return
        record = {"step": step, "time": round(time.time() - self._started, 3), **metrics}
        with self.metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=float) + "\n")
            handle.flush()
        if self.tracking is not None:  # metrics.jsonl first: it is the source of truth, trackers mirror it
            self.tracking.log(step, metrics)

    def metrics(self) -> list[dict[str, Any]]:
        return list(_read_metrics(self.metrics_path))

    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints, oldest first (temp folders of an interrupted save are not listed)."""
        if not self.checkpoints_dir.is_dir():
            return []
        found = []
        for child in self.checkpoints_dir.iterdir():
            match = _STEP_DIR.match(child.name)
            if not (match and child.is_dir()):
                continue
            found.append((int(match.group(1)), child))
        return sorted(found)

    def latest_checkpoint(self) -> Path | None:
        found = self.checkpoints()
        return found[-1][1] if found else None

    @contextmanager
    def checkpoint(self, step: int, keep_last: int | None = None) -> Iterator[Path]:
        """Yield a temp folder to save into; it becomes `checkpoints/step_<step>` only if the block succeeds."""
        with atomic_dir(self.checkpoints_dir / f"step_{step}") as tmp:
            yield tmp
        if keep_last is not None:
            for _, old in self.checkpoints()[:-keep_last]:
                shutil.rmtree(old, ignore_errors=True)

    def publish_trainer_checkpoint(self, step: int, keep_last: int | None = None) -> Path | None:
        """Rename the Trainer's `checkpoints/checkpoint-<step>` to `checkpoints/step_<step>` once complete (one
        atomic rename, by the writing rank). Every rank calls it after the Trainer's save: the barrier first
        lets every rank finish writing its files (RNG states, DeepSpeed shards) into the folder."""
        from alignlab.launch.topology import barrier

        barrier()
        source = self.checkpoints_dir / f"checkpoint-{step}"
        if not self.writer or not (source / _TRAINER_STATE).is_file():
            return None
        target = self.checkpoints_dir / f"step_{step}"
        if target.exists():  # the same step saved again (a resumed run): the new one replaces it
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(source, target)
        if keep_last:
            for _, stale in self.checkpoints()[:-keep_last]:
                shutil.rmtree(stale, ignore_errors=True)
        return target

    def finish(self, summary: dict[str, Any]) -> Path:
        """Write summary.json last: from now on the run counts as finished."""
        payload = {"status": "finished", "wall_time_s": round(time.time() - self._started, 3), **summary}
        if self.writer:
            atomic_write_json(self.summary_path, payload)
        if self.tracking is not None:
            self.tracking.close()
        self.finished = True
        return self.summary_path

    def summary(self) -> dict[str, Any] | None:
        if not self.summary_path.is_file():
            return None
        return json.loads(self.summary_path.read_text(encoding="utf-8"))


def open_run(config: BaseModel | dict, output_dir: str | Path, name: str, *, seed: int = 0,
             force: bool = False) -> Run:
    """Create `output_dir/name`, or reopen it when it holds the same config (resume or already finished).

    Under a launcher (`alignlab launch`) rank 0 does this first; the other ranks then open the folder rank 0
    prepared as readers (`Run.writer` False: they log nothing and write no summary)."""
    from alignlab.launch.topology import main_process_first

    with main_process_first() as main:
        if main:
            return _open_as_writer(config, output_dir, name, seed=seed, force=force)
    run_dir = Path(output_dir) / name
    resolved = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
    run = Run(dir=run_dir, config=resolved, writer=False)
    run.resumed, run.finished = bool(run.checkpoints()), run.summary_path.is_file()
    return run


def _open_as_writer(config: BaseModel | dict, output_dir: str | Path, name: str, *, seed: int,
                    force: bool) -> Run:
    run_dir = Path(output_dir) / name
    resolved = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
    config_text = dump_yaml(config) if isinstance(config, BaseModel) else yaml.safe_dump(resolved, sort_keys=False)
    if force and run_dir.exists():
        shutil.rmtree(run_dir)
    if run_dir.exists() and not (run_dir / "config.yaml").is_file():
        if any(run_dir.iterdir()):
            raise RunError(f"{run_dir}: folder exists but is not a run directory (no config.yaml); "
                           "choose another run name or remove it")
    previous = _read_previous_config(run_dir)
    if previous is not None and previous != resolved:
        raise RunError(f"{run_dir}: holds a run with a different config ({_first_difference(previous, resolved)}); "
                       "pass --force to start over or choose another run.name")
    run = Run(dir=run_dir, config=resolved, resumed=previous is not None)
    run.checkpoints_dir.mkdir(parents=True, exist_ok=True)
    if previous is None:
        atomic_write_text(run_dir / "config.yaml", config_text)
    atomic_write_json(run_dir / "env.json", environment(seed))
    run.finished = run.summary_path.is_file()
    if run.resumed and not run.finished:
        _truncate_metrics(run)
    if not run.finished:
        from alignlab.utils.tracking import start_tracking

        run.tracking = start_tracking(run.dir, resolved)  # a bad tracker or callback fails here, before any work
    return run


def environment(seed: int) -> dict[str, Any]:
    """What produced a run: versions, git sha, seed, device, threads. No environment variables (secrets)."""
    versions = {}
    for package in TRACKED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "git": _git_state(),
        "seed": seed,
        "cpu_count": os.cpu_count(),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "topology": current_topology().as_dict(),  # ranks, launcher, DeepSpeed stage (alignlab.launch.topology)
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
    }
    torch = sys.modules.get("torch")
    if torch is None:
        import torch  # noqa: PLC0415 - only once a run starts; the CLI start-up stays light
    env["threads"] = torch.get_num_threads()
    env["device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return env


def _git_state() -> dict[str, Any] | None:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True,
                             text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=project_root(),
                               capture_output=True, text=True, timeout=5)
        return {"sha": sha.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def _read_previous_config(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "config.yaml"
    if not path.is_file():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _first_difference(old: Any, new: Any, prefix: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{prefix}{key}.")
    return f"{prefix.rstrip('.') or 'config'}: {old!r} there, {new!r} now"


def _read_metrics(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:  # the line a crash cut short
                continue


def _truncate_metrics(run: Run) -> None:
    """Keep only complete metrics lines up to the last checkpoint, so a resumed curve has no repeats."""
    if not run.metrics_path.is_file():
        return
    checkpoints = run.checkpoints()
    last_step = checkpoints[-1][0] if checkpoints else -1
    kept = [m for m in _read_metrics(run.metrics_path) if m.get("step", -1) <= last_step]
    atomic_write_text(run.metrics_path, "".join(json.dumps(m) + "\n" for m in kept))


# -- what every trainer does first ---------------------------------------------------------------------


def finished_run(config: Any, force: bool, echo: Callable[[str], None]) -> Run | None:
    """The run when it already finished (and `force` is off); also sets threads and seeds the process."""
    from alignlab.utils.seed import seed_everything

    if config.run.threads:
        import torch

        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    if force or not (Path(config.run.output_dir) / config.run.name / "summary.json").is_file():
        return None
    run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed)
    echo(f"already finished: {run.summary_path} (pass --force to train again)")
    return run


def open_training_run(config: Any, force: bool) -> Run:
    return open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed, force=force)
