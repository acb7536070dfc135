"""What every dataset template shares: the input `Item`, the pulled `Judged` record, and Argilla payloads.

An `Item` is one thing to annotate, read from any input format:

| input                        | prompt | responses              | label kept for suggestions |
|------------------------------|--------|------------------------|----------------------------|
| pairwise record              | prompt | [chosen, rejected]     | 0 (the first is preferred) |
| ranking record               | prompt | responses              | ranks                      |
| ratings record               | prompt | [response]             | ratings                    |
| unpaired record              | prompt | [completion]           | label                      |
| candidates row               | prompt | responses              | none                       |

A *candidates* row is what a rollout produces before anybody judged it:
`{"id"?, "prompt", "responses": [...], "models"?: [...], "scores"?: [...], "source"?, "category"?}` where
`models` names the policy behind each response and `scores` holds reward-model scores (suggestions).
Model names and scores may also come in `metadata.models` / `metadata.scores` of canonical records.

Every Argilla record carries hidden metadata `alignlab` (a JSON string the web UI never shows annotators):
the item id, the display order of the responses (position-bias control), model names and scores. The pull
maps answers back to the original responses with it, so re-seeding never scrambles earlier answers.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from alignlab.data.records import record_id, text_of
from alignlab.errors import DataError

HIDDEN_KEY = "alignlab"
_ROLE_TITLES = {"system": "System", "user": "User", "assistant": "Assistant"}


@dataclass
class Item:
    """One thing to annotate (see the module docstring)."""

    id: str
    prompt: Any
    responses: list[Any]
    models: list[str | None] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    label: Any = None
    source: str | None = None
    category: str | None = None


@dataclass
class Annotation:
    """One user's response to one Argilla record."""

    user: str
    status: str  # "submitted" or "discarded"
    values: dict[str, Any]  # question name -> value


@dataclass
class Judged:
    """One pulled Argilla record: its hidden info and every response to it."""

    external_id: str
    info: dict[str, Any]
    fields: dict[str, Any]
    annotations: list[Annotation]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def submitted(self) -> list[Annotation]:
        return [a for a in self.annotations if a.status == "submitted"]

    @property
    def order(self) -> list[int]:
        """order[position] = index of the original response shown at that position."""
        return list(self.info.get("order") or range(len(self.info.get("models") or [0, 0])))


# ------------------------------------------------------------------------------------------ input items

def _listed(value: Any, n: int, name: str, where: str) -> list:
    if value is None:
        return [None] * n
    if not isinstance(value, list) or len(value) != n:
        raise DataError(f"{where}: {name}: expected a list of {n} entries (one per response)")
    return value


def item_from(record: dict, fmt: str, where: str) -> Item:
    """An `Item` from one validated record of `fmt` (or a candidates row); `where` is `file:line`."""
    meta = record.get("metadata") or {}
    if fmt == "pairwise":
        responses, label = [record["chosen"], record["rejected"]], 0
    elif fmt == "ranking":
        responses, label = list(record["responses"]), list(record["ranks"])
    elif fmt == "ratings":
        responses, label = [record["response"]], dict(record["ratings"])
    elif fmt == "unpaired":
        responses, label = [record["completion"]], bool(record["label"])
    elif fmt == "candidates":
        responses, label = list(record["responses"]), None
    else:
        raise DataError(f"{where}: unknown input format {fmt!r}")
    n = len(responses)
    models = _listed(record.get("models", meta.get("models")), n, "models", where)
    scores = _listed(record.get("scores", meta.get("scores")), n, "scores", where)
    ident = record.get("id") or record_id(record, fmt if fmt != "candidates" else "ranking")
    return Item(id=str(ident), prompt=record["prompt"], responses=responses, models=models, scores=scores,
                label=label, source=record.get("source"), category=record.get("category"))


def check_candidates(row: Any, where: str) -> None:
    """Validate a candidates row; a problem raises `DataError` as `file:line: field: reason`."""
    if not isinstance(row, dict):
        raise DataError(f"{where}: <row>: expected a JSON object")
    for name in ("prompt", "responses"):
        if name not in row:
            raise DataError(f"{where}: {name}: missing required field")
    if not isinstance(row["prompt"], str | list) or not text_of(row["prompt"]).strip():
        raise DataError(f"{where}: prompt: expected non-empty text or a list of chat messages")
    responses = row["responses"]
    if not isinstance(responses, list) or not responses:
        raise DataError(f"{where}: responses: expected a non-empty list of responses")
    for index, response in enumerate(responses):
        if not isinstance(response, str | list) or not text_of(response).strip():
            raise DataError(f"{where}: responses[{index}]: expected non-empty text or a list of messages")
    for index, score in enumerate(row.get("scores") or []):
        if score is not None and not (isinstance(score, int | float) and math.isfinite(score)):
            raise DataError(f"{where}: scores[{index}]: expected a number or null")


def detect_format(row: Any) -> str | None:
    """The input format a row looks like, by its keys (None: cannot tell)."""
    if not isinstance(row, dict):
        return None
    if "chosen" in row and "rejected" in row:
        return "pairwise"
    if "responses" in row:
        return "ranking" if "ranks" in row else "candidates"
    if "ratings" in row and "response" in row:
        return "ratings"
    if "completion" in row and "label" in row:
        return "unpaired"
    return None


# ------------------------------------------------------------------------------------------- rendering

def render(value: Any) -> str:
    """A prompt or response as Markdown: strings as they are, chat messages as titled turns."""
    if isinstance(value, str):
        return value
    turns = []
    for message in value:
        title = _ROLE_TITLES.get(message.get("role"), str(message.get("role", "")).title())
        turns.append(f"**{title}:** {message.get('content', '')}")
    return "\n\n".join(turns)


def display_order(item_id: str, n: int, seed: int) -> list[int]:
    """A deterministic shuffle of range(n) for this item: the same id and seed give the same order on every
    machine, so re-pushing never changes what annotators see."""
    digest = hashlib.blake2b(f"{seed}|{item_id}".encode(), digest_size=8).digest()
    order = list(range(n))
    random.Random(int.from_bytes(digest, "big")).shuffle(order)
    return order


def hidden_info(item: Item, order: list[int], **extra: Any) -> str:
    info = {"id": item.id, "order": order, "models": item.models, "scores": item.scores, **extra}
    return json.dumps(info, ensure_ascii=False, separators=(",", ":"))


def originals(item: Item) -> dict[str, Any]:
    """The input texts that Markdown rendering would lose (chat messages), for the hidden metadata."""
    kept: dict[str, Any] = {}
    if not isinstance(item.prompt, str):
        kept["prompt"] = item.prompt
    if any(not isinstance(response, str) for response in item.responses):
        kept["responses"] = item.responses
    return kept


def judged_texts(judged: Judged, fields: tuple[str, ...]) -> tuple[Any, list]:
    """The original prompt and responses (in input order) of a pulled record whose responses were shown in
    `fields`, in display order."""
    prompt = judged.info.get("prompt", judged.fields.get("prompt"))
    if "responses" in judged.info:
        return prompt, list(judged.info["responses"])
    shown = [judged.fields.get(name) for name in fields]
    responses: list[Any] = [None] * len(shown)
    for position, original in enumerate(judged.order[: len(shown)]):
        responses[original] = shown[position]
    return prompt, responses


def with_context(record: dict, judged: Judged) -> dict:
    """Copy the item's source and category (visible metadata) onto an output record, and the id of the
    record this one is a newer version of (its text changed after it was answered; see `push`)."""
    for key in ("source", "category"):
        if judged.metadata.get(key):
            record[key] = judged.metadata[key]
    if judged.info.get("version_of"):
        record.setdefault("metadata", {})["version_of"] = judged.info["version_of"]
    return record


def content_hash(fields: dict) -> str:
    """What annotators see of a record (its fields), as a short hash: equal hashes, same text."""
    encoded = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.blake2b(encoded, digest_size=8).hexdigest()


def read_hidden_info(metadata: dict | None) -> dict:
    raw = (metadata or {}).get(HIDDEN_KEY)
    if not raw:
        return {}
    try:
        return json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError):
        return {}


def visible_metadata(item: Item) -> dict[str, Any]:
    return {key: value for key, value in (("source", item.source), ("category", item.category)) if value}


# -------------------------------------------------------------------------------- Argilla settings payloads

def text_field(name: str, title: str, *, required: bool = True) -> dict:
    return {"name": name, "title": title, "required": required,
            "settings": {"type": "text", "use_markdown": True}}


def label_question(name: str, title: str, options: dict[str, str], *, description: str | None = None,
                   required: bool = True) -> dict:
    return {"name": name, "title": title, "description": description, "required": required,
            "settings": {"type": "label_selection",
                         "options": [{"value": value, "text": text} for value, text in options.items()]}}


def rating_question(name: str, title: str, low: int, high: int, *, description: str | None = None) -> dict:
    return {"name": name, "title": title, "description": description, "required": True,
            "settings": {"type": "rating", "options": [{"value": v} for v in range(low, high + 1)]}}


def ranking_question(name: str, title: str, options: dict[str, str], *, description: str | None = None) -> dict:
    return {"name": name, "title": title, "description": description, "required": True,
            "settings": {"type": "ranking",
                         "options": [{"value": value, "text": text} for value, text in options.items()]}}


def text_question(name: str, title: str, *, description: str | None = None) -> dict:
    return {"name": name, "title": title, "description": description, "required": False,
            "settings": {"type": "text", "use_markdown": False}}


def terms_property(name: str, *, visible: bool = True) -> dict:
    return {"name": name, "title": name.replace("_", " "), "visible_for_annotators": visible,
            "settings": {"type": "terms", "values": None}}


def float_property(name: str, *, visible: bool = True) -> dict:
    return {"name": name, "title": name.replace("_", " "), "visible_for_annotators": visible,
            "settings": {"type": "float", "min": None, "max": None}}


def suggestion(question: str, value: Any, *, score: float | None = None, agent: str | None = None) -> dict:
    """A suggestion payload keyed by question *name* (push resolves names to the server's question ids)."""
    return {"question_name": question, "value": value, "score": score, "agent": agent, "type": "model"}


def record_agreement(share: float, raters: int) -> float | None:
    """A pulled record's `agreement`: None (null in the output) when fewer than two annotators answered it.

    One vote always "agrees" with itself; writing 1.0 would give a single annotator's label the trust of a
    unanimous panel. Training decides what a single-annotator record weighs (`single_annotator_weight` of
    `rm` and of DPO/KTO's `data.weighting`)."""
    return None if raters < 2 else round(float(share), 4)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def majority(votes: list[Any]) -> tuple[Any, float]:
    """(the most frequent vote, its share); (None, share) when the top is tied."""
    if not votes:
        return None, 0.0
    counts: dict[Any, int] = {}
    for vote in votes:
        counts[vote] = counts.get(vote, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    top, count = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == count:
        return None, count / len(votes)
    return top, count / len(votes)
