"""Read what a report compares: eval folders, training run folders, data audits, agreement files.

    sources = collect(["runs/eval-round1", "runs/eval-round2", "runs/rm"], labels=None)

A folder is read for everything it holds, so one input can contribute several sections:
- eval suites: `<suite>/metrics.json` (and `<suite>/samples.jsonl` beside it), written by `alignlab eval run`;
- training curves: `metrics.jsonl` (one JSON object per logged step), written by every training run;
- a run summary: `summary.json` (final scalars, e.g. a reward model's held-out accuracy);
- data audits: `audit.json`, `audit/audit.json` or `*/audit.json`, written by `alignlab data audit`;
- annotator agreement: `agreement.json` (any flat scalars) and the `agreement` section of an audit.
A folder with none of these is a one-line error that says what was expected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError

EVAL_KIND = "alignlab eval"


class ReportInputError(AlignlabError):
    """A report input that is missing or holds no results."""


@dataclass
class Source:
    label: str
    path: Path
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)  # suite -> metrics.json content
    curves: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    audits: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    agreement: dict[str, Any] | None = None

    @property
    def is_eval(self) -> bool:
        return bool(self.suites)

    @property
    def model(self) -> str | None:
        if self.summary and self.summary.get("kind") == EVAL_KIND:
            return self.summary.get("model")
        model = (self.config or {}).get("model") or {}
        return model.get("name_or_path") if isinstance(model, dict) else None

    def samples(self, suite: str) -> list[dict[str, Any]]:
        """The per-example log of a suite ([] when the file is absent)."""
        path = self.path / suite / "samples.jsonl"
        if not path.is_file():
            return []
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReportInputError(f"{path}: unreadable JSON ({type(err).__name__}: {err}); rerun the step that "
                               "wrote it") from None


def _read_curves(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a crash
                continue
            if isinstance(row, dict) and "step" in row:
                rows.append(row)
    return rows


def _position(source: Source, suite: str) -> tuple[int, str]:
    """Suites in the order the evaluation ran them (summary.json, else config.yaml), then by name."""
    order = list((source.summary or {}).get("suite_order") or [])
    if not order:
        order = list(((source.config or {}).get("eval") or {}).get("suites") or [])
    return (order.index(suite) if suite in order else len(order), suite)


def metric_names(info: dict[str, Any]) -> list[str]:
    """A suite's metrics in the order the suite declared them (its headline first)."""
    order = [name for name in info.get("metric_order") or [] if name in info["metrics"]]
    return order + [name for name in info["metrics"] if name not in order]


def read_source(path: Path, label: str) -> Source:
    if not path.exists():
        raise ReportInputError(f"{path}: no such folder; pass eval or run folders (alignlab eval run --out DIR)")
    if not path.is_dir():
        raise ReportInputError(f"{path}: is a file; pass the folder that holds it")
    source = Source(label=label, path=path)
    for metrics_path in sorted(path.glob("*/metrics.json")):
        info = _read_json(metrics_path)
        if isinstance(info, dict) and isinstance(info.get("metrics"), dict):
            source.suites[metrics_path.parent.name] = info
    if (path / "metrics.jsonl").is_file():
        source.curves = _read_curves(path / "metrics.jsonl")
    if (path / "summary.json").is_file():
        source.summary = _read_json(path / "summary.json")
    if (path / "config.yaml").is_file():
        import yaml

        source.config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")) or {}
    candidates = [path / "audit.json", path / "audit" / "audit.json", *sorted(path.glob("*/audit.json"))]
    seen = set()
    for candidate in candidates:
        if candidate.is_file() and candidate not in seen:
            seen.add(candidate)
            source.audits.append((candidate.relative_to(path).as_posix(), _read_json(candidate)))
    if (path / "agreement.json").is_file():
        source.agreement = _read_json(path / "agreement.json")
    source.suites = dict(sorted(source.suites.items(), key=lambda item: _position(source, item[0])))
    if not (source.suites or source.curves or source.summary or source.audits or source.agreement):
        raise ReportInputError(
            f"{path}: no results here (no <suite>/metrics.json, metrics.jsonl, summary.json, audit.json or "
            "agreement.json); pass a folder written by `alignlab eval run --out`, a training run or a data audit"
        )
    return source


def collect(paths: list[str | Path], labels: list[str] | None = None) -> list[Source]:
    """Read each input; labels default to folder names (made unique with their parent's name)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ReportInputError("no inputs: pass one or more eval or run folders")
    if labels and len(labels) != len(paths):
        raise ReportInputError(f"{len(labels)} --label values for {len(paths)} inputs; give one per input or none")
    if not labels:
        labels = [p.resolve().name or str(p) for p in paths]
        for index, label in enumerate(labels):
            if labels.count(label) > 1:
                labels[index] = f"{paths[index].resolve().parent.name}/{label}"
    return [read_source(path, label) for path, label in zip(paths, labels, strict=True)]
