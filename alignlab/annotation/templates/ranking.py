"""Ranking of N responses (1 = best, ties allowed), shown in an order drawn per record.

Every record of a ranking dataset has the same number of responses (Argilla's ranking question has fixed
options): the first item decides N, `dataset.max_responses` caps it. The pull averages each response's rank
over annotators and writes a ranking record whose `ranks` are the dense ranks of those means (equal means
tie). `agreement` is, over all pairs of responses, the mean share of annotators who order the pair the way
the majority does. Ranks are read back from the raw response values (`{"value", "rank"}` pairs): the
argilla SDK drops them when reading a ranking response.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from alignlab.annotation.templates import Measure, Template
from alignlab.annotation.templates.base import (
    HIDDEN_KEY,
    Item,
    Judged,
    display_order,
    hidden_info,
    judged_texts,
    originals,
    ranking_question,
    record_agreement,
    render,
    suggestion,
    terms_property,
    text_field,
    text_question,
    visible_metadata,
    with_context,
)
from alignlab.errors import DataError

GUIDELINES = """\
Read the prompt and every response. Rank the responses from best (1) to worst by how **helpful, honest and
harmless** they are. Give two responses the same rank only when you cannot tell them apart."""


def _slot(position: int) -> str:
    return f"response_{position + 1}"


class RankingTemplate(Template):
    name = "ranking"
    inputs = ("ranking", "candidates", "pairwise")
    output_format = "ranking"

    def check_input(self, item: Item, where: str) -> None:
        if len(item.responses) < 2:
            raise DataError(f"{where}: responses: ranking needs at least 2 responses, got {len(item.responses)}")

    def settings(self, dataset, items: list[Item]) -> dict[str, Any]:
        n = len(items[0].responses) if items else 2
        if n > dataset.max_responses:
            raise DataError(f"the ranking template shows at most dataset.max_responses={dataset.max_responses} "
                            f"responses; the input has {n}")
        questions = [ranking_question("ranking", "Rank the responses (1 = best)",
                                      {_slot(p): f"Response {p + 1}" for p in range(n)})]
        if dataset.rationale:
            questions.append(text_question("rationale", "Why? (optional)"))
        return {
            "fields": [text_field("prompt", "Prompt")] + [text_field(_slot(p), f"Response {p + 1}") for p in range(n)],
            "questions": questions,
            "metadata": [terms_property("source"), terms_property("category")],
            "guidelines": dataset.guidelines or GUIDELINES,
        }

    def records(self, item: Item, dataset, seed: int) -> list[dict[str, Any]]:
        n = len(item.responses)
        order = display_order(item.id, n, seed)
        metadata = {**visible_metadata(item), HIDDEN_KEY: hidden_info(item, order, **originals(item))}
        fields = {"prompt": render(item.prompt)}
        fields.update({_slot(p): render(item.responses[original]) for p, original in enumerate(order)})
        payload = {"external_id": item.id, "fields": fields, "metadata": metadata, "suggestions": []}
        scores = [item.scores[original] for original in order]
        if dataset.suggestions and None not in scores:
            ranked = sorted(range(n), key=lambda p: -float(scores[p]))
            value = [{"value": _slot(p), "rank": rank + 1} for rank, p in enumerate(ranked)]
            payload["suggestions"].append(suggestion("ranking", value, agent="reward-model"))
        return [payload]

    def measures(self, dataset) -> list[Measure]:
        return [Measure("rank", ("ordinal",), tuple(range(1, dataset.max_responses + 1)))]

    def ranks(self, judged: Judged) -> dict[str, dict[int, int]]:
        """annotator -> {original response index: rank}."""
        order = judged.order
        out: dict[str, dict[int, int]] = {}
        for annotation in judged.submitted:
            value = (annotation.values.get("ranking") or {}).get("value") or []
            ranks = {}
            for entry in value:
                slot, rank = entry.get("value", ""), entry.get("rank")
                position = int(slot.rsplit("_", 1)[-1]) - 1 if slot.startswith("response_") else -1
                if 0 <= position < len(order) and rank is not None:
                    ranks[order[position]] = int(rank)
            if ranks:
                out[annotation.user] = ranks
        return out

    def units(self, judged: Judged) -> dict[str, dict[Any, dict[str, Any]]]:
        by_response: dict[Any, dict[str, Any]] = {}
        for user, ranks in self.ranks(judged).items():
            for index, rank in ranks.items():
                by_response.setdefault(f"{judged.external_id}#{index}", {})[user] = rank
        return {"rank": by_response}

    def output(self, judged: Judged, dataset) -> dict[str, Any] | None:
        ranks = self.ranks(judged)
        if not ranks:
            return None
        prompt, responses = judged_texts(judged, tuple(_slot(p) for p in range(len(judged.order))))
        n = len(responses)
        means = [sum(r.get(i, n) for r in ranks.values()) / len(ranks) for i in range(n)]
        distinct = sorted(set(means))
        record = {
            "id": judged.external_id, "prompt": prompt, "responses": responses,
            "ranks": [distinct.index(mean) + 1 for mean in means],
            "agreement": record_agreement(_pair_agreement(ranks, n), len(ranks)), "annotators": sorted(ranks),
            "metadata": {"mean_ranks": [round(mean, 4) for mean in means], "argilla_id": judged.external_id},
        }
        models = judged.info.get("models") or []
        if any(models):
            record["metadata"]["models"] = models
        return with_context(record, judged)


def _pair_agreement(ranks: dict[str, dict[int, int]], n: int) -> float:
    """Mean over response pairs of the share of annotators ordering the pair as the majority does."""
    shares = []
    for i, j in combinations(range(n), 2):
        signs = [(r[i] > r[j]) - (r[i] < r[j]) for r in ranks.values() if i in r and j in r]
        if signs:
            shares.append(max(signs.count(-1), signs.count(0), signs.count(1)) / len(signs))
    return sum(shares) / len(shares) if shares else 1.0
