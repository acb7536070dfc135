"""Turn rankings and ratings into pairwise records (what reward models and DPO train on).

- `expand_ranking_to_pairs`: every two responses with different ranks give one pair, better one chosen;
  ties give none; `margin` is the rank difference (InstructGPT trained its reward model on all such pairs
  of a K-way ranking, Ouyang et al. 2022, section 3.5).
- `ratings_to_pairs`: responses to the same prompt are scored by a weighted sum of their attribute ratings
  (HelpSteer style); two responses whose scores differ by more than `min_gap` give one pair, `margin` is
  the score difference. The default score is helpfulness alone, the choice of the HelpSteer2 paper
  (Wang et al. 2024) for its DPO pairs; pass `weights` to mix attributes (a negative weight penalises one,
  e.g. verbosity).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import combinations
from typing import Any

from alignlab.data.records import record_id

# Annotation fields a derived pair inherits from the record it came from.
_CARRIED = ("source", "category", "annotators", "weight", "agreement", "metadata")


def _carried(record: dict) -> dict[str, Any]:
    return {name: record[name] for name in _CARRIED if record.get(name) is not None}


def expand_ranking_to_pairs(record: dict) -> list[dict]:
    """Pairwise records from one ranking record (1 = best). Ties, and identical texts, give no pair.

    Ids are `<ranking id>-<better index>v<worse index>`, so a pair can be traced to its ranking.
    """
    responses, ranks = record["responses"], record["ranks"]
    parent = record_id(record, "ranking")
    carried = _carried(record)
    pairs = []
    for first, second in combinations(range(len(responses)), 2):
        if ranks[first] == ranks[second] or responses[first] == responses[second]:
            continue
        better, worse = (first, second) if ranks[first] < ranks[second] else (second, first)
        pairs.append({
            "id": f"{parent}-{better}v{worse}",
            "prompt": record["prompt"],
            "chosen": responses[better],
            "rejected": responses[worse],
            "margin": ranks[worse] - ranks[better],
            **carried,
        })
    return pairs


def weighted_score(ratings: dict[str, float], weights: dict[str, float]) -> float | None:
    """Sum of weight x rating over the weighted attributes; None when a weighted attribute is unrated."""
    try:
        return sum(weight * ratings[name] for name, weight in weights.items())
    except KeyError:
        return None


def _prompt_key(prompt: Any) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def ratings_to_pairs(records: Iterable[dict], weights: dict[str, float] | None = None, *,
                     min_gap: float = 0.0, best_vs_worst: bool = False) -> Iterator[dict]:
    """Pairwise records from ratings records, grouped by identical prompt (the group is held in memory).

    Records missing a weighted attribute are skipped. With `best_vs_worst`, each prompt gives at most one
    pair, its highest- against its lowest-scored response; otherwise every pair whose gap exceeds `min_gap`.
    """
    weights = weights or {"helpfulness": 1.0}
    groups: dict[str, list[tuple[float, dict]]] = {}
    for record in records:
        score = weighted_score(record.get("ratings") or {}, weights)
        if score is not None:
            groups.setdefault(_prompt_key(record["prompt"]), []).append((score, record))
    for scored in groups.values():
        candidates = [(max(scored, key=_score), min(scored, key=_score))] if best_vs_worst \
            else combinations(scored, 2)
        for (score_a, a), (score_b, b) in candidates:
            if abs(score_a - score_b) <= min_gap or a["response"] == b["response"]:
                continue
            (high, better), (low, worse) = ((score_a, a), (score_b, b)) if score_a > score_b \
                else ((score_b, b), (score_a, a))
            yield {
                "id": f"{record_id(better, 'ratings')}-v-{record_id(worse, 'ratings')}",
                "prompt": better["prompt"],
                "chosen": better["response"],
                "rejected": worse["response"],
                "margin": round(high - low, 6),
                **_carried(better),
            }


def _score(item: tuple[float, dict]) -> float:
    return item[0]
