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


@app.command("import-trl")
def import_trl(
    recipe: Path = typer.Argument(..., help="A TRL / alignment-handbook recipe YAML (e.g. config_full.yaml)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the alignlab config here (default: print)."),
    kind: str | None = typer.Option(None, "--kind", help="dpo, kto, sft or rm (default: guessed from the keys)."),
    data: str | None = typer.Option(None, "--data", help="data.path when the recipe's dataset is not usable "
                                    "here (e.g. a local copy of the hub dataset)."),
) -> None:
    """Turn a TRL recipe into an alignlab config; every key that could not be mapped is named, with why.

    A `dataset_mixture` becomes a mixture file beside --out (`<out>.mixture.yaml`), which data.path names."""
    import yaml

    from alignlab.config.trl_import import check, import_recipe
    from alignlab.utils.io import atomic_write_text

    result = import_recipe(recipe, kind)
    writes: list[tuple[Path, str]] = []
    if data:
        result.config["data"]["path"] = data
    elif result.mixture is not None:
        mixture_path = (out or Path(f"{recipe.stem}.alignlab.yaml")).with_suffix(".mixture.yaml")
        result.config["data"]["path"] = str(mixture_path)
        writes.append((mixture_path, yaml.safe_dump(result.mixture, sort_keys=False)))
    if not result.config["data"].get("path"):
        result.unmapped.append(("(dataset)", "the recipe names no dataset: set data.path (or pass --data)"))
        result.config["data"]["path"] = "SET-ME.jsonl"
    check(result)  # a value out of range is one line now, not at training time
    text = f"# imported from {recipe.name} by `alignlab config import-trl` ({result.kind})\n" + \
        yaml.safe_dump(result.config, sort_keys=False)
    if out is None:
        typer.echo(text, nl=False)
    else:
        writes.append((out, text))
    for path, content in writes:
        atomic_write_text(path, content)
        typer.echo(f"wrote {path}", err=out is None)
    for key, why in result.unmapped:
        typer.echo(f"not mapped: {key}: {why}", err=True)
    typer.echo(f"{len(result.unmapped)} recipe key(s) not mapped", err=True)
