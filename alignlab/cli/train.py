"""`alignlab train`: training commands.

- offline preference optimisation: `dpo` (and its variants: IPO, cDPO, robust, hinge, SPPO, APO, NCA, RPO/MPO
  combinations, SimPO, ORPO) and `kto`;
- online RL: `ppo`, `grpo`, `rloo` (rollouts from the hf or vllm engine, rule or reward-model rewards);
- lifecycle backends: `pretrain`, `cpt`, `sft`, and `external` (another framework's training command).

Thin wrappers: each command loads its config (plus dotted overrides) and calls the same function as the Python
API (`alignlab.algorithms.dpo.train_dpo`, `alignlab.algorithms.ppo.train_ppo`, ...,
`alignlab.backends.lifecycle.base.run_backend`). Only typer is imported here; torch, transformers and TRL load
inside the commands, so `alignlab --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers

app = typer.Typer(help="Train: dpo, kto (offline preferences); ppo, grpo, rloo (online RL); pretrain, cpt, sft, "
                  "external (lifecycle backends).", no_args_is_help=True)

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


# -- online RL: ppo, grpo, rloo (alignlab.algorithms.ppo|grpo|rloo) ---------------------------------------


def _online(kind: str, config: Path, overrides: list[str] | None, force: bool) -> None:
    """Load an online-RL config, train, print the held-out reward before and after and the largest KL."""
    from alignlab.config import load_config
    from alignlab.methods import METHODS

    method = METHODS.get(kind)
    resolved = load_config(config, method.config_class(), overrides or [])
    quiet_transformers()
    run = method.train_function()(resolved, force=force, echo=typer.echo)
    summary = run.summary() or {}
    before, after, kl = summary.get("eval_before") or {}, summary.get("eval") or {}, summary.get("kl") or {}
    typer.echo(f"\nrun directory: {run.dir}")
    if "eval/reward" in after:
        typer.echo(f"  held-out reward: {before.get('eval/reward', float('nan')):.3f} -> {after['eval/reward']:.3f}"
                   f"   max KL: {kl.get('max') or 0.0:.3f}" + (f" (budget {kl['budget']})" if kl.get("budget") else ""))
    if summary.get("stopped_early"):
        typer.echo(f"  stopped early: {summary['stopped_early']}")
    typer.echo(f"  model:    {summary.get('model', run.dir / 'model')}")
    typer.echo(f"  metrics:  {run.metrics_path}")
    typer.echo(f"  summary:  {run.summary_path}")


@app.command("ppo")
def ppo(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="ppo")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """PPO with a value model, a frozen reference and a KL penalty (rollouts: hf or vllm); resumes."""
    _online("ppo", config, overrides, force)


@app.command("grpo")
def grpo(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="grpo")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """GRPO: group-relative advantages over num_generations samples per prompt; resumes."""
    _online("grpo", config, overrides, force)


@app.command("rloo")
def rloo(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="rloo")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """RLOO: REINFORCE with a leave-one-out baseline over num_generations samples; resumes."""
    _online("rloo", config, overrides, force)


# -- lifecycle backends: pretrain, cpt, sft, external (alignlab.backends.lifecycle) ------------------------


def _lifecycle(kind: str, config: Path, overrides: list[str] | None, force: bool) -> None:
    """Load a lifecycle config, run its backend, print where the model went and its held-out loss."""
    from alignlab.config import CONFIGS, load_config

    resolved = load_config(config, CONFIGS.get(kind), overrides or [])
    quiet_transformers()
    from alignlab.backends.lifecycle.base import run_backend

    run = run_backend(kind, resolved, force=force, echo=typer.echo)
    summary = run.summary() or {}
    held_out, before = summary.get("eval") or {}, summary.get("eval_before") or {}
    typer.echo(f"\nrun directory: {run.dir}")
    if "loss" in held_out:
        start = f"   before training: {before['loss']:.4f}" if "loss" in before else ""
        ppl = held_out.get("perplexity") or float("nan")
        typer.echo(f"  held-out loss: {held_out['loss']:.4f}   perplexity: {ppl:.2f}{start}")
    typer.echo(f"  model:    {summary.get('model')}")
    typer.echo(f"  summary:  {run.summary_path}")


@app.command("pretrain")
def pretrain(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="pretrain")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Pretrain a causal LM from random weights on raw text (packed blocks); re-running resumes."""
    _lifecycle("pretrain", config, overrides, force)


@app.command("cpt")
def cpt(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="cpt")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Continued pretraining of an existing model on raw text; re-running resumes."""
    _lifecycle("cpt", config, overrides, force)


@app.command("sft")
def sft(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="sft")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Supervised fine-tuning / instruction tuning (chat template, loss on assistant tokens); resumes."""
    _lifecycle("sft", config, overrides, force)


@app.command("external")
def external(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP.format(kind="external")),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
) -> None:
    """Run another framework's training command and pick up the checkpoint it writes."""
    _lifecycle("external", config, overrides, force)
