"""Side-by-side metric tables: every suite's metrics per input, and each input's change from the first one.

For a metric that is a mean of one sample field (`mean_of` in metrics.json), the change is a paired bootstrap
over the examples both inputs scored (matched by sample id; `alignlab.metrics.paired_bootstrap_diff`), so
"better" or "worse" means the 95% interval of the change excludes zero. For other metrics (bias scores,
ratios, Bradley-Terry win rates) the change is the difference of the two point estimates, shown without a CI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alignlab.eval.stats import matches
from alignlab.report.collect import Source, metric_names


@dataclass(frozen=True)
class Cell:
    value: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class Delta:
    value: float
    low: float | None
    high: float | None
    n: int
    verdict: str  # better, worse, changed, no significant change, or "" (no interval)


@dataclass
class Row:
    suite: str
    metric: str
    description: str
    higher_is_better: bool | None
    cells: list[Cell | None]
    deltas: list[Delta | None]

    @property
    def is_headline(self) -> bool:
        return "/" not in self.metric


def suite_order(sources: list[Source]) -> list[str]:
    order: list[str] = []
    for source in sources:
        order += [name for name in source.suites if name not in order]
    return order


def _cell(metric: dict[str, Any] | None) -> Cell | None:
    if metric is None:
        return None
    return Cell(metric.get("value"), metric.get("low"), metric.get("high"), int(metric.get("n") or 0))


def _verdict(low: float, high: float, higher_is_better: bool | None) -> str:
    if low <= 0.0 <= high:
        return "no significant change"
    if higher_is_better is None:
        return "changed"
    return "better" if (low > 0) == higher_is_better else "worse"


class _Samples:
    """samples.jsonl per (source, suite), read once and indexed by id."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}

    def get(self, index: int, source: Source, suite: str) -> dict[str, dict[str, Any]]:
        key = (index, suite)
        if key not in self._cache:
            self._cache[key] = {str(s.get("id")): s for s in source.samples(suite)}
        return self._cache[key]


def _delta(metric: dict[str, Any], reference: dict[str, Any], mine: dict[str, dict], theirs: dict[str, dict],
           seed: int) -> Delta | None:
    from alignlab.metrics import paired_bootstrap_diff

    if metric.get("value") is None or reference.get("value") is None:
        return None
    spec = metric.get("mean_of")
    if spec and spec == reference.get("mean_of") and mine and theirs:
        field, where = spec["field"], spec.get("where") or {}
        common = [i for i in mine if i in theirs and matches(mine[i], where) and matches(theirs[i], where)
                  and mine[i].get(field) is not None and theirs[i].get(field) is not None]
        if common:
            result = paired_bootstrap_diff([float(mine[i][field]) for i in common],
                                           [float(theirs[i][field]) for i in common], seed=seed)
            return Delta(result.value, result.low, result.high, len(common),
                         _verdict(result.low, result.high, metric.get("higher_is_better")))
    return Delta(metric["value"] - reference["value"], None, None, 0, "")


def compare(sources: list[Source], seed: int = 0) -> dict[str, list[Row]]:
    """suite -> rows, one per metric, with a cell per source and the change from the suite's first source."""
    samples = _Samples()
    tables: dict[str, list[Row]] = {}
    for suite in suite_order(sources):
        holders = [i for i, s in enumerate(sources) if suite in s.suites]
        ref = holders[0]
        names: list[str] = []
        for i in holders:
            names += [m for m in metric_names(sources[i].suites[suite]) if m not in names]
        rows = []
        for name in names:
            metrics = [s.suites.get(suite, {}).get("metrics", {}).get(name) for s in sources]
            first = next(m for m in metrics if m is not None)
            deltas: list[Delta | None] = []
            for i, metric in enumerate(metrics):
                if i == ref or metric is None or metrics[ref] is None:
                    deltas.append(None)
                    continue
                deltas.append(_delta(metric, metrics[ref], samples.get(i, sources[i], suite),
                                     samples.get(ref, sources[ref], suite), seed))
            rows.append(Row(suite, name, first.get("description", ""), first.get("higher_is_better"),
                            [_cell(m) for m in metrics], deltas))
        tables[suite] = rows
    return tables
