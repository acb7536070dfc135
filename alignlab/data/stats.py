"""Small, dependency-free statistics for audits: proportions with confidence intervals, exact binomial
tests, percentiles and bias verdicts.

Pure Python on purpose: an audit of a million rows needs a handful of these numbers, not scipy's import time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Bias levels by distance of a share from 1/2, once the binomial test says it is not chance (p < 0.05).
# A 60/40 split (0.10) lets a model that only learned the shortcut score 60% on held-out pairs.
BIAS_LEVELS = ((0.10, "strong"), (0.05, "moderate"), (0.0, "weak"))
SIGNIFICANCE = 0.05


def wilson_interval(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (default 95%); (0, 1) when there are no trials.

    Wilson (1927); it stays inside [0, 1] and keeps its coverage near 0 and 1 where the normal
    ("Wald") interval does not (Brown, Cai & DasGupta 2001).
    """
    if trials <= 0:
        return 0.0, 1.0
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _lower_tail_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), k <= n/2, summed downwards from the largest term."""
    log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)
    if log_term < -745:  # exp underflows: the whole tail is below the smallest double
        return 0.0
    total, ratio = 1.0, 1.0
    for i in range(k, 0, -1):
        ratio *= i / (n - i + 1)  # term(i - 1) / term(k)
        total += ratio
        if ratio < total * 1e-17:
            break
    return min(1.0, math.exp(log_term) * total)


def binomial_test(successes: int, trials: int) -> float:
    """Exact two-sided binomial test p-value against a share of 1/2.

    The null distribution is symmetric, so the two-sided p-value is twice the smaller tail (capped at 1),
    which equals the "sum of outcomes no more likely than the observed one" definition scipy uses.
    """
    if trials <= 0:
        return 1.0
    low = min(successes, trials - successes)
    if 2 * low == trials:
        return 1.0
    return min(1.0, 2 * _lower_tail_half(low, trials))


def proportion(successes: int, trials: int) -> dict:
    """`{"count", "trials", "share", "ci95": [low, high], "p_value"}` of a share tested against 1/2."""
    low, high = wilson_interval(successes, trials)
    return {
        "count": successes,
        "trials": trials,
        "share": successes / trials if trials else None,
        "ci95": [low, high],
        "p_value": binomial_test(successes, trials),
    }


def bias_level(stats: dict) -> str:
    """"none" when the share is not distinguishable from 1/2 at p < 0.05, else weak / moderate / strong."""
    if stats["share"] is None or stats["p_value"] >= SIGNIFICANCE:
        return "none"
    distance = abs(stats["share"] - 0.5)
    return next(level for threshold, level in BIAS_LEVELS if distance >= threshold)


def percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def interval_text(stats: dict) -> str:
    """"95% CI 60–64%, p < 0.001" for a `proportion` dict."""
    low, high = stats["ci95"]
    p_value = stats["p_value"]
    p_text = "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
    return f"95% CI {100 * low:.0f}–{100 * high:.0f}%, binomial {p_text}"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, linearly interpolated (numpy's default)."""
    if not sorted_values:
        return 0.0
    position = (len(sorted_values) - 1) * q / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


def describe(values: Sequence[float]) -> dict:
    """`{"count", "mean", "median", "p95", "max"}` of a sequence of numbers (empty -> zeros)."""
    ordered = sorted(values)
    count = len(ordered)
    return {
        "count": count,
        "mean": sum(ordered) / count if count else 0.0,
        "median": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "max": ordered[-1] if count else 0,
    }


def clipped_range(values: Sequence[float], clip_percentile: float = 99.0) -> tuple[float, float]:
    """The central `clip_percentile` span of the values: where a histogram's bins should go."""
    ordered = sorted(values)
    if not ordered:
        return 0.0, 1.0
    return percentile(ordered, 100 - clip_percentile), percentile(ordered, clip_percentile)


def histogram(values: Sequence[float], bins: int = 40, value_range: tuple[float, float] | None = None) -> dict:
    """`{"edges": [...], "counts": [...]}` over `value_range` (default: `clipped_range`), so one huge row
    does not squash every other bar into one bin; values beyond the range go into the end bins. Give
    histograms that will be drawn together the same range."""
    ordered = sorted(values)
    if not ordered:
        return {"edges": [], "counts": []}
    low, high = value_range or clipped_range(ordered)
    if high <= low:
        high = low + 1
    width = (high - low) / bins
    counts = [0] * bins
    for value in ordered:
        counts[min(bins - 1, max(0, int((value - low) / width)))] += 1
    return {"edges": [low + width * i for i in range(bins + 1)], "counts": counts}


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation, or None when either side is constant or there are fewer than 3 points."""
    n = len(xs)
    if n < 3:
        return None
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if var_x == 0 or var_y == 0:
        return None
    return cov / math.sqrt(var_x * var_y)
