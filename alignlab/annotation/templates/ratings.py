"""Multi-attribute ratings of one response (HelpSteer: helpfulness, correctness, coherence, complexity,
verbosity on 0-4, or the attributes and scale in `dataset.attributes` / `dataset.scale`).

A candidates row with several responses becomes one Argilla record per response (`<id>-<index>`). The pull
writes a ratings record per response with the mean rating of each attribute; `agreement` is the mean over
attributes of the share of annotators whose rating equals the rounded median rating. Existing ratings
(a ratings record as input) are offered as suggestions.
"""

from __future__ import annotations

import statistics
from typing import Any

from alignlab.annotation.templates import Measure, Template
from alignlab.annotation.templates.base import (
    HIDDEN_KEY,
    Item,
    Judged,
    hidden_info,
    originals,
    rating_question,
    record_agreement,
    render,
    suggestion,
    terms_property,
    text_field,
    text_question,
    visible_metadata,
    with_context,
)

GUIDELINES = """\
Rate the response to the prompt on each attribute ({scale}):
- **helpfulness**: how well it does what the prompt asks;
- **correctness**: whether every stated fact is right;
- **coherence**: how clear and consistent it is;
- **complexity**: how much expertise it takes to write (not to read);
- **verbosity**: how long it is relative to what the prompt needs."""


def single_response_records(item: Item, dataset, fields_for, suggestions_for) -> list[dict[str, Any]]:
    """One Argilla record per response of `item`: ratings, binary and safety share this shape."""
    records = []
    many = len(item.responses) > 1
    for index, response in enumerate(item.responses):
        external_id = f"{item.id}-{index}" if many else item.id
        keep = originals(Item(item.id, item.prompt, [response]))
        metadata = visible_metadata(item)
        if item.models[index]:
            metadata["model"] = str(item.models[index])
        metadata[HIDDEN_KEY] = hidden_info(item, [0], response_index=index, **keep,
                                           models=[item.models[index]], scores=[item.scores[index]])
        payload = {"external_id": external_id, "fields": fields_for(item, response), "metadata": metadata,
                   "suggestions": suggestions_for(item, index) if dataset.suggestions else []}
        records.append(payload)
    return records


def prompt_and_response(item: Item, response: Any) -> dict[str, str]:
    return {"prompt": render(item.prompt), "response": render(response)}


def single_texts(judged: Judged) -> tuple[Any, Any]:
    prompt = judged.info.get("prompt", judged.fields.get("prompt"))
    responses = judged.info.get("responses")
    return prompt, responses[0] if responses else judged.fields.get("response")


def single_metadata(judged: Judged) -> dict[str, Any]:
    metadata: dict[str, Any] = {"argilla_id": judged.external_id}
    models = judged.info.get("models") or []
    if models and models[0]:
        metadata["model"] = models[0]
    return metadata


class RatingsTemplate(Template):
    name = "ratings"
    inputs = ("ratings", "candidates", "unpaired")
    output_format = "ratings"

    def settings(self, dataset, items: list[Item]) -> dict[str, Any]:
        low, high = dataset.scale
        questions = [rating_question(name, name.replace("_", " ").capitalize(), low, high)
                     for name in dataset.attributes]
        if dataset.rationale:
            questions.append(text_question("rationale", "Comments (optional)"))
        return {
            "fields": [text_field("prompt", "Prompt"), text_field("response", "Response")],
            "questions": questions,
            "metadata": [terms_property("source"), terms_property("category"),
                         terms_property("model", visible=dataset.show_models)],
            "guidelines": dataset.guidelines or GUIDELINES.format(scale=f"{low} = worst, {high} = best"),
        }

    def records(self, item: Item, dataset, seed: int) -> list[dict[str, Any]]:
        low, high = dataset.scale

        def suggestions_for(it: Item, index: int) -> list[dict]:
            ratings = it.label if isinstance(it.label, dict) else {}
            return [suggestion(name, int(value), agent="source") for name, value in ratings.items()
                    if name in dataset.attributes and float(value).is_integer() and low <= value <= high]

        return single_response_records(item, dataset, prompt_and_response, suggestions_for)

    def measures(self, dataset) -> list[Measure]:
        low, high = dataset.scale
        return [Measure(name, ("ordinal", "interval"), tuple(range(low, high + 1))) for name in dataset.attributes]

    def ratings(self, judged: Judged) -> dict[str, dict[str, int]]:
        """attribute -> {annotator: rating}."""
        out: dict[str, dict[str, int]] = {}
        for annotation in judged.submitted:
            for name, answer in annotation.values.items():
                value = (answer or {}).get("value")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out.setdefault(name, {})[annotation.user] = value
        return out

    def units(self, judged: Judged) -> dict[str, dict[Any, dict[str, Any]]]:
        return {name: {judged.external_id: votes} for name, votes in self.ratings(judged).items()}

    def output(self, judged: Judged, dataset) -> dict[str, Any] | None:
        ratings = {name: votes for name, votes in self.ratings(judged).items() if name in dataset.attributes}
        if not ratings:
            return None
        shares = []
        for votes in ratings.values():
            median = round(statistics.median(votes.values()))
            shares.append(sum(v == median for v in votes.values()) / len(votes))
        prompt, response = single_texts(judged)
        metadata = single_metadata(judged)
        metadata["ratings_std"] = {name: round(statistics.pstdev(v.values()), 4) for name, v in ratings.items()}
        record = {
            "id": judged.external_id, "prompt": prompt, "response": response,
            "ratings": {name: round(statistics.fmean(v.values()), 4) for name, v in ratings.items()},
            "agreement": record_agreement(sum(shares) / len(shares), min(len(v) for v in ratings.values())),
            "annotators": sorted({user for votes in ratings.values() for user in votes}),
            "metadata": metadata,
        }
        return with_context(record, judged)
