"""Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13).

    result = bootstrap_ci(per_example_correct)          # accuracy with a 95% CI
    result.value, result.low, result.high

Resampling is vectorised with numpy and seeded by the caller, so a reported interval is reproducible.
`statistic` takes a 2-D array of resamples (one per row) and returns one number per row; the default is
the mean, which covers accuracies, win rates and refusal rates. `bootstrap_columns` is the one resampling loop
underneath: several aligned columns, an optional stratification, and resamples where the statistic is undefined
counted apart (the evaluation suites' intervals, `alignlab.eval.stats`, go through it too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

Columns = Mapping[str, Sequence[float] | np.ndarray]
Statistic = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class BootstrapResult:
    value: float
    low: float
    high: float
    confidence: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _row_mean(samples: np.ndarray) -> np.ndarray:
    return samples.mean(axis=1)


def bootstrap_ci(values: Sequence[float] | np.ndarray, statistic: Callable[[np.ndarray], np.ndarray] = _row_mean,
                 *, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0,
                 chunk: int = 500) -> BootstrapResult:
    """Point estimate on `values` plus a percentile-bootstrap interval; NaN interval when n == 0."""
    value, low, high, n, _ = bootstrap_columns({"x": np.asarray(values, dtype=float)},
                                               lambda columns: statistic(columns["x"]), n_resamples=n_resamples,
                                               confidence=confidence, seed=seed, chunk=chunk)
    return BootstrapResult(value, low, high, confidence, n)


def paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], *, n_resamples: int = 2000,
                          confidence: float = 0.95, seed: int = 0) -> BootstrapResult:
    """Mean of a - b over paired examples (same prompts), with the pairs resampled together."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired samples differ in length: {a_arr.shape[0]} vs {b_arr.shape[0]}")
    return bootstrap_ci(a_arr - b_arr, n_resamples=n_resamples, confidence=confidence, seed=seed)


def bootstrap_columns(columns: Columns, statistic: Statistic, *, n_resamples: int = 1000,
                      confidence: float = 0.95, seed: int = 0, strata: Sequence[Any] | None = None,
                      chunk: int = 500) -> tuple[float, float, float, int, int]:
    """(value, low, high, n, undefined resamples) of `statistic` over aligned columns of length n: the one
    resampling loop behind every interval (`bootstrap_ci` here, `alignlab.eval.stats` for the suites).

    `statistic` gets each column as a 2-D array, one resample per row, and returns one number per row (NaN where
    a resample leaves it undefined: those are counted and left out of the percentiles). With `strata`, each
    stratum is resampled within itself.
    """
    data = {name: np.asarray(values, dtype=float) for name, values in columns.items()}
    n = len(next(iter(data.values()))) if data else 0
    if n == 0:
        return math.nan, math.nan, math.nan, 0, 0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(statistic({name: col[None, :] for name, col in data.items()})[0])
        rng = np.random.default_rng(seed)
        groups = _strata_indices(strata, n)
        estimates = []
        for start in range(0, n_resamples, chunk):
            size = min(chunk, n_resamples - start)
            if groups is None:
                index = rng.integers(0, n, size=(size, n))
            else:
                index = np.concatenate([g[rng.integers(0, len(g), size=(size, len(g)))] for g in groups], axis=1)
            estimates.append(statistic({name: col[index] for name, col in data.items()}))
    stats = np.concatenate(estimates)
    finite = stats[np.isfinite(stats)]
    if finite.size == 0:
        return value, math.nan, math.nan, n, int(stats.size)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return value, float(low), float(high), n, int(stats.size - finite.size)


def _strata_indices(strata: Sequence[Any] | None, n: int) -> list[np.ndarray] | None:
    if strata is None:
        return None
    if len(strata) != n:
        raise ValueError(f"strata has {len(strata)} labels for {n} rows")
    groups: dict[Any, list[int]] = {}
    for index, label in enumerate(strata):
        groups.setdefault(label, []).append(index)
    return [np.asarray(groups[label]) for label in sorted(groups, key=str)]
