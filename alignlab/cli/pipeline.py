"""`alignlab pipeline`: run the whole lifecycle as declared stages, round after round of feedback.

    alignlab pipeline run --config configs/pipelines/demo.yaml [key=value ...] [--force]
    alignlab pipeline show --config configs/pipelines/demo.yaml     # the unrolled stages and their folders
    alignlab pipeline kinds                                          # stage kinds, their inputs and outputs

Thin wrappers over `alignlab.pipeline` (`run`, `load_pipeline`); torch loads only inside `run`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers

app = typer.Typer(help="Run the whole lifecycle as one pipeline, round after round.", no_args_is_help=True)

CONFIG_HELP = "Pipeline YAML, e.g. configs/pipelines/demo.yaml."


def print_result(result) -> None:  # noqa: ANN001 - a PipelineResult
    """Stage timings, each round's headline numbers and the report path."""
    typer.echo(f"\npipeline folder: {result.dir}")
    for record in result.stages:
        reused = "  (reused)" if record.get("reused") else ""
        typer.echo(f"  {record['key']:<18} {record['kind']:<10} {record['seconds']:8.1f} s  "
                   f"{record['peak_rss_mb']:7.0f} MB{reused}")
    for record in result.stages:
        rule = (record.get("metrics") or {}).get("rule") if record["kind"] == "eval" else None
        if rule:
            win = rule["win_rate"]
            typer.echo(f"  {record['key']}: rule win rate vs baseline {win['value']:.3f} "
                       f"[{win['low']:.3f}, {win['high']:.3f}] over {win['n']} held-out prompts")
            quality, base = rule.get("quality") or {}, rule.get("baseline_quality") or {}
            if quality.get("distinct_2") and base.get("distinct_2"):
                typer.echo(f"    distinct-2 {quality['distinct_2']['value']:.3f} (baseline "
                           f"{base['distinct_2']['value']:.3f}), reference perplexity "
                           f"{quality['reference_perplexity']['value']:.2f} (baseline "
                           f"{base['reference_perplexity']['value']:.2f})")
            for reason in (rule.get("guard") or {}).get("reasons") or []:
                typer.echo(f"    FLAGGED ({rule['guard']['action']}): {reason}")
    if result.report:
        typer.echo(f"report: {result.report}")


@app.command("run")
def run(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP),
    overrides: list[str] = overrides_argument(),
    force: bool = typer.Option(False, "--force", help="Redo every stage (finished stages are otherwise reused)."),
) -> None:
    """Run (or resume) a pipeline; finished stages with unchanged inputs are reused."""
    from alignlab.pipeline import load_pipeline
    from alignlab.pipeline import run as run_pipeline

    resolved, _ = load_pipeline(config, overrides or [])  # config and graph errors before any work
    quiet_transformers()
    print_result(run_pipeline(resolved, force=force, echo=typer.echo))


@app.command("show")
def show(
    config: Path = typer.Option(..., "--config", help=CONFIG_HELP),
    overrides: list[str] = overrides_argument(),
) -> None:
    """Check a pipeline and list its stages in run order, with their inputs and folders."""
    from alignlab.pipeline import load_pipeline

    resolved, graph = load_pipeline(config, overrides or [])
    root = Path(resolved.run.output_dir) / resolved.run.name / "stages"
    for node in graph.order:
        inputs = ", ".join(f"{role}={'+'.join(n.key for n in nodes)}" for role, nodes in node.inputs.items())
        done = (root / node.folder / "stage.json").is_file()
        typer.echo(f"{node.key:<18} {node.spec.kind:<10} {'finished' if done else 'to run':<9} {inputs}")


@app.command("kinds")
def kinds() -> None:
    """Stage kinds: the inputs (roles) each takes and what it makes."""
    from alignlab.pipeline.stages import STAGE_KINDS

    for name in STAGE_KINDS.names():
        kind = STAGE_KINDS.get(name)
        roles = ", ".join(f"{role}{'' if spec.required else '?'}: {'|'.join(spec.produces)}"
                          for role, spec in kind.roles.items()) or "none"
        typer.echo(f"{name:<11} inputs: {roles}  ->  {', '.join(kind.produces)}")
