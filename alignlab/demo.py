"""The main job on embedded defaults (`alignlab demo`, `make demo`).

Today it is the foundation slice of the lifecycle: build a tiny offline policy and reward model from the
shipped corpus, validate and audit the shipped HH-RLHF preference pairs, and leave everything in one run
directory. Each stage writes its output atomically and is skipped when that output already exists, so an
interrupted demo resumes where it stopped; a finished demo is not redone unless forced.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alignlab.config.schemas import DemoConfig
from alignlab.errors import DataError
from alignlab.paths import project_root
from alignlab.runs import Run, open_run
from alignlab.utils.seed import seed_everything


def resolve_shipped_path(path: str | Path) -> Path:
    """A path as given, or relative to the project root (so the demo runs from any working directory)."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    shipped = project_root() / path
    return shipped if shipped.exists() else path


def run_demo(config: DemoConfig, *, force: bool = False, echo: Callable[[str], None] = print) -> Run:
    run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed, force=force)
    if run.finished:
        echo(f"demo already finished: {run.summary_path} (pass --force to run it again)")
        return run
    seed_everything(config.run.seed)
    summary: dict[str, Any] = {}
    summary["tiny_model"] = _stage(run, "tiny_model", echo, lambda: _build_models(run, config))
    summary["validate"] = _stage(run, "validate", echo, lambda: _validate(config))
    summary["audit"] = _stage(run, "audit", echo, lambda: _audit(run, config))
    run.finish(summary)
    return run


def _stage(run: Run, name: str, echo: Callable[[str], None], body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    echo(f"[{name}] ...")
    started = time.perf_counter()
    result = body()
    seconds = round(time.perf_counter() - started, 2)
    run.log(len(run.metrics()) + 1, stage=name, seconds=seconds)
    echo(f"[{name}] done in {seconds:.1f}s")
    return result


def _build_models(run: Run, config: DemoConfig) -> dict[str, Any]:
    import json

    from alignlab.models.tiny import build_tiny_models

    out = run.dir / "models" / "tiny"
    card = out / "alignlab_tiny.json"
    if not card.is_file():
        tiny = config.tiny_model
        corpus = [resolve_shipped_path(p) for p in tiny.corpus] or None
        build_tiny_models(out, size=tiny.size, vocab_size=tiny.vocab_size, corpus=corpus,
                          max_position_embeddings=tiny.max_position_embeddings, seed=tiny.seed)
    info = json.loads(card.read_text(encoding="utf-8"))
    return {**info, "policy": str(out / "policy"), "reward": str(out / "reward")}


def _validate(config: DemoConfig) -> dict[str, Any]:
    from alignlab.data import validate_file

    path = resolve_shipped_path(config.audit.path)
    report = validate_file(path, config.audit.format)
    if report.problems:
        first = report.problems[0]
        raise DataError(f"{first} ({len(report.problems)} problems; run `alignlab data validate {path}`)")
    return {"path": str(path), "rows": report.rows}


def _audit(run: Run, config: DemoConfig) -> dict[str, Any]:
    from alignlab.data import audit_file, write_audit

    out = run.dir / "audit"
    report = audit_file(resolve_shipped_path(config.audit.path), config.audit.format)
    write_audit(report, out)
    return {"json": str(out / "audit.json"), "html": str(out / "audit.html"),
            "length_bias": report.get("length_bias")}
