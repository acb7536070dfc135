"""Inter-annotator agreement: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha (nominal, ordinal, interval).

    cohen_kappa(["a", "b", "a"], ["a", "b", "b"])               # two raters, same items
    fleiss_kappa(category_counts)                               # items x categories, raters per item
    krippendorff_alpha(reliability_data, level="ordinal")      # raters x items, NaN where not rated

Every statistic is 1 for perfect agreement, 0 for agreement at chance level and negative below it; NaN when
it is undefined (fewer than two paired judgements, or only one category ever used). Pure numpy.

- Cohen (1960), "A coefficient of agreement for nominal scales": kappa = (p_o - p_e) / (1 - p_e), with the
  weighted form of Cohen (1968) for ordinal labels (linear or quadratic disagreement weights).
- Fleiss (1971), "Measuring nominal scale agreement among many raters": P_i = (sum_j n_ij^2 - n_i) /
  (n_i (n_i - 1)), kappa = (mean P_i - sum_j p_j^2) / (1 - sum_j p_j^2). Fleiss assumes the same number of
  raters n on every item; with overlap-based annotation that varies, so n_i is per item here and p_j pools
  all judgements (the usual generalisation; identical to Fleiss when n_i is constant). Items with fewer than
  two ratings carry no agreement information and are skipped.
- Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": alpha = 1 - D_o / D_e from the
  coincidence matrix o_ck = sum_u (pairs of values c, k in unit u) / (m_u - 1), with the metric
  differences delta^2 of the nominal, ordinal and interval levels. Handles missing ratings and any number of
  raters; units rated once are not pairable and are dropped.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np

Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval")


def _codes(values: Sequence[Hashable], labels: Sequence[Hashable] | None) -> tuple[np.ndarray, list]:
    """Map labels to 0..K-1 codes in `labels` order (or sorted order of the labels seen)."""
    if labels is None:
        labels = sorted(set(values), key=lambda v: (str(type(v)), v))
    index = {label: i for i, label in enumerate(labels)}
    unknown = [v for v in values if v not in index]
    if unknown:
        raise ValueError(f"label {unknown[0]!r} is not one of {list(labels)}")
    return np.array([index[v] for v in values], dtype=int), list(labels)


def cohen_kappa(rater_a: Sequence[Hashable], rater_b: Sequence[Hashable], *,
                labels: Sequence[Hashable] | None = None,
                weights: Literal["linear", "quadratic"] | None = None) -> float:
    """Cohen's kappa of two raters who labelled the same items (item i: `rater_a[i]` vs `rater_b[i]`).

    `weights` gives Cohen's weighted kappa for ordered labels (`labels` then fixes the order): disagreement
    |i - j| (linear) or (i - j)^2 (quadratic) between label positions i and j.
    """
    if len(rater_a) != len(rater_b):
        raise ValueError(f"raters labelled different numbers of items: {len(rater_a)} vs {len(rater_b)}")
    if len(rater_a) == 0:
        return float("nan")
    codes, labels = _codes(list(rater_a) + list(rater_b), labels)
    a, b = codes[: len(rater_a)], codes[len(rater_a):]
    k = len(labels)
    observed = np.zeros((k, k))
    np.add.at(observed, (a, b), 1.0)
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))  # (K, K) product of the marginals
    positions = np.arange(k)
    if weights is None:
        disagreement = (positions[:, None] != positions[None, :]).astype(float)
    elif weights == "linear":
        disagreement = np.abs(positions[:, None] - positions[None, :]).astype(float)
    elif weights == "quadratic":
        disagreement = ((positions[:, None] - positions[None, :]) ** 2).astype(float)
    else:
        raise ValueError(f"unknown weights {weights!r}; use None, 'linear' or 'quadratic'")
    expected_disagreement = float((disagreement * expected).sum())
    if expected_disagreement == 0.0:
        return float("nan")  # one label used by both raters: chance agreement is already perfect
    return 1.0 - float((disagreement * observed).sum()) / expected_disagreement


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[float]]) -> float:
    """Fleiss' kappa from an (items, categories) matrix: counts[i, j] = raters who put item i in category j."""
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2:
        raise ValueError(f"expected an (items, categories) matrix, got shape {table.shape}")
    raters = table.sum(axis=1)  # (I,) n_i
    table, raters = table[raters >= 2], raters[raters >= 2]
    if table.shape[0] == 0:
        return float("nan")
    per_item = ((table ** 2).sum(axis=1) - raters) / (raters * (raters - 1))  # (I,) P_i
    shares = table.sum(axis=0) / raters.sum()  # (K,) p_j
    chance = float((shares ** 2).sum())
    if chance >= 1.0:
        return float("nan")
    return (float(per_item.mean()) - chance) / (1.0 - chance)


def counts_from_labels(item_labels: Sequence[Sequence[Hashable]],
                       labels: Sequence[Hashable] | None = None) -> tuple[np.ndarray, list]:
    """The (items, categories) count matrix of `fleiss_kappa` from each item's list of labels."""
    flat = [label for item in item_labels for label in item]
    _, labels = _codes(flat, labels)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(item_labels), len(labels)))
    for row, item in enumerate(item_labels):
        for label in item:
            table[row, index[label]] += 1
    return table, labels


def _delta_squared(values: np.ndarray, totals: np.ndarray, level: str) -> np.ndarray:
    """Metric differences delta^2(c, k) between the distinct values (Krippendorff 2011, section E)."""
    if level == "nominal":
        return (values[:, None] != values[None, :]).astype(float)
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ordinal":
        # delta(c, k) = sum of n_g for g from c to k, minus (n_c + n_k) / 2, squared.
        cumulative = np.concatenate([[0.0], np.cumsum(totals)])
        low = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        high = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        spans = cumulative[high + 1] - cumulative[low]
        return (spans - (totals[:, None] + totals[None, :]) / 2.0) ** 2
    raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")


def krippendorff_alpha(reliability_data: np.ndarray | Sequence[Sequence[float]], level: Level = "nominal") -> float:
    """Krippendorff's alpha from a (raters, units) matrix of numeric values, NaN where a rater gave none.

    Nominal labels must be coded as numbers first (e.g. with `codes_for`); ordinal values only need to be
    ordered, interval values are used as given.
    """
    data = np.asarray(reliability_data, dtype=float)
    if data.ndim != 2:
        raise ValueError(f"expected a (raters, units) matrix, got shape {data.shape}")
    pairable = (~np.isnan(data)).sum(axis=0) >= 2  # (U,) units with at least two values
    data = data[:, pairable]
    if data.shape[1] == 0:
        return float("nan")
    values = np.unique(data[~np.isnan(data)])  # (V,) distinct values, sorted
    if len(values) < 2:
        return float("nan")  # nobody ever disagreed and nobody could have: alpha is undefined
    # per-unit counts of each value: (U, V)
    unit_counts = np.stack([(data == value).sum(axis=0) for value in values], axis=1).astype(float)
    m_u = unit_counts.sum(axis=1)  # (U,) values in each unit
    # coincidences o_ck = sum_u n_uc (n_uk - [c == k]) / (m_u - 1)
    weighted = unit_counts / (m_u - 1.0)[:, None]
    coincidence = weighted.T @ unit_counts - np.diag(weighted.sum(axis=0))  # (V, V)
    totals = coincidence.sum(axis=1)  # (V,) n_c
    n = totals.sum()
    delta = _delta_squared(values, totals, level)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(totals, totals) * delta).sum())
    if expected == 0.0:
        return float("nan")
    return 1.0 - (n - 1.0) * observed / expected


def codes_for(labels_by_rater: Sequence[Sequence[Hashable | None]],
              order: Sequence[Hashable] | None = None) -> np.ndarray:
    """A (raters, units) float matrix for `krippendorff_alpha` from labels, None where missing.

    `order` gives label positions (needed for ordinal data whose labels are not numbers).
    """
    flat = [label for row in labels_by_rater for label in row if label is not None]
    _, labels = _codes(flat, order)
    index = {label: float(i) for i, label in enumerate(labels)}
    return np.array([[np.nan if label is None else index[label] for label in row] for row in labels_by_rater])
