"""Benchmark reports: one self-contained HTML page (or Markdown) comparing models, checkpoints and rounds.

    from alignlab.report import build_report
    build_report(["runs/eval-round1", "runs/eval-round2", "runs/rm"], ["report.html", "report.md"])

Inputs are folders (eval folders from `alignlab eval run`, training runs, data audits); the report shows the
inputs, headline metrics with 95% CIs, every suite's metrics with the change from the first input (paired
bootstrap CI where the metric is a mean over examples), reward-model and training summaries, training curves,
data audits, annotator agreement and example generations. `collect.py` reads the folders, `compare.py` builds
the tables, `plots.py` draws the figures, `render.py` writes HTML (escaped, no scripts) and Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alignlab.errors import AlignlabError


def build_report(inputs: Sequence[str | Path], outputs: Sequence[str | Path], *, labels: Sequence[str] | None = None,
                 title: str = "alignlab benchmark report", examples_per_suite: int = 3, seed: int = 0) -> list[Path]:
    """Write the report to every output path (.html or .md) and return them."""
    from alignlab.report.collect import collect
    from alignlab.report.compare import compare
    from alignlab.report.plots import curves_plot, headline_plot
    from alignlab.report.render import context, render_html, render_markdown, write_assets
    from alignlab.utils.io import atomic_write_text

    outputs = [Path(p) for p in outputs]
    for path in outputs:
        if path.suffix.lower() not in (".html", ".htm", ".md"):
            raise AlignlabError(f"--out {path}: write .html or .md (one --out per format)")
    sources = collect(list(inputs), list(labels) if labels else None)
    evals = [s for s in sources if s.is_eval]  # suite tables and the headline plot compare eval folders only
    tables = compare(evals, seed=seed)
    plots = {"headline": headline_plot([s.label for s in evals], tables), "curves": curves_plot(sources)}
    data = context(sources, tables, plots, title=title, per_suite=examples_per_suite)
    for path in outputs:
        if path.suffix.lower() == ".md":
            assets = write_assets(plots, path.with_name(f"{path.stem}_files"))
            atomic_write_text(path, render_markdown(data, assets))
        else:
            atomic_write_text(path, render_html(data))
    return outputs


__all__ = ["build_report"]
