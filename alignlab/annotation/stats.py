"""Agreement and annotator statistics of pulled annotations, and the human win rate of a blind comparison.

    dataset_agreement(template, dataset, judged)   # per measure: Krippendorff's alpha by level, Fleiss'
                                                   # kappa, Cohen's kappa (mean over annotator pairs), raw
                                                   # pairwise agreement, units and annotators counted
    annotator_stats(template, dataset, judged)     # per annotator: submitted, discarded, agreement with
                                                   # the majority of the others, position preference
    human_win_rates(judged, ...)                   # pairwise template with model names: win rate of one
                                                   # model against the other, ties count half, bootstrap CI

"Cohen's kappa" is defined for two raters; with more, the mean over every pair of annotators who share at
least two items is reported (Light's kappa, Light 1971), with the number of pairs. Agreement with the
majority leaves the annotator out (the majority of the *other* answers on the item; the rounded median for
ordinal values), so two annotators each get their agreement with the other.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

from alignlab.annotation.templates import Measure, Template
from alignlab.annotation.templates.base import Judged, majority
from alignlab.metrics.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def merged_units(template: Template, judged: Sequence[Judged]) -> dict[str, dict[Any, dict[str, Any]]]:
    """measure -> unit -> {annotator: value}, over every pulled record."""
    merged: dict[str, dict[Any, dict[str, Any]]] = {}
    for record in judged:
        for measure, units in template.units(record).items():
            merged.setdefault(measure, {}).update(units)
    return merged


def measure_agreement(measure: Measure, units: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """Every agreement statistic of one measure (None where undefined)."""
    shared = {unit: votes for unit, votes in units.items() if len(votes) >= 2}
    raters = sorted({user for votes in units.values() for user in votes})
    labels = list(measure.labels) or sorted({v for votes in units.values() for v in votes.values()}, key=str)
    extra = sorted({v for votes in units.values() for v in votes.values()} - set(labels), key=str)
    labels += extra
    position = {label: float(i) for i, label in enumerate(labels)}
    result: dict[str, Any] = {"units": len(units), "units_with_overlap": len(shared), "annotators": len(raters)}
    for level in measure.levels:
        if level == "interval":
            matrix = [[float(units[u][r]) if r in units[u] else np.nan for u in shared] for r in raters]
        else:
            matrix = [[position[units[u][r]] if r in units[u] else np.nan for u in shared] for r in raters]
        result[f"krippendorff_alpha_{level}"] = _finite(krippendorff_alpha(matrix, level)) if shared else None
    counts = np.zeros((len(shared), len(labels)))
    for row, votes in enumerate(shared.values()):
        for value in votes.values():
            counts[row, int(position[value])] += 1
    result["fleiss_kappa"] = _finite(fleiss_kappa(counts)) if shared else None
    kappas = []
    for first, second in combinations(raters, 2):
        common = [votes for votes in shared.values() if first in votes and second in votes]
        if len(common) >= 2:
            kappa = cohen_kappa([v[first] for v in common], [v[second] for v in common], labels=labels)
            if not math.isnan(kappa):
                kappas.append(kappa)
    result["cohen_kappa"] = _finite(statistics.fmean(kappas)) if kappas else None
    result["cohen_kappa_rater_pairs"] = len(kappas)
    agreeing = [sum(a == b for a, b in combinations(v.values(), 2)) / math.comb(len(v), 2) for v in shared.values()]
    result["pairwise_agreement"] = _finite(statistics.fmean(agreeing)) if agreeing else None
    return result


def dataset_agreement(template: Template, dataset, judged: Sequence[Judged]) -> dict[str, dict[str, Any]]:
    units = merged_units(template, judged)
    return {m.name: measure_agreement(m, units.get(m.name, {})) for m in template.measures(dataset)
            if units.get(m.name)}


def _others_consensus(measure: Measure, others: list[Any]) -> Any:
    if "nominal" in measure.levels:
        return majority(others)[0]
    return round(statistics.median(others))


def annotator_stats(template: Template, dataset, judged: Sequence[Judged]) -> dict[str, dict[str, Any]]:
    """Per annotator: counts, agreement with the others' majority, and (pairwise) position preference."""
    stats: dict[str, dict[str, Any]] = {}
    for record in judged:
        for annotation in record.annotations:
            entry = stats.setdefault(annotation.user, {"submitted": 0, "discarded": 0})
            entry[annotation.status] = entry.get(annotation.status, 0) + 1
    units = merged_units(template, judged)
    hits: dict[str, list[bool]] = {}
    for measure in template.measures(dataset):
        for votes in units.get(measure.name, {}).values():
            for user, value in votes.items():
                others = [v for u, v in votes.items() if u != user]
                consensus = _others_consensus(measure, others) if others else None
                if consensus is not None:
                    hits.setdefault(user, []).append(value == consensus)
    for user, entry in stats.items():
        marks = hits.get(user, [])
        entry["agreement_with_majority"] = _finite(statistics.fmean(marks)) if marks else None
        entry["compared"] = len(marks)
    positions = getattr(template, "positions", None)
    if positions is not None:
        chosen: dict[str, list[str]] = {}
        for record in judged:
            for user, position in positions(record).items():
                chosen.setdefault(user, []).append(position)
        for user, picks in chosen.items():
            decided = [p for p in picks if p != "tie"]
            stats.setdefault(user, {})["position_a_share"] = (
                _finite(decided.count("a") / len(decided)) if decided else None)
            stats[user]["ties"] = picks.count("tie")
    return dict(sorted(stats.items()))


def human_win_rates(template: Template, judged: Sequence[Judged], *, resamples: int = 2000,
                    seed: int = 0) -> list[dict[str, Any]]:
    """For every pair of models compared in a pairwise dataset: the first model's win rate (ties = 1/2)."""
    from alignlab.metrics.bootstrap import bootstrap_ci

    votes_of = getattr(template, "votes", None)
    if votes_of is None or template.output_format != "pairwise":  # pairwise and arabic_pairwise
        return []
    scores: dict[tuple[str, str], list[float]] = {}
    for record in judged:
        models = record.info.get("models") or []
        votes = votes_of(record)
        if len(models) != 2 or None in models or models[0] == models[1] or not votes:
            continue
        first = 0 if str(models[0]) <= str(models[1]) else 1
        pair = (str(models[first]), str(models[1 - first]))
        points = [0.5 if v == "tie" else float(int(v) == first) for v in votes.values()]
        scores.setdefault(pair, []).append(statistics.fmean(points))
    out = []
    for (model, opponent), values in sorted(scores.items()):
        ci = bootstrap_ci(values, n_resamples=resamples, seed=seed)
        out.append({"model": model, "opponent": opponent, "win_rate": round(ci.value, 4),
                    "ci_low": round(ci.low, 4), "ci_high": round(ci.high, 4), "confidence": ci.confidence,
                    "records": len(values), "wins": sum(v > 0.5 for v in values),
                    "ties": sum(v == 0.5 for v in values), "losses": sum(v < 0.5 for v in values)})
    return out
