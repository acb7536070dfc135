"""The report's figures, as PNG bytes: headline metrics with 95% CIs per input, and training curves.

matplotlib is used through its object API on the Agg canvas (never pyplot), so nothing global changes in the
caller's process, and it is imported only here, only when a report is built.
"""

from __future__ import annotations

import io
import math
from typing import Any

from alignlab.report.collect import Source
from alignlab.report.compare import Row

COLOURS = ("#1c7ed6", "#e8590c", "#2b8a3e", "#862e9c", "#c92a2a", "#5c940d", "#0b7285", "#a61e4d")
CURVE_HINTS = ("loss", "accuracy", "reward", "margin", "log_ratio", "kl", "win", "score", "entropy")
MAX_CURVES = 6


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def headline_plot(labels: list[str], tables: dict[str, list[Row]]) -> bytes | None:
    """One panel per suite: its first metric for every input, with the bootstrap interval as an error bar."""
    panels = [(suite, rows[0]) for suite, rows in tables.items() if rows]
    if not panels:
        return None
    columns = min(4, len(panels))
    figure = _figure(3.2 * columns, 2.6 * math.ceil(len(panels) / columns))
    grid = figure.subplots(math.ceil(len(panels) / columns), columns, squeeze=False)
    for axes in grid.flat[len(panels):]:
        axes.set_visible(False)
    for axes, (suite, row) in zip(grid.flat, panels, strict=False):
        for i, cell in enumerate(row.cells):
            if cell is None or cell.value is None:
                continue
            low = cell.value - cell.low if cell.low is not None else 0.0
            high = cell.high - cell.value if cell.high is not None else 0.0
            axes.bar(i, cell.value, color=COLOURS[i % len(COLOURS)], yerr=[[max(low, 0.0)], [max(high, 0.0)]],
                     capsize=4, label=labels[i])
        axes.set_title(f"{suite}: {row.metric}", fontsize=9)
        axes.set_xticks(range(len(labels)), [label[:14] for label in labels], fontsize=7, rotation=20)
        axes.tick_params(axis="y", labelsize=7)
    return _png(figure)


def curve_keys(sources: list[Source]) -> list[str]:
    """Numeric keys logged by the runs, the usual training signals first, at most MAX_CURVES."""
    keys: list[str] = []
    for source in sources:
        counts: dict[str, int] = {}
        for row in source.curves:
            for key, value in row.items():
                if key not in ("step", "time", "epoch") and isinstance(value, (int, float)):
                    counts[key] = counts.get(key, 0) + 1
        # a key logged once per run (train_loss, runtime) is a number, not a curve
        keys += [key for key, count in counts.items() if count > 1 and key not in keys]
    def rank(key: str) -> tuple[int, bool, str]:  # training signals in CURVE_HINTS order, then their eval twins
        hint = next((i for i, h in enumerate(CURVE_HINTS) if h in key), len(CURVE_HINTS))
        return hint, key.startswith("eval"), key

    keys.sort(key=rank)
    return keys[:MAX_CURVES]


def curves_plot(sources: list[Source]) -> bytes | None:
    keys = curve_keys(sources)
    if not keys:
        return None
    columns = min(3, len(keys))
    figure = _figure(3.6 * columns, 2.6 * math.ceil(len(keys) / columns))
    grid = figure.subplots(math.ceil(len(keys) / columns), columns, squeeze=False)
    for axes in grid.flat[len(keys):]:
        axes.set_visible(False)
    for axes, key in zip(grid.flat, keys, strict=False):
        for i, source in enumerate(sources):
            points = [(row["step"], row[key]) for row in source.curves if isinstance(row.get(key), (int, float))]
            if points:
                steps, values = zip(*points, strict=True)
                style = ("-", "--", ":")[(i // len(COLOURS)) % 3]  # more runs than colours: vary the line
                axes.plot(steps, values, color=COLOURS[i % len(COLOURS)], linestyle=style, label=source.label,
                          linewidth=1.4)
        axes.set_title(key, fontsize=9)
        axes.set_xlabel("step", fontsize=8)
        axes.tick_params(labelsize=7)
    for axes in grid.flat[:len(keys)]:  # every panel names its own lines: runs log different keys
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=6)
    return _png(figure)
