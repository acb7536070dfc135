"""`alignlab demo`: the whole lifecycle as one pipeline on embedded defaults (configs/demo.yaml holds them)."""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers


def demo(
    overrides: list[str] = overrides_argument(),
    config: Path | None = typer.Option(None, "--config", help="YAML config (default: built-in defaults)."),
    force: bool = typer.Option(False, "--force", help="Redo every stage of the demo from scratch."),
) -> None:
    """Pretrain and SFT a tiny model, run feedback rounds with simulated annotators, reward model and DPO,
    evaluate against the SFT policy and write one HTML report (runs/demo/)."""
    from alignlab.cli.pipeline import print_result
    from alignlab.config import load_config
    from alignlab.config.schemas import DemoConfig
    from alignlab.demo import demo_pipeline, run_demo
    from alignlab.pipeline import build_graph

    resolved = load_config(config, DemoConfig, overrides or [])
    build_graph(demo_pipeline(resolved))  # every stage's settings checked before any work
    quiet_transformers()
    print_result(run_demo(resolved, force=force, echo=typer.echo))
