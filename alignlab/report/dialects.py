"""The report's "Languages and dialects" section: per-dialect bars with intervals, the gaps, the judge used.

    section = dialect_section(sources)     # None when no input ran an Arabic suite

Read from the metrics.json of the Arabic suites (`arabic_dialects`, `dialect_safety`, `arabic_toxicity`,
`camel`, `acva`), per eval input:
- `arabic_dialects`: sentiment accuracy per dialect (Wilson interval) for each shots setting, each dialect's gap
  to MSA (Newcombe interval) and the largest gap;
- `dialect_safety`: the unsafe rate per language (English, MSA, Egyptian, Levantine) and the paired gaps;
- `arabic_toxicity`: the toxic rate after offensive and ordinary openings;
- `camel`: the cultural bias score per entity type (0.5 = no preference);
- every judge line (`judge/*` metrics: the judge's name and its measured accuracy / AUROC).
Bars are plain data (value, interval as percentages of the axis) that the HTML template draws with CSS and the
Markdown renderer prints as numbers; nothing here is HTML.
"""

from __future__ import annotations

from typing import Any

ARABIC_SUITES = ("arabic_dialects", "dialect_safety", "arabic_toxicity", "camel", "acva")
LANGUAGE_NAMES = {"en": "English", "msa": "MSA", "egy": "Egyptian", "lev": "Levantine", "egypt": "Egyptian",
                  "gulf": "Gulf", "levant": "Levantine", "magreb": "Maghrebi", "egypt_astd": "Egyptian (ASTD)"}


ORDER = ("en", "msa", "egypt", "egy", "gulf", "levant", "lev", "magreb", "egypt_astd")


def display_name(key: str) -> str:
    """"egy_minus_en" -> "Egyptian − English"; "gulf" -> "Gulf"; other keys unchanged."""
    if "_minus_" in key:
        a, b = key.split("_minus_", 1)
        return f"{display_name(a)} − {display_name(b)}"
    return LANGUAGE_NAMES.get(key, key)


def _order(key: str) -> tuple[int, str]:
    first = key.split("_minus_")[0]
    return (ORDER.index(first) if first in ORDER else len(ORDER), key)


def bar(name: str, metric: dict[str, Any], *, low_axis: float = 0.0, high_axis: float = 1.0) -> dict[str, Any]:
    """One bar: the label, value and interval, and their positions on a [low_axis, high_axis] axis in percent."""
    span = high_axis - low_axis

    def position(x: float | None) -> float | None:
        return None if x is None else round(100.0 * min(max((x - low_axis) / span, 0.0), 1.0), 2)

    value = metric.get("value")
    at, zero = position(value), position(0.0) or 0.0
    return {"name": display_name(name), "key": name, "value": value, "low": metric.get("low"),
            "high": metric.get("high"), "n": metric.get("n"),
            "start": None if at is None else min(at, zero), "size": None if at is None else round(abs(at - zero), 2),
            "low_at": position(metric.get("low")), "high_at": position(metric.get("high")),
            "ci_width": None if metric.get("low") is None or metric.get("high") is None
            else round((position(metric["high"]) or 0.0) - (position(metric["low"]) or 0.0), 2),
            "description": metric.get("description", "")}


def _group(metrics: dict[str, dict[str, Any]], prefix: str, **axis: float) -> list[dict[str, Any]]:
    keys = sorted((key for key in metrics if key.startswith(prefix) and "/" not in key[len(prefix):]),
                  key=lambda key: _order(key[len(prefix):]))
    return [bar(key[len(prefix):], metrics[key], **axis) for key in keys]


def _charts(suite: str, metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """(title, bars) charts of one suite's metrics."""
    charts = []
    if suite == "arabic_dialects":
        for shots in sorted({k.split("/")[1] for k in metrics if k.startswith("accuracy/") and k.count("/") == 2}):
            charts.append({"title": f"Sentiment accuracy per dialect, {shots.replace('shot', '-shot')} (chance 1/3)",
                           "bars": _group(metrics, f"accuracy/{shots}/")})
            charts.append({"title": f"Gap to MSA, {shots.replace('shot', '-shot')} (MSA minus dialect; > 0 = worse "
                           "in the dialect)", "bars": _group(metrics, f"gap_to_msa/{shots}/", low_axis=-1.0),
                           "signed": True})
    elif suite == "dialect_safety":
        charts.append({"title": "Unsafe rate per language (share of harmful requests complied with)",
                       "bars": _group(metrics, "unsafe_rate/")})
        charts.append({"title": "Paired unsafe-rate gaps (> 0 = less safe than the reference)",
                       "bars": _group(metrics, "unsafe_gap/", low_axis=-1.0), "signed": True})
    elif suite == "arabic_toxicity":
        charts.append({"title": "Toxic continuations", "bars": _group(metrics, "toxic_rate/")})
    elif suite == "camel":
        charts.append({"title": "Cultural bias score per entity type (share of pairs preferring the Western "
                       "entity; 0.5 = none)", "bars": _group(metrics, "cbs/")})
    return [{"signed": False} | c for c in charts if c["bars"]]


def _headline(suite: str, metrics: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    for key in ("largest_dialect_gap", "largest_unsafe_gap", "toxic_rate", "cbs", "balanced_accuracy"):
        if key in metrics:
            return {"metric": key, **bar(key, metrics[key], low_axis=-1.0)}
    return None


def _judges(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"metric": key.removeprefix("judge/"), "judge": m.get("judge"), "value": m.get("value"),
             "description": m.get("description", "")} for key, m in metrics.items() if key.startswith("judge/")]


def dialect_section(sources: list[Any]) -> list[dict[str, Any]] | None:
    """One block per (input, Arabic suite) with its headline, charts and judge lines; None without any."""
    blocks = []
    for source in sources:
        for suite in ARABIC_SUITES:
            info = source.suites.get(suite)
            if not info:
                continue
            metrics = info.get("metrics") or {}
            blocks.append({"label": source.label, "suite": suite, "title": info.get("title", suite),
                           "headline": _headline(suite, metrics), "charts": _charts(suite, metrics),
                           "judges": _judges(metrics)})
    return blocks or None


def markdown_lines(blocks: list[dict[str, Any]], md: Any, number: Any) -> list[str]:
    """The section as Markdown (`md` escapes text, `number` formats a value)."""
    lines = ["", "## Languages and dialects"]
    for block in blocks:
        lines += ["", f"### {md(block['suite'])} ({md(block['label'])})", ""]
        if block["headline"]:
            h = block["headline"]
            lines += [f"Headline {md(h['metric'])}: {number(h['value'])} [{number(h['low'])}, {number(h['high'])}]"
                      f" — {md(h['description'])}", ""]
        for chart in block["charts"]:
            lines += [f"*{md(chart['title'])}*", "", "| group | value | 95% interval | n |", "|---|---|---|---|"]
            lines += [f"| {md(b['name'])} | {number(b['value'])} | [{number(b['low'])}, {number(b['high'])}] | "
                      f"{number(b['n'])} |" for b in chart["bars"]]
            lines.append("")
        for judge in block["judges"]:
            lines.append(f"- judge {md(judge['judge'])}: {md(judge['metric'])} = {number(judge['value'])} "
                         f"({md(judge['description'])})")
    return lines
