"""Conversion to and from the dataset formats TRL's trainers read (TRL docs, "Dataset formats and types").

TRL row shapes, and what we map them to:

| TRL type                     | keys                          | alignlab format |
|------------------------------|-------------------------------|-----------------|
| preference, standard         | prompt, chosen, rejected (str)| pairwise        |
| preference, conversational   | same, as lists of messages    | pairwise        |
| preference, implicit prompt  | chosen, rejected (full texts) | pairwise (prompt extracted as the common prefix) |
| unpaired preference          | prompt, completion, label     | unpaired        |

TRL's *standard* format is plain text, so a record holding chat messages is rendered as an Anthropic
HH-style transcript (`"\\n\\nHuman: ...\\n\\nAssistant:"` as the prompt, `" answer"` as a response), the form
`alignlab.data.sources.hh_rlhf.parse_transcript` reads back. The *conversational* form wraps a string prompt
as one user message and a string response as one assistant message. Only the columns above are written:
TRL drops or chokes on others (margin, weight and metadata stay in the canonical JSONL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from alignlab.data.records import as_messages

_SPEAKERS = {"system": "System", "user": "Human", "assistant": "Assistant"}
TRL_STYLES = ("standard", "conversational")
_HH_ASSISTANT = "\n\nAssistant:"


def render_transcript(messages: list[dict]) -> str:
    """Messages as an HH transcript: `"\\n\\nHuman: hi\\n\\nAssistant: hello"`."""
    return "".join(f"\n\n{_SPEAKERS.get(m['role'], m['role'].title())}: {m['content']}" for m in messages)


def _standard_prompt(prompt: Any) -> str:
    return prompt if isinstance(prompt, str) else render_transcript(prompt) + "\n\nAssistant:"


def _standard_response(response: Any) -> str:
    if isinstance(response, str):
        return response
    return " " + "\n\n".join(m["content"] for m in response)


def to_trl(record: dict, fmt: str = "pairwise", style: str = "standard") -> dict:
    """One pairwise or unpaired record as a TRL row (`style`: "standard" or "conversational")."""
    if style not in TRL_STYLES:
        raise ValueError(f"unknown TRL style {style!r}; choose one of {', '.join(TRL_STYLES)}")
    if fmt == "pairwise":
        names = ("chosen", "rejected")
    elif fmt == "unpaired":
        names = ("completion",)
    else:
        raise ValueError(f"{fmt} records become TRL rows through pairs; use to_trl_rows")
    if style == "standard":
        row = {"prompt": _standard_prompt(record["prompt"])}
        row.update((name, _standard_response(record[name])) for name in names)
    else:
        row = {"prompt": as_messages(record["prompt"], "user")}
        row.update((name, as_messages(record[name], "assistant")) for name in names)
    if fmt == "unpaired":
        row["label"] = record["label"]
    return row


def to_trl_rows(records: Iterable[dict], fmt: str = "pairwise", style: str = "standard",
                **pair_options: Any) -> Iterator[dict]:
    """TRL rows from records of any format: rankings expand to pairs, ratings pair up by score
    (`pair_options` go to `ratings_to_pairs`)."""
    from alignlab.data.pairs import expand_ranking_to_pairs, ratings_to_pairs

    if fmt == "ranking":
        for record in records:
            for pair in expand_ranking_to_pairs(record):
                yield to_trl(pair, "pairwise", style)
    elif fmt == "ratings":
        for pair in ratings_to_pairs(records, **pair_options):
            yield to_trl(pair, "pairwise", style)
    else:
        for record in records:
            yield to_trl(record, fmt, style)


def extract_prompt(chosen: Any, rejected: Any) -> tuple[Any, Any, Any]:
    """Split implicit-prompt texts into `(prompt, chosen, rejected)` at their common prefix.

    Message lists split at the first message that differs. Strings split where they first differ, moved
    back to just after the last `\\n\\nAssistant:` marker inside the common part when there is one (so HH
    transcripts that share the first words of the answer keep them in the answer), else back over one
    space, as TRL's `extract_prompt` does. Raises `ValueError` when one text is a prefix of the other.
    """
    if isinstance(chosen, list) and isinstance(rejected, list):
        split = next((i for i, (a, b) in enumerate(zip(chosen, rejected, strict=False)) if a != b), None)
        if split is None:
            raise ValueError("chosen and rejected conversations do not differ after a common prefix")
        return chosen[:split], chosen[split:], rejected[split:]
    if not (isinstance(chosen, str) and isinstance(rejected, str)):
        raise ValueError("implicit-prompt chosen and rejected must both be strings or both be message lists")
    split = next((i for i, (a, b) in enumerate(zip(chosen, rejected, strict=False)) if a != b), None)
    if split is None:
        raise ValueError("chosen and rejected do not differ after a common prefix")
    marker = chosen.rfind(_HH_ASSISTANT, 0, split)
    if marker >= 0:
        split = marker + len(_HH_ASSISTANT)
    elif split > 0 and chosen[split - 1] == " ":
        split -= 1
    return chosen[:split], chosen[split:], rejected[split:]


def from_trl(row: dict) -> tuple[str, dict]:
    """A TRL row as `(format, record)`: pairwise (explicit or implicit prompt) or unpaired.

    Columns other than TRL's are kept, so `canonicalize` can file them under metadata.
    """
    if "completion" in row and "label" in row:
        return "unpaired", dict(row)
    if "chosen" not in row or "rejected" not in row:
        raise ValueError(f"not a TRL preference row: keys {sorted(row)}; expected prompt/chosen/rejected, "
                         "chosen/rejected, or prompt/completion/label")
    if "prompt" in row:
        return "pairwise", dict(row)
    prompt, chosen, rejected = extract_prompt(row["chosen"], row["rejected"])
    return "pairwise", {**row, "prompt": prompt, "chosen": chosen, "rejected": rejected}
