"""Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13).

    result = bootstrap_ci(per_example_correct)          # accuracy with a 95% CI
    result.value, result.low, result.high

Resampling is vectorised with numpy and seeded by the caller, so a reported interval is reproducible.
`statistic` takes a 2-D array of resamples (one per row) and returns one number per row; the default is
the mean, which covers accuracies, win rates and refusal rates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np


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
    data = np.asarray(values, dtype=float)
    n = data.shape[0]
    if n == 0:
        return BootstrapResult(float("nan"), float("nan"), float("nan"), confidence, 0)
    value = float(statistic(data[None, :])[0])
    rng = np.random.default_rng(seed)
    estimates = []
    for start in range(0, n_resamples, chunk):  # chunks bound memory at chunk * n indices
        size = min(chunk, n_resamples - start)
        estimates.append(statistic(data[rng.integers(0, n, size=(size, n))]))
    stats = np.concatenate(estimates)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return BootstrapResult(value, float(low), float(high), confidence, n)


def paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], *, n_resamples: int = 2000,
                          confidence: float = 0.95, seed: int = 0) -> BootstrapResult:
    """Mean of a - b over paired examples (same prompts), with the pairs resampled together."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired samples differ in length: {a_arr.shape[0]} vs {b_arr.shape[0]}")
    return bootstrap_ci(a_arr - b_arr, n_resamples=n_resamples, confidence=confidence, seed=seed)
