"""`alignlab demo`: the main job on embedded defaults (configs/demo.yaml's values are the schema defaults)."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers


def demo(
    overrides: list[str] = overrides_argument(),
    config: Path | None = typer.Option(None, "--config", help="YAML config (default: built-in defaults)."),
    force: bool = typer.Option(False, "--force", help="Redo a finished demo run from scratch."),
) -> None:
    """Build tiny offline models and audit the shipped preference data into runs/demo/."""
    from alignlab.config import load_config
    from alignlab.config.schemas import DemoConfig
    from alignlab.demo import run_demo

    resolved = load_config(config, DemoConfig, overrides or [])
    quiet_transformers()
    run = run_demo(resolved, force=force, echo=typer.echo)
    summary = run.summary() or {}
    typer.echo(f"\nrun directory: {run.dir}")
    models = summary.get("tiny_model", {})
    if models:
        typer.echo(f"  policy model: {models.get('policy')}")
        typer.echo(f"  reward model: {models.get('reward')}")
    audit = summary.get("audit", {})
    if audit:
        typer.echo(f"  data audit:   {audit.get('html')}")
    typer.echo(f"  summary:      {run.summary_path}")
