"""`alignlab train`: policy optimisation. `dpo` (and its variants: IPO, cDPO, robust, hinge, SPPO, APO, NCA,
RPO/MPO combinations, SimPO, ORPO) and `kto` today; ppo, grpo and sft arrive with later parts of the roadmap.

Thin wrappers: each command loads its config (plus dotted overrides) and calls the same function as the Python
API (`alignlab.algorithms.dpo.train_dpo`, `alignlab.algorithms.kto.train_kto`). Only typer is imported here;
torch, transformers and TRL load inside the commands, so `alignlab --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers

app = typer.Typer(help="Policy optimisation: dpo and kto (ppo, grpo, sft to come).", no_args_is_help=True)

CONFIG_HELP = "YAML config, e.g. configs/{kind}/tiny.yaml."
FORCE_HELP = "Start over: delete the run directory (same run.name) and train from scratch."


def _report(run) -> None:  # noqa: ANN001 - a Run
    summary = run.summary() or {}
    held_out = summary.get("eval", {})
    typer.echo(f"\nrun directory: {run.dir}")
    if "rewards/accuracies" in held_out:
        typer.echo(f"  held-out reward accuracy: {held_out['rewards/accuracies']:.3f}   "
                   f"margin: {held_out.get('rewards/margins', float('nan')):.3f}")
    typer.echo(f"  model:    {summary.get('model', run.dir / 'model')}")
    typer.echo(f"  metrics:  {run.metrics_path}")
    typer.echo(f"  summary:  {run.summary_path}")


@app.command("dpo")
def dpo(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="dpo")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Direct preference optimisation (and variants) on pairwise data; re-running the same command resumes."""
    from alignlab.config import load_config
    from alignlab.config.dpo import DPOConfig

    resolved = load_config(config, DPOConfig, overrides or [])
    quiet_transformers()
    from alignlab.algorithms.dpo import train_dpo

    _report(train_dpo(resolved, force=force, echo=typer.echo))


@app.command("kto")
def kto(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="kto")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Kahneman-Tversky optimisation on unpaired thumbs-up/down data; re-running the same command resumes."""
    from alignlab.config import load_config
    from alignlab.config.dpo import KTOConfig

    resolved = load_config(config, KTOConfig, overrides or [])
    quiet_transformers()
    from alignlab.algorithms.kto import train_kto

    _report(train_kto(resolved, force=force, echo=typer.echo))
