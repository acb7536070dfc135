"""Write an audit report as `audit.json` and a self-contained `audit.html` (plots inlined as base64 PNG).

Plots are drawn from the report dict alone (histograms are precomputed in it), so an `audit.json` read back
from disk renders the same page. matplotlib is used through its object API with the Agg canvas, never
pyplot, so nothing global (backend, figure registry) changes in the caller's process. The template renders
with autoescape on: prompts, responses, source names and problems in the data are user text.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

from alignlab.data.io import open_text_output

TEMPLATE = "audit.html.jinja"
_COLOURS = {"chosen": "#2b8a3e", "rejected": "#c92a2a", "prompt": "#495057", "response": "#1c7ed6",
            "completion": "#1c7ed6", "responses": "#1c7ed6"}


def _figure(width: float = 6.4, height: float = 3.2) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _length_plot(report: dict) -> str | None:
    histograms = {name: h for name, h in report["length_histograms"].items() if h["counts"]}
    if not histograms:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    for name, hist in histograms.items():
        if name == "prompt" and len(histograms) > 1:
            continue  # prompts dwarf responses and say nothing about the preference
        axes.stairs(hist["counts"], hist["edges"], label=name, color=_COLOURS.get(name), linewidth=1.5)
    axes.set_xlabel("characters (clipped at the 1st and 99th percentiles)")
    axes.set_ylabel("rows")
    axes.set_title("Response lengths")
    axes.legend()
    return _png(figure)


def _difference_plot(report: dict) -> str | None:
    hist = report.get("length_difference_histogram")
    if not hist or not hist["counts"]:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    axes.stairs(hist["counts"], hist["edges"], fill=True, color="#748ffc")
    axes.axvline(0, color="black", linewidth=1)
    axes.set_xlabel("chosen minus rejected length (characters)")
    axes.set_ylabel("pairs")
    axes.set_title("Right of the line: chosen is longer")
    return _png(figure)


def _ratings_plot(report: dict) -> str | None:
    ratings = report.get("ratings")
    if not ratings:
        return None
    figure = _figure(width=min(3.2 * len(ratings), 16), height=2.8)
    for index, (attribute, stats) in enumerate(ratings.items(), 1):
        axes = figure.add_subplot(1, len(ratings), index)
        axes.bar(list(stats["histogram"]), list(stats["histogram"].values()), color="#1c7ed6")
        axes.set_title(attribute)
        axes.set_xlabel("score")
    return _png(figure)


def _agreement_plot(report: dict) -> str | None:
    agreement = report.get("agreement")
    if not agreement:
        return None
    figure = _figure(height=2.6)
    axes = figure.add_subplot()
    axes.stairs(agreement["histogram"]["counts"], agreement["histogram"]["edges"], fill=True, color="#f59f00")
    axes.set_xlabel("annotator agreement")
    axes.set_ylabel("rows")
    return _png(figure)


def _number(value: Any) -> str:
    """Numbers for tables: thousands separators, fewer decimals as values grow."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 10:
        return f"{value:.2f}"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _p_value(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def render_html(report: dict) -> str:
    """The audit page as one HTML string (autoescaped; plots inlined)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(num=_number, pct=_percent, pvalue=_p_value)
    plots = {  # None where there is nothing to draw; the template skips those
        "lengths": _length_plot(report),
        "differences": _difference_plot(report),
        "ratings": _ratings_plot(report),
        "agreement": _agreement_plot(report),
    }
    return environment.get_template(TEMPLATE).render(report=report, plots=plots)


def write_audit_files(report: dict, out_dir: str | os.PathLike) -> dict[str, str]:
    """Write `audit.json` and `audit.html` into `out_dir`, each atomically; return their paths."""
    out = Path(out_dir)
    html = render_html(report)  # before writing anything: a template error leaves no half-written audit
    written = {}
    for kind, text in (("json", json.dumps(report, indent=2, sort_keys=True) + "\n"), ("html", html)):
        path = out / f"audit.{kind}"
        with open_text_output(path) as handle:
            handle.write(text)
        written[kind] = str(path)
    return written
