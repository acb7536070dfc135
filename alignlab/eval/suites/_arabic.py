"""What the Arabic suites share: proportions with Wilson intervals, Newcombe intervals for gaps between two
independent proportions, paired gaps, and the largest-gap headline.

- `proportion(successes, trials)`: Wilson (1927) score interval, as a metric dict.
- `difference(a, b)`: a - b for two independent proportions with Newcombe's (1998) hybrid score interval
  (method 10: the Wilson limits of each side combined in quadrature); it keeps its coverage for small groups
  and proportions near 0 or 1, where a Wald interval does not.
- `paired_gap(stats, samples, field, by, a, b)`: mean of `field` in group `a` minus group `b` over the pairs
  holding both (the same prompt in two languages), with a paired bootstrap: a pair is resampled whole.
- `largest(gaps)`: the gap of largest magnitude, as the headline; its description names the group.
- `judge_metrics(samples)`: the measured accuracy on the card of the judge named in the samples, as metrics
  (`judge/accuracy`, and every other number the card measured), so a gap is read next to the judge's error.

Every function takes the per-example samples (or counts from them) only, so each number can be recomputed
from `samples.jsonl`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

from alignlab.data.stats import wilson_interval


def z_value(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def proportion(successes: int, trials: int, *, confidence: float = 0.95, description: str,
               higher_is_better: bool | None = True) -> dict[str, Any]:
    """successes / trials with its Wilson interval (value None when there are no trials)."""
    if trials <= 0:
        return {"value": None, "low": None, "high": None, "n": 0, "confidence": confidence,
                "description": description, "higher_is_better": higher_is_better, "interval": "wilson"}
    low, high = wilson_interval(successes, trials, z_value(confidence))
    low, high = (0.0 if successes == 0 else low), (1.0 if successes == trials else high)  # exact at the ends
    return {"value": successes / trials, "low": low, "high": high, "n": trials, "confidence": confidence,
            "description": description, "higher_is_better": higher_is_better, "interval": "wilson",
            "successes": successes}


def difference(a: Mapping[str, Any], b: Mapping[str, Any], *, description: str,
               higher_is_better: bool | None = None) -> dict[str, Any]:
    """a - b of two `proportion` metrics with Newcombe's hybrid score interval (method 10)."""
    confidence = a["confidence"]
    if a["value"] is None or b["value"] is None:
        return {"value": None, "low": None, "high": None, "n": min(a["n"], b["n"]), "confidence": confidence,
                "description": description, "higher_is_better": higher_is_better, "interval": "newcombe"}
    p1, l1, u1, p2, l2, u2 = a["value"], a["low"], a["high"], b["value"], b["low"], b["high"]
    gap = p1 - p2
    return {"value": gap, "low": gap - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            "high": gap + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), "n": a["n"] + b["n"],
            "confidence": confidence, "description": description, "higher_is_better": higher_is_better,
            "interval": "newcombe"}


def grouped_proportions(samples: Sequence[Mapping[str, Any]], field: str, by: str, *, confidence: float,
                        description: str, higher_is_better: bool | None = True,
                        where: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """group -> proportion of samples whose `field` is true, one entry per value of `by` (string-valued).

    Each metric names the samples it is the mean of (`mean_of`, as `Stats.mean` does), so a report comparing
    two runs can compute a paired difference from their samples.jsonl."""
    out = {}
    for group in sorted({str(s[by]) for s in samples}):
        members = [s for s in samples if str(s[by]) == group]
        metric = proportion(sum(bool(s[field]) for s in members), len(members), confidence=confidence,
                            description=f"{description} ({by} = {group})", higher_is_better=higher_is_better)
        out[group] = metric | {"mean_of": {"field": field, "where": {**dict(where or {}), by: group}}}
    return out


def paired_gap(stats: Any, samples: Sequence[Mapping[str, Any]], field: str, *, pair: str, by: str, a: str,
               b: str, description: str) -> dict[str, Any]:
    """mean(field | by=a) - mean(field | by=b) over pairs holding both, with a paired bootstrap."""
    import numpy as np

    by_pair: dict[str, dict[str, float]] = {}
    for s in samples:
        by_pair.setdefault(str(s[pair]), {})[str(s[by])] = float(s[field])
    rows = [v for _, v in sorted(by_pair.items()) if a in v and b in v]
    columns = {"a": [r[a] for r in rows], "b": [r[b] for r in rows]}

    def statistic(c: dict[str, np.ndarray]) -> np.ndarray:
        return c["a"].mean(axis=1) - c["b"].mean(axis=1)

    metric = stats.statistic(columns, statistic, description=description)
    return metric | {"interval": "paired bootstrap"}


def largest(gaps: Mapping[str, Mapping[str, Any]], *, what: str) -> dict[str, Any]:
    """The gap of largest magnitude among `gaps` (name -> metric); its description says which one it is."""
    defined = {name: g for name, g in gaps.items() if g.get("value") is not None}
    if not defined:
        return {"value": None, "low": None, "high": None, "n": 0, "confidence": None,
                "description": f"largest {what}: no group had data", "higher_is_better": None}
    name = max(sorted(defined), key=lambda k: abs(defined[k]["value"]))
    return dict(defined[name]) | {"description": f"largest {what}: {name} ({defined[name]['description']})",
                                  "group": name}


def judge_metrics(samples: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """`judge/<measure>` for every number in the card of the judge the samples name (read from its shipped
    artifact, so it is the same on every run); nothing when the samples name no judge."""
    names = sorted({str(s["judge"]) for s in samples if s.get("judge")})
    if not names:
        return {}
    from alignlab.eval.judges import get_judge

    card = get_judge(names[0]).card
    measured = card.get("measured", {})
    where = str(measured.get("where", "not measured"))
    flat: dict[str, Any] = {}
    for key, value in measured.items():  # one level of nesting, e.g. {"arabic": {"auroc": 0.8}} -> arabic/auroc
        if isinstance(value, Mapping):
            flat |= {f"{key}/{inner}": v for inner, v in value.items()}
        else:
            flat[key] = value
    out = {}
    for key, value in sorted(flat.items()):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"judge/{key}"] = {"value": float(value), "low": None, "high": None, "n": measured.get("n"),
                                   "confidence": None, "higher_is_better": True, "judge": card.get("name"),
                                   "description": f"judge {card.get('name')!r}: {key}, measured on {where}"}
    if "judge/accuracy" not in out:
        out["judge/accuracy"] = {"value": None, "low": None, "high": None, "n": None, "confidence": None,
                                 "higher_is_better": True, "judge": card.get("name"),
                                 "description": f"judge {card.get('name')!r}: accuracy not measured ({where})"}
    return out
