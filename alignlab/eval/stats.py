"""Metrics with confidence intervals, computed from per-example samples only: Wilson intervals for proportions,
Newcombe's interval for paired differences of proportions, the percentile bootstrap where no closed form fits.

    stats = Stats(n_resamples=1000, confidence=0.95, seed=0)
    stats.mean(samples, "correct", where={"context_condition": "ambig"}, description="accuracy, ambiguous")
    stats.statistic({"num": [...], "den": [...]}, lambda c: c["num"].sum(1) / c["den"].sum(1), description=...)

A metric is a plain dict (what `metrics.json` holds):
`{"value", "low", "high", "n", "confidence", "description", "higher_is_better"}` and, for a mean of one
sample field, `"mean_of": {"field", "where"}` so a report can recompute paired differences between two runs
from their `samples.jsonl`. Every number is a function of the samples: recompute it from the file.

A proportion (the mean of a field whose values are all 0/1 or booleans) gets a Wilson score interval (Wilson
1927; `"interval": "wilson"`): it never collapses to [x, x] for n > 0 (0 of 50 gives about [0, 0.07] where a
percentile bootstrap gives [0, 0]) and keeps its coverage on groups of one example. A paired difference of two
proportions (the same prompts in two languages) gets Newcombe's hybrid score interval (Newcombe 1998, method 10;
`"interval": "newcombe"`). Every other statistic keeps the bootstrap (`"interval": "bootstrap"`).

Resampling is `alignlab.metrics.bootstrap.bootstrap_columns`, the loop behind `bootstrap_ci` too (same seed, same
index draws): several aligned columns, resampling within strata, and statistics that are undefined on some
resamples (e.g. a ratio whose denominator is empty there): those resamples are left out of the quantiles and
counted in `undefined_resamples`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignlab.metrics.bootstrap import Columns, Statistic, bootstrap_columns


def matches(sample: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    """True when every `where` field equals the sample's (a list or tuple value means "any of these")."""
    for field, wanted in (where or {}).items():
        value = sample.get(field)
        if isinstance(wanted, (list, tuple)):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def _clean(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval; (0, 1) for no trials."""
    from alignlab.data.stats import wilson_interval

    return wilson_interval(successes, trials, z=_z(confidence))


def newcombe_paired(first: Sequence[bool], second: Sequence[bool], confidence: float = 0.95) -> tuple[float, float]:
    """Interval for mean(first) - mean(second) over paired 0/1 outcomes (Newcombe 1998, method 10)."""
    n = len(first)
    a = sum(1 for x, y in zip(first, second, strict=True) if x and y)
    b = sum(1 for x, y in zip(first, second, strict=True) if x and not y)
    c = sum(1 for x, y in zip(first, second, strict=True) if y and not x)
    d = n - a - b - c
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, confidence)
    l2, u2 = wilson(a + c, n, confidence)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins else 0.0
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    epsilon = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, p1 - p2 - delta), min(1.0, p1 - p2 + epsilon)


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def row_mean(columns: dict[str, np.ndarray]) -> np.ndarray:
    return columns["x"].mean(axis=1)


def ratio(numerator: str, denominator: str, scale: float = 1.0, offset: float = 0.0) -> Statistic:
    """scale * sum(numerator) / sum(denominator) + offset, NaN where the denominator sums to 0."""

    def statistic(columns: dict[str, np.ndarray]) -> np.ndarray:
        den = columns[denominator].sum(axis=1)
        return np.where(den > 0, scale * columns[numerator].sum(axis=1) / np.where(den > 0, den, 1) + offset, np.nan)

    return statistic


@dataclass(frozen=True)
class Stats:
    """Bootstrap settings shared by every metric of a run (taken from the eval config)."""

    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0

    def statistic(self, columns: Columns, statistic: Statistic, *, description: str,
                  higher_is_better: bool | None = None, strata: Sequence[Any] | None = None,
                  mean_of: dict[str, Any] | None = None) -> dict[str, Any]:
        value, low, high, n, undefined = bootstrap_columns(
            columns, statistic, n_resamples=self.n_resamples, confidence=self.confidence, seed=self.seed,
            strata=strata,
        )
        metric: dict[str, Any] = {
            "value": _clean(value), "low": _clean(low), "high": _clean(high), "n": n,
            "confidence": self.confidence, "description": description, "higher_is_better": higher_is_better,
            "interval": "bootstrap",
        }
        if mean_of is not None:
            metric["mean_of"] = mean_of
        if undefined:
            metric["undefined_resamples"] = undefined
        return metric

    def mean(self, samples: Iterable[Mapping[str, Any]], field: str, *, where: Mapping[str, Any] | None = None,
             description: str, higher_is_better: bool | None = None) -> dict[str, Any]:
        """Mean of a numeric (or boolean) sample field over the samples matching `where`; None values skip."""
        values = [float(s[field]) for s in samples if matches(s, where) and s.get(field) is not None]
        mean_of = {"field": field, "where": dict(where or {})}
        if values and is_binary(values):
            return self.proportion(int(sum(values)), len(values), description=description,
                                   higher_is_better=higher_is_better, mean_of=mean_of)
        return self.statistic({"x": values}, row_mean, description=description, higher_is_better=higher_is_better,
                              mean_of=mean_of)

    def proportion(self, successes: int, trials: int, *, description: str, higher_is_better: bool | None = None,
                   mean_of: dict[str, Any] | None = None) -> dict[str, Any]:
        """successes / trials with a Wilson score interval (value None for no trials)."""
        low, high = wilson(successes, trials, self.confidence) if trials else (None, None)
        metric: dict[str, Any] = {
            "value": successes / trials if trials else None, "low": low, "high": high, "n": trials,
            "confidence": self.confidence, "description": description, "higher_is_better": higher_is_better,
            "interval": "wilson",
        }
        if mean_of is not None:
            metric["mean_of"] = mean_of
        return metric

    def paired_difference(self, first: Sequence[bool], second: Sequence[bool], *, description: str,
                          higher_is_better: bool | None = None) -> dict[str, Any]:
        """mean(first) - mean(second) over pairs, with Newcombe's paired score interval."""
        n = len(first)
        low, high = newcombe_paired(first, second, self.confidence) if n else (None, None)
        value = (sum(map(bool, first)) - sum(map(bool, second))) / n if n else None
        return {"value": value, "low": low, "high": high, "n": n, "confidence": self.confidence,
                "description": description, "higher_is_better": higher_is_better, "interval": "newcombe"}

    def grouped_means(self, samples: Sequence[Mapping[str, Any]], field: str, by: str, *, prefix: str,
                      description: str, higher_is_better: bool | None = None,
                      where: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """`{prefix}/{group}` -> mean of `field` within each value of the sample field `by`."""
        groups = sorted({str(s.get(by)) for s in samples if matches(s, where) and s.get(by) is not None})
        return {
            f"{prefix}/{group}": self.mean(samples, field, where={**dict(where or {}), by: group},
                                           description=f"{description} ({by} = {group})",
                                           higher_is_better=higher_is_better)
            for group in groups
        }
