"""`alignlab rm`: train, evaluate and score reward models (thin wrappers over `alignlab.algorithms.rm*`).

    alignlab rm train --config configs/rm/tiny_bt.yaml [train.lr=1e-4 ...] [--force]
    alignlab rm eval --model reward_models/tiny_bt --data preference_data/hh_rlhf_harmless/test.jsonl
    alignlab rm score --model reward_models/tiny_bt --data candidates.jsonl --out scored.jsonl

Only typer is imported here; torch, transformers and TRL load inside the commands.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers

app = typer.Typer(help="Train, evaluate and score reward models.", no_args_is_help=True)


class EvalFormat(StrEnum):
    pairwise = "pairwise"
    ranking = "ranking"
    ratings = "ratings"


MODEL_OPTION = typer.Option(..., "--model", "-m", help="Reward model folder (written by `alignlab rm train`).")
BATCH_OPTION = typer.Option(16, "--batch-size", min=1, help="Responses scored per forward pass.")


@app.command("train")
def train(
    config: Path = typer.Option(..., "--config", "-c", help="YAML recipe, e.g. configs/rm/tiny_bt.yaml."),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help="Start over when the run directory holds an earlier run."),
) -> None:
    """Train a reward model (Bradley-Terry, multi-attribute regression or an ensemble); re-running resumes."""
    from alignlab.config import load_config
    from alignlab.config.rm import RMConfig

    resolved = load_config(config, RMConfig, overrides or [])
    from alignlab.algorithms.rm import train as train_rm
    from alignlab.algorithms.rm_data import load_rm_data

    data = load_rm_data(resolved)  # data errors come before torch is imported
    quiet_transformers()
    result = train_rm(resolved, force=force, echo=typer.echo, data=data)
    typer.echo(f"model: {result.model_dir}\nrun: {result.run_dir}")


@app.command("eval")
def evaluate(
    model: Path = MODEL_OPTION,
    data: str = typer.Option(..., "--data", "-d", help="Held-out file (or synthetic:... spec)."),
    data_format: EvalFormat = typer.Option(EvalFormat.pairwise, "--format", "-f", help="Record format of --data."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write every metric as JSON here."),
    batch_size: int = BATCH_OPTION,
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap resampling."),
) -> None:
    """Accuracy with a 95% CI, per-section accuracy, calibration (ECE, Brier), length bias, agreement."""
    from alignlab.models.reward import check_reward_folder

    check_reward_folder(model)  # a wrong folder is refused before torch is imported
    quiet_transformers()
    from alignlab.algorithms.rm_eval import evaluate as evaluate_rm
    from alignlab.algorithms.rm_eval import format_report
    from alignlab.utils.io import atomic_write_json

    metrics = evaluate_rm(model, data, fmt=data_format.value, batch_size=batch_size, seed=seed)
    typer.echo(format_report(metrics))
    if out is not None:
        atomic_write_json(out, metrics)
        typer.echo(f"metrics: {out}")


@app.command("score")
def score(
    model: Path = MODEL_OPTION,
    data: Path = typer.Option(..., "--data", "-d", help="Rows with prompt and response, chosen and rejected, or "
                              "a list of responses (examples/README.md)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.jsonl, .csv or .parquet)."),
    batch_size: int = BATCH_OPTION,
) -> None:
    """Add rewards to every row of a file, through the model's training format."""
    from alignlab.models.reward import check_reward_folder

    check_reward_folder(model)
    quiet_transformers()
    from alignlab.algorithms.rm_score import score_file

    summary = score_file(model, data, out, batch_size=batch_size)
    typer.echo(json.dumps(summary))
