"""`alignlab report`: build an HTML and/or Markdown report from eval and run folders (wraps `alignlab.report`).

    alignlab report runs/eval-round1 runs/eval-round2 --out report.html --out report.md
    alignlab report runs/eval-sft runs/eval-dpo runs/rm --label SFT --label DPO --label RM --out report.html

Only typer is imported at module level; matplotlib and jinja2 load inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    inputs: list[Path] = typer.Argument(..., metavar="RUN_OR_EVAL_DIR...", help="Eval folders, training runs, "
                                        "audit folders; the first is the reference for changes."),
    out: list[Path] = typer.Option(..., "--out", "-o", help="report.html and/or report.md (repeat for both)."),
    label: list[str] | None = typer.Option(None, "--label", help="Name of each input, in order (default: folder)."),
    title: str = typer.Option("alignlab benchmark report", "--title", help="Page title."),
    examples: int = typer.Option(3, "--examples", min=0, help="Example generations shown per suite."),
) -> None:
    """Compare models, checkpoints and rounds: metrics with CIs and deltas, curves, audits, example outputs."""
    from alignlab.report import build_report

    written = build_report(inputs, out, labels=label or None, title=title, examples_per_suite=examples)
    for path in written:
        typer.echo(f"wrote {path}")
