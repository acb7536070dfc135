"""Render the report as one self-contained HTML page or as Markdown with PNG files beside it.

HTML: a jinja2 template rendered with autoescape on: every model output, prompt, label, path and data text is
escaped, and nothing is marked safe except the template itself. The page carries a Content-Security-Policy
that forbids every script and every resource except inline styles and `data:` images, and has no script of its
own; plots are PNGs inlined as base64.

Markdown: tables and text are escaped for Markdown and HTML (a renderer that passes HTML through shows
`<script>` as text); generations go in fenced code blocks whose fence is longer than any backtick run inside.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from alignlab._version import __version__
from alignlab.report.collect import Source
from alignlab.report.compare import Row
from alignlab.report.dialects import dialect_section, markdown_lines

TEXT_LIMIT = 1500
PROMPT_FIELDS = ("prompt", "turn_1", "turn_2")
OUTPUT_FIELDS = ("response", "continuation", "candidate", "baseline", "answer_1", "answer_2")
TAG_FIELDS = ("refused", "toxicity", "toxic", "win_share", "context_use", "judge_turn1", "judge_turn2", "verdicts",
              "score_candidate", "score_baseline", "language")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.4g}"


def verdict_class(verdict: str) -> str:
    classes = {"better": "better", "worse": "worse", "changed": "changed", "no significant change": "same"}
    return classes.get(verdict, "")


def clip(text: Any) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + " … [cut]"


def examples(sources: list[Source], per_suite: int) -> list[dict[str, Any]]:
    """Up to `per_suite` examples of every suite that generated text, the same ids across inputs."""
    blocks = []
    suites = []
    for source in sources:
        suites += [name for name in source.suites if name not in suites]
    for suite in suites:
        per_source = [{str(s.get("id")): s for s in source.samples(suite)} if suite in source.suites else {}
                      for source in sources]
        reference = next((samples for samples in per_source if samples), {})
        ids = [i for i, s in reference.items() if any(s.get(f) for f in OUTPUT_FIELDS)][:per_suite]
        items = []
        for sample_id in ids:
            first = reference[sample_id]
            outputs = []
            for source, samples in zip(sources, per_source, strict=True):
                sample = samples.get(sample_id)
                if sample is None:
                    continue
                fields = [(f, clip(sample[f])) for f in OUTPUT_FIELDS if sample.get(f) is not None]
                tags = ", ".join(f"{t}: {number(sample[t])}" for t in TAG_FIELDS if sample.get(t) is not None)
                outputs.append({"label": source.label, "fields": fields, "tags": tags})
            items.append({"id": sample_id, "prompt": [(f, clip(first[f])) for f in PROMPT_FIELDS if first.get(f)],
                          "outputs": outputs})
        if items:
            blocks.append({"suite": suite, "items": items})
    return blocks


def _flat_scalars(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("kind", "status", "suites"):
                continue
            out |= _flat_scalars(value, f"{prefix}{key}.")
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out[prefix.rstrip(".")] = data
    return out


def context(sources: list[Source], tables: dict[str, list[Row]], plots: dict[str, bytes | None], *,
            title: str, per_suite: int) -> dict[str, Any]:
    """Everything the templates show, as plain data."""
    summaries = [(s.label, _flat_scalars(s.summary)) for s in sources if s.summary and not s.is_eval]
    summary_keys = sorted({key for _, values in summaries for key in values})
    agreements = []
    for source in sources:
        for key, value in _flat_scalars(source.agreement or {}).items():
            agreements.append((source.label, key, value))
        for file, audit in source.audits:
            for key, value in _flat_scalars(audit.get("agreement") or {}).items():
                agreements.append((source.label, f"{file}: agreement.{key}", value))
    titles, notes = {}, {}
    for source in sources:
        for name, info in source.suites.items():
            titles.setdefault(name, info.get("title", ""))
            examples_info = info.get("examples") or {}
            notes.setdefault(name, f"{info.get('method', '')}; {examples_info.get('evaluated', '?')} of "
                                   f"{examples_info.get('available', '?')} examples")
    return {
        "title": title, "version": __version__, "sources": sources, "tables": tables,
        "eval_sources": [s for s in sources if s.is_eval],
        "suite_titles": titles, "suite_notes": notes, "summaries": summaries, "summary_keys": summary_keys,
        "audits": [{"label": s.label, "file": f, "report": a} for s in sources for f, a in s.audits],
        "agreements": agreements, "examples": examples(sources, per_suite),
        "dialects": dialect_section(sources),
        "headline_png": _b64(plots.get("headline")), "curves_png": _b64(plots.get("curves")),
    }


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data else None


def render_html(data: dict[str, Any]) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("alignlab.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=number, signed=signed, verdict_class=verdict_class)
    return env.get_template("report.html.jinja").render(**data)


def md(text: Any) -> str:
    """Text safe in a Markdown table or paragraph: HTML-escaped, Markdown specials backslashed, one line."""
    escaped = html.escape(str(text), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", escaped).replace("\r", " ").replace("\n", " ")


def fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _cell_md(cell: Any) -> str:
    if cell is None or cell.value is None:
        return "–"
    interval = f" [{number(cell.low)}, {number(cell.high)}]" if cell.low is not None else ""
    return f"{number(cell.value)}{interval}"


def _delta_md(delta: Any) -> str:
    if delta is None:
        return "–"
    interval = f" [{signed(delta.low)}, {signed(delta.high)}]" if delta.low is not None else ""
    verdict = f" ({delta.verdict})" if delta.verdict else ""
    return f"{signed(delta.value)}{interval}{verdict}"


def render_markdown(data: dict[str, Any], assets: dict[str, str]) -> str:
    """`assets`: plot name -> relative path of its PNG file."""
    sources: list[Source] = data["sources"]
    lines = [f"# {md(data['title'])}", "", f"alignlab {data['version']}. Changes are measured against the first "
             "input holding the suite (paired 95% bootstrap over shared examples where the metric is a mean).", "",
             "## Inputs", "", "| label | folder | model | suites |", "|---|---|---|---|"]
    lines += [f"| {md(s.label)} | {md(s.path)} | {md(s.model or '')} | {len(s.suites)} |" for s in sources]
    if "headline" in assets:
        lines += ["", "## Headline metrics", "", f"![headline metrics]({assets['headline']})"]
    if data["tables"]:
        lines += ["", "## Evaluation suites"]
    evals: list[Source] = data["eval_sources"]
    header = "| metric | " + " | ".join(md(s.label) for s in evals) + "".join(
        f" | Δ {md(s.label)}" for s in evals[1:]) + " |"
    for suite, rows in data["tables"].items():
        lines += ["", f"### {md(suite)} — {md(data['suite_titles'].get(suite, ''))}", "",
                  md(data["suite_notes"].get(suite, "")), "", header, "|" + "---|" * (2 * len(evals))]
        for row in rows:
            arrow = " ↑" if row.higher_is_better is True else " ↓" if row.higher_is_better is False else ""
            cells = [_cell_md(c) for c in row.cells] + [_delta_md(d) for d in row.deltas[1:]]
            lines.append(f"| {md(row.metric)}{arrow} | " + " | ".join(cells) + " |")
    if data.get("dialects"):
        lines += markdown_lines(data["dialects"], md, number)
    if data["summaries"]:
        lines += ["", "## Reward models and training runs", "",
                  "| value | " + " | ".join(md(label) for label, _ in data["summaries"]) + " |",
                  "|---|" + "---|" * len(data["summaries"])]
        lines += [f"| {md(key)} | " + " | ".join(number(values.get(key)) for _, values in data["summaries"]) + " |"
                  for key in data["summary_keys"]]
    if "curves" in assets:
        lines += ["", "## Training curves", "", f"![training curves]({assets['curves']})"]
    for audit in data["audits"]:
        lines += ["", f"## Data audit: {md(audit['label'])} ({md(audit['file'])})", ""]
        lines += [f"- {md(verdict)}" for verdict in audit["report"].get("verdicts") or []]
    if data["agreements"]:
        lines += ["", "## Annotator agreement", "", "| input | statistic | value |", "|---|---|---|"]
        lines += [f"| {md(label)} | {md(key)} | {number(value)} |" for label, key, value in data["agreements"]]
    if data["examples"]:
        lines += ["", "## Example generations"]
    for block in data["examples"]:
        lines += ["", f"### {md(block['suite'])}"]
        for item in block["items"]:
            lines += ["", f"**{md(item['id'])}**"]
            for name, text in item["prompt"]:
                lines += ["", f"*{md(name)}*", "", fenced(text)]
            for output in item["outputs"]:
                lines += ["", f"**{md(output['label'])}** {md(output['tags'])}"]
                for name, text in output["fields"]:
                    lines += ["", f"*{md(name)}*", "", fenced(text)]
    return "\n".join(lines) + "\n"


def write_assets(plots: dict[str, bytes | None], folder: Path) -> dict[str, str]:
    """Write the plots as PNG files for the Markdown report; returns name -> path relative to the report."""
    from alignlab.utils.io import atomic_dir

    present = {name: png for name, png in plots.items() if png}
    if not present:
        return {}
    with atomic_dir(folder) as tmp:
        for name, png in present.items():
            (tmp / f"{name}.png").write_bytes(png)
    return {name: f"{folder.name}/{name}.png" for name in present}
