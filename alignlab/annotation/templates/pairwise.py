"""Pairwise preference: which of two responses is better, or a tie; doubles as blind human evaluation.

The two responses are shown as A and B in an order drawn per record (`display_order`), recorded in the hidden
metadata, and undone on pull: a vote is stored as "0" (the input's first response preferred), "1" (the
second) or "tie". The pull writes a pairwise record when a strict majority prefers one response; its
`agreement` is the share of annotators who voted for the winner, `metadata.soft_label` counts a tie as half a
vote for each side, and `metadata.chosen_position` ("a"/"b") is where the winner was shown (the data audit's
position-bias check reads it).

Blind evaluation of two models: give each response its model (`models` in the input). Model names go into
metadata properties hidden from annotators (unless `dataset.show_models`), and the pull reports the human
win rate with a bootstrap interval (see `alignlab.annotation.stats`).
"""

from __future__ import annotations

from typing import Any

from alignlab.annotation.templates import Measure, Template
from alignlab.annotation.templates.base import (
    HIDDEN_KEY,
    Item,
    Judged,
    display_order,
    hidden_info,
    judged_texts,
    label_question,
    majority,
    originals,
    record_agreement,
    render,
    sigmoid,
    suggestion,
    terms_property,
    text_field,
    text_question,
    visible_metadata,
    with_context,
)
from alignlab.errors import DataError

CHOICES = {"a": "A is better", "b": "B is better", "tie": "Tie (equally good or equally bad)"}
GUIDELINES = """\
Read the prompt, then both responses. Choose the response that is more **helpful, honest and harmless**.
Pick *Tie* only when neither is better. Ignore which one is shown first, and their length as such.
Add a short rationale when the choice is not obvious."""
VOTE_LABELS = ("0", "tie", "1")  # ordered: first preferred < tie < second preferred


class PairwiseTemplate(Template):
    name = "pairwise"
    inputs = ("pairwise", "candidates", "ranking")
    output_format = "pairwise"

    def check_input(self, item: Item, where: str) -> None:
        if len(item.responses) != 2:
            raise DataError(f"{where}: responses: the pairwise template needs exactly 2 responses, "
                            f"got {len(item.responses)} (use the ranking template)")

    def settings(self, dataset, items: list[Item]) -> dict[str, Any]:
        questions = [label_question("preference", "Which response is better?", CHOICES)]
        if dataset.rationale:
            questions.append(text_question("rationale", "Why? (optional)"))
        return {
            "fields": [text_field("prompt", "Prompt"), text_field("response_a", "Response A"),
                       text_field("response_b", "Response B")],
            "questions": questions,
            "metadata": [terms_property("source"), terms_property("category"),
                         terms_property("model_a", visible=dataset.show_models),
                         terms_property("model_b", visible=dataset.show_models)],
            "guidelines": dataset.guidelines or GUIDELINES,
        }

    def records(self, item: Item, dataset, seed: int) -> list[dict[str, Any]]:
        order = display_order(item.id, 2, seed)
        metadata = visible_metadata(item)
        for position, key in zip(order, ("model_a", "model_b"), strict=True):
            if item.models[position]:
                metadata[key] = str(item.models[position])
        metadata[HIDDEN_KEY] = hidden_info(item, order, **originals(item))
        payload = {
            "external_id": item.id,
            "fields": {"prompt": render(item.prompt), "response_a": render(item.responses[order[0]]),
                       "response_b": render(item.responses[order[1]])},
            "metadata": metadata,
            "suggestions": [],
        }
        scores = [item.scores[i] for i in order]
        if dataset.suggestions and None not in scores:
            margin = float(scores[0]) - float(scores[1])  # > 0: the reward model prefers A
            value = "a" if margin > 0 else "b" if margin < 0 else "tie"
            payload["suggestions"].append(suggestion("preference", value, score=round(sigmoid(abs(margin)), 4),
                                                     agent="reward-model"))
        return [payload]

    def measures(self, dataset) -> list[Measure]:
        return [Measure("preference", ("nominal", "ordinal"), VOTE_LABELS)]

    def votes(self, judged: Judged) -> dict[str, str]:
        """annotator -> "0" | "1" | "tie" in terms of the input's responses."""
        order = judged.order
        out = {}
        for annotation in judged.submitted:
            choice = (annotation.values.get("preference") or {}).get("value")
            if choice == "tie":
                out[annotation.user] = "tie"
            elif choice in ("a", "b"):
                out[annotation.user] = str(order[0 if choice == "a" else 1])
        return out

    def positions(self, judged: Judged) -> dict[str, str]:
        """annotator -> the position they picked ("a", "b" or "tie"), for position-bias statistics."""
        out = {}
        for annotation in judged.submitted:
            choice = (annotation.values.get("preference") or {}).get("value")
            if choice in CHOICES:
                out[annotation.user] = choice
        return out

    def units(self, judged: Judged) -> dict[str, dict[Any, dict[str, Any]]]:
        return {"preference": {judged.external_id: self.votes(judged)}}

    def output(self, judged: Judged, dataset) -> dict[str, Any] | None:
        votes = self.votes(judged)
        winner, share = majority(list(votes.values()))
        if winner is None or winner == "tie":
            return None
        best = int(winner)
        prompt, responses = judged_texts(judged, ("response_a", "response_b"))
        ties = sum(vote == "tie" for vote in votes.values())
        soft = (sum(vote == winner for vote in votes.values()) + 0.5 * ties) / len(votes)
        models = judged.info.get("models") or [None, None]
        rationales = [(a.values.get("rationale") or {}).get("value") for a in judged.submitted]
        metadata = {
            "soft_label": round(soft, 4),
            "chosen_position": "a" if judged.order[0] == best else "b",
            "votes": {"chosen": sum(v == winner for v in votes.values()), "tie": ties,
                      "rejected": len(votes) - ties - sum(v == winner for v in votes.values())},
            "argilla_id": judged.external_id,
        }
        if any(models):
            metadata["models"] = {"chosen": models[best], "rejected": models[1 - best]}
        if any(rationales):
            metadata["rationales"] = [text for text in rationales if text]
        record = {"id": judged.external_id, "prompt": prompt, "chosen": responses[best],
                  "rejected": responses[1 - best], "agreement": record_agreement(share, len(votes)),
                  "annotators": sorted(votes), "metadata": metadata}
        return with_context(record, judged)
