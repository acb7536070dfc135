"""Calibration and agreement metrics for reward models: ECE, Brier, reliability bins, Pearson, Spearman, MAE.

    probs = sigmoid(r_chosen - r_rejected)          # the Bradley-Terry probability that chosen wins
    expected_calibration_error(probs)               # top-label ECE, 10 equal-width confidence bins
    brier_score(probs)                              # mean (1 - p)^2: chosen is the observed winner
    spearman(rewards, lengths)                      # rank correlation (ties get average ranks)

Pairwise calibration. A reward model's P(chosen > rejected) = sigma(r_c - r_r) (Bradley & Terry 1952). Every
pair's observed outcome is "chosen won", so the ECE is taken over the *predicted winner* (Guo et al. 2017,
top-label calibration): confidence c_i = max(p_i, 1 - p_i), correct_i = [p_i > 1/2], and with equal-width bins
B_1..B_M over [1/2, 1]

    ECE = sum_m |B_m| / n * | acc(B_m) - conf(B_m) |

A well-calibrated model that says 80% is right 80% of the time. The Brier score (Brier 1950) is the mean
squared error of the probability of the observed outcome, BS = 1/n sum_i (1 - p_i)^2; 0.25 is what a model
that always says 50% gets.

Pure numpy; inputs are sequences or arrays of floats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray


def sigmoid(values: ArrayLike) -> np.ndarray:
    """Numerically stable logistic function."""
    x = np.asarray(values, dtype=float)
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))


def _top_label(probs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float)
    confidence = np.maximum(p, 1.0 - p)
    correct = (p > 0.5).astype(float)
    return confidence, correct


def reliability_bins(probs: ArrayLike, n_bins: int = 10) -> list[dict]:
    """Per confidence bin over [1/2, 1]: `{"low", "high", "count", "confidence", "accuracy"}` (empty bins kept,
    with None for their means) - the table behind a reliability diagram."""
    confidence, correct = _top_label(probs)
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    # Bin m holds (edge_m, edge_m+1]; exactly 0.5 goes into the first bin.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    bins = []
    for m in range(n_bins):
        members = index == m
        count = int(members.sum())
        bins.append({
            "low": float(edges[m]),
            "high": float(edges[m + 1]),
            "count": count,
            "confidence": float(confidence[members].mean()) if count else None,
            "accuracy": float(correct[members].mean()) if count else None,
        })
    return bins


def expected_calibration_error(probs: ArrayLike, n_bins: int = 10) -> float:
    """Top-label ECE of P(chosen wins) (see the module docstring); NaN for no pairs."""
    p = np.asarray(probs, dtype=float)
    if p.size == 0:
        return float("nan")
    total = 0.0
    for row in reliability_bins(p, n_bins):
        if row["count"]:
            total += row["count"] / p.size * abs(row["accuracy"] - row["confidence"])
    return float(total)


def brier_score(probs: ArrayLike) -> float:
    """Mean (1 - p)^2 over pairs, p = P(chosen wins); NaN for no pairs."""
    p = np.asarray(probs, dtype=float)
    return float(np.mean((1.0 - p) ** 2)) if p.size else float("nan")


def pearson(xs: ArrayLike, ys: ArrayLike) -> float | None:
    """Pearson correlation; None with fewer than 3 points or a constant side."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"pearson: lengths differ ({x.size} vs {y.size})")
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def average_ranks(values: ArrayLike) -> np.ndarray:
    """1-based ranks, ties sharing the average of their positions (what Spearman's rho needs)."""
    v = np.asarray(values, dtype=float)
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(v.size, dtype=float)
    sorted_values = v[order]
    start = 0
    for end in range(1, v.size + 1):
        if end == v.size or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2.0  # mean of positions start+1 .. end
            start = end
    return ranks


def spearman(xs: ArrayLike, ys: ArrayLike) -> float | None:
    """Spearman's rank correlation (Pearson on average ranks); None where Pearson would be."""
    return pearson(average_ranks(xs), average_ranks(ys))


def mean_absolute_error(predicted: ArrayLike, target: ArrayLike) -> float:
    p, t = np.asarray(predicted, dtype=float), np.asarray(target, dtype=float)
    return float(np.mean(np.abs(p - t))) if p.size else float("nan")
