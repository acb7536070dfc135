"""The four preference-record formats, their fields, and content-derived ids.

Records are plain dicts (one JSON object per JSONL line), not objects: a million rows stream through
validation, dedupe and conversion, and a dict per row is the cheapest shape that is also the file format.
The `TypedDict`s below document the shapes; `alignlab.data.validation` enforces them.

Formats (every format also takes the optional fields in `OPTIONAL_FIELDS`):

- **pairwise**  `{"id", "prompt", "chosen", "rejected", "margin"?, "weight"?, "agreement"?, ...}`
- **ranking**   `{"id", "prompt", "responses": [...], "ranks": [int, ...]}` (1 = best, ties allowed)
- **ratings**   `{"id", "prompt", "response", "ratings": {"helpfulness": 3, ...}}` (HelpSteer style)
- **unpaired**  `{"id", "prompt", "completion", "label": bool}` (KTO, thumbs up / down)

A *prompt* is a string or a list of chat messages `{"role": "system|user|assistant", "content": str}`
(multi-turn conversations keep every turn). A *response* (chosen, rejected, completion, response, each entry
of responses) is a string or a list of assistant messages.

`id` is optional on input; `record_id` derives a stable one from the content (a BLAKE2b hash), so the same
pair gets the same id in every file and on every machine.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypedDict

FORMATS = ("pairwise", "ranking", "ratings", "unpaired")
ROLES = ("system", "user", "assistant")

# HelpSteer / HelpSteer2 attributes, each rated 0-4 by annotators.
DEFAULT_ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
DEFAULT_SCALE = (0, 4)

# Longest text (characters) a field may hold before validation calls it a mistake: far above any real
# conversation turn, low enough to catch a whole file pasted into one cell.
DEFAULT_MAX_CHARS = 100_000

# The fields whose content identifies a record (for ids and exact-duplicate detection), in order.
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    "pairwise": ("prompt", "chosen", "rejected"),
    "ranking": ("prompt", "responses", "ranks"),
    "ratings": ("prompt", "response"),
    "unpaired": ("prompt", "completion", "label"),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "pairwise": ("prompt", "chosen", "rejected"),
    "ranking": ("prompt", "responses", "ranks"),
    "ratings": ("prompt", "response", "ratings"),
    "unpaired": ("prompt", "completion", "label"),
}
OPTIONAL_FIELDS = ("id", "margin", "weight", "agreement", "source", "category", "annotators", "metadata")
# Fields holding text (a string or messages); readers of CSV/Parquet decode JSON message lists in these.
TEXT_FIELDS = ("prompt", "chosen", "rejected", "response", "completion")


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


Text = str | list[Message]


class _Optional(TypedDict, total=False):
    id: str
    margin: float  # how much better chosen is (e.g. a rank or score difference); >= 0 by convention
    weight: float  # per-example loss weight, >= 0
    agreement: float  # share of annotators who agreed with the label, 0..1
    source: str
    category: str
    annotators: list[str]
    metadata: dict[str, Any]  # free-form; `chosen_position` ("a"/"b") feeds the position-bias audit


class PairwiseRecord(_Optional):
    prompt: Text
    chosen: Text
    rejected: Text


class RankingRecord(_Optional):
    prompt: Text
    responses: list[Text]
    ranks: list[int]


class RatingsRecord(_Optional):
    prompt: Text
    response: Text
    ratings: dict[str, float]


class UnpairedRecord(_Optional):
    prompt: Text
    completion: Text
    label: bool


def _part(value: Any) -> str:
    """Encode one content field unambiguously: strings as-is, anything else as sorted JSON, length-prefixed."""
    if type(value) is str:
        return f"s{len(value)}:{value}"
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return f"j{len(encoded)}:{encoded}"


def content_key(record: dict, fmt: str = "pairwise") -> bytes:
    """The bytes that identify a record's content (its content fields, not id, metadata or annotations).

    The length prefixes in `_part` keep ("ab", "c") and ("a", "bc") apart.
    """
    key = "".join([_part(record.get(name)) for name in CONTENT_FIELDS[fmt]])
    return key.encode("utf-8", "surrogatepass")


def content_digest(record: dict, fmt: str = "pairwise") -> bytes:
    """16-byte BLAKE2b digest of `content_key`: equal digests mean exact duplicates. Stable across
    machines and versions (ids are derived from it)."""
    return hashlib.blake2b(content_key(record, fmt), digest_size=16).digest()


def record_id(record: dict, fmt: str = "pairwise") -> str:
    """The record's `id`, or a stable one derived from its content: `"<format>-<16 hex digits>"`."""
    existing = record.get("id")
    if isinstance(existing, str) and existing:
        return existing
    return f"{fmt}-{content_digest(record, fmt).hex()[:16]}"


def canonicalize(record: dict, fmt: str = "pairwise") -> dict:
    """The record with an id, its fields in the documented order, and unknown top-level keys kept under
    `metadata` (nothing a user wrote is dropped, and every canonical file has the same columns)."""
    known = ("id", *REQUIRED_FIELDS[fmt], *OPTIONAL_FIELDS[1:])
    out: dict[str, Any] = {"id": record_id(record, fmt)}
    for name in known[1:]:
        if name in record and record[name] is not None:
            out[name] = record[name]
    extra = {key: value for key, value in record.items() if key not in known and value is not None}
    if extra:
        out["metadata"] = {**out.get("metadata", {}), **extra}
    return out


def text_of(value: Any) -> str:
    """Plain text of a string or a message list (contents joined by newlines), for lengths and hashing."""
    if type(value) is str:
        return value
    if isinstance(value, list):
        return "\n".join(m.get("content", "") if isinstance(m, dict) else str(m) for m in value)
    return "" if value is None else str(value)


def as_messages(value: Text, role: str) -> list[Message]:
    """A string as a one-message list with `role`; a message list unchanged."""
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return value
