"""`alignlab eval`: run evaluation suites (`run`) and list them (`list`); thin wrappers over `alignlab.eval`.

    alignlab eval run --suite bbq,crows_pairs,xstest --model runs/tiny/policy --out runs/eval_tiny
    alignlab eval run --config configs/eval/standard.yaml --model M --judge RM --baseline B --out runs/eval
    alignlab eval run --suite winrate --model M --baseline B --judge RM --limit 50 generation.max_new_tokens=128
    alignlab eval list
    alignlab eval judges                                   # judges with their measured accuracy and where
    alignlab eval judge refusal --data mine.jsonl --out judged.jsonl

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
    from alignlab.utils.progress import StepProgress

    bar = StepProgress(len(resolved.eval.suites), "eval suites", typer.echo)  # a bar on a terminal, lines in logs

    def suite_done(line: str) -> None:
        bar.advance()
        bar.note(line)

    try:
        result = run_eval(resolved, force=force, progress=suite_done, echo=typer.echo)
    finally:
        bar.close()
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


@app.command("judges")
def list_judges() -> None:
    """Print every judge: its task, its measured accuracy and where that was measured."""
    from alignlab.eval.judges.apply import rows_of_cards

    rows = rows_of_cards()
    typer.echo(f"{'judge':<15} {'task':<9} {'accuracy':<9} where measured")
    for name, task, accuracy, where in rows:
        typer.echo(f"{name:<15} {task:<9} {accuracy:<9} {where}")


@app.command("judge")
def judge(
    name: str = typer.Argument(..., help="Judge name (see `alignlab eval judges`), e.g. refusal, toxicity."),
    data: Path = typer.Option(..., "--data", help="JSONL rows with string fields `prompt` and `response`."),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL to write: each row with `label`, `score`, `judge`."),
    model: str | None = typer.Option(None, "--model", help="Hub id or folder for hub judges; model name for openai."),
    base_url: str | None = typer.Option(None, "--base-url", help="openai judge: the OpenAI-compatible endpoint."),
) -> None:
    """Judge rows: refusal labels full_compliance | full_refusal | partial_refusal; toxicity toxic | non_toxic."""
    from alignlab.eval.judges.apply import judge_file

    options = {"model": model} | ({"base_url": base_url} if base_url else {})
    count = judge_file(name, data, out, **options)
    typer.echo(f"wrote {out} ({count} rows judged by {name})")
