"""`alignlab config`: print the JSON schema of a stage's config, validate and resolve a config file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument

app = typer.Typer(help="Inspect and validate typed configs.", no_args_is_help=True)


@app.command("schema")
def schema(stage: str = typer.Argument(..., help="Config kind, e.g. rm, demo, tiny_model.")) -> None:
    """Print the JSON schema of a config kind (for editors and validators)."""
    from alignlab.config import CONFIGS

    model = CONFIGS.get(stage)
    typer.echo(json.dumps(model.model_json_schema(), indent=2))


@app.command("show")
def show(
    kind: str = typer.Argument(..., help="Config kind, e.g. rm, demo, tiny_model."),
    path: Path = typer.Argument(..., help="YAML file to validate."),
    overrides: list[str] = overrides_argument(),
) -> None:
    """Validate a YAML file (plus overrides) and print the resolved config."""
    from alignlab.config import CONFIGS, dump_yaml, load_config

    config = load_config(path, CONFIGS.get(kind), overrides or [])
    typer.echo(dump_yaml(config), nl=False)
