"""`alignlab eval`: run evaluation suites (`run`) and list them (`list`); thin wrappers over `alignlab.eval`.

    alignlab eval run --suite bbq,crows_pairs,xstest --model runs/tiny/policy --out runs/eval_tiny
    alignlab eval run --config configs/eval/standard.yaml --model M --judge RM --baseline B --out runs/eval
    alignlab eval run --suite winrate --model M --baseline B --judge RM --limit 50 generation.max_new_tokens=128
    alignlab eval list

Only typer is imported at module level: torch, transformers and the suites load inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument, quiet_transformers

app = typer.Typer(help="Run evaluation suites: bias, safety and over-refusal, toxicity, multilingual parity, "
                  "generation quality, reward-model accuracy, win rate.", no_args_is_help=True)


@app.command("run")
def run(
    overrides: list[str] = overrides_argument(),
    suite: str | None = typer.Option(None, "--suite", "-s", help="Comma-separated suites (see `alignlab eval list`)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Policy to evaluate: a local folder or hub id."),
    judge: str | None = typer.Option(None, "--judge", help="Reward model (or causal-LM judge) for judged suites."),
    baseline: str | None = typer.Option(None, "--baseline", help="Second policy for `winrate`."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Folder to write (default: run.output_dir/run.name)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML config, e.g. configs/eval/standard.yaml."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most N examples per suite (deterministic)."),
    force: bool = typer.Option(False, "--force", help="Start over in a folder that holds an earlier evaluation."),
) -> None:
    """Run suites on a model; write metrics with 95% CIs and per-example samples.jsonl under --out."""
    from alignlab.eval.runner import build_config, run_eval

    resolved = build_config(config, overrides or [], model=model, suites=suite, judge=judge, baseline=baseline,
                            out=out, limit=limit)
    quiet_transformers()
    result = run_eval(resolved, force=force, progress=typer.echo)
    typer.echo(f"wrote {result.out_dir} (summary.json; per suite: metrics.json, samples.jsonl)")


@app.command("list")
def list_suites() -> None:
    """Print every suite: category, how it scores, what it needs, its data and license."""
    from alignlab.eval.suite import SUITES, describe

    for name in SUITES.names():
        info = describe(name)
        needs = ", ".join(info["needs"]) or "-"
        licenses = "; ".join(source["license"] for source in info["sources"])
        typer.echo(f"{name:<20} {info['category']:<13} {info['title']}")
        typer.echo(f"{'':<20} scores: {info['method']}; needs: {needs}; data license: {licenses}")
