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

from alignlab.data.prompts import ASSISTANT_TURN as _HH_ASSISTANT
from alignlab.data.prompts import plain_prompt as _standard_prompt
from alignlab.data.prompts import plain_response as _standard_response
from alignlab.data.records import as_messages

TRL_STYLES = ("standard", "conversational")


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


# -- TRL-shaped rows read by the CLI and the trainers (`alignlab data validate --from trl`, auto-detected) -----
SOURCES = ("auto", "trl", "alignlab")


def _is_conversation(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and "role" in m for m in value)


def is_trl_shaped(row: Any) -> bool:
    """A TRL row our record checks would reject for its shape alone: an implicit prompt (chosen/rejected with no
    prompt, the trl-lib/ultrafeedback_binarized layout) or whole conversations as chosen/rejected beside a
    prompt (the HuggingFaceH4/ultrafeedback_binarized layout, whose chosen starts with the user turn)."""
    if not (isinstance(row, dict) and "chosen" in row and "rejected" in row):
        return False
    if "prompt" not in row:
        return True
    chosen = row["chosen"]
    return _is_conversation(chosen) and chosen[0].get("role") != "assistant"


def normalize_trl_row(row: dict) -> dict:
    """A TRL-shaped row as an alignlab pairwise record: the shared leading turns become the prompt, the rest
    the responses. The source's own prompt string (UltraFeedback) is dropped: the turns carry it. Raises
    `ValueError` (with the reason) when chosen and rejected share no prompt."""
    _fmt, record = from_trl({key: value for key, value in row.items() if key != "prompt"})
    if not record["prompt"]:
        raise ValueError("chosen and rejected share no leading prompt turn; give the prompt in a prompt field")
    if "score_chosen" in row and "score_rejected" in row and "margin" not in row:
        try:
            record["margin"] = float(row["score_chosen"]) - float(row["score_rejected"])
        except (TypeError, ValueError):
            pass
    return record


def trl_rows(rows: Iterable[tuple[int, Any]], origin: str = "auto") -> Iterator[tuple[int, Any]]:
    """`(line, row)` with TRL-shaped rows converted (`origin` auto: rows that look like TRL's; trl: every row,
    a row that cannot be converted is passed on unchanged for the checks to name; alignlab: none)."""
    if origin not in SOURCES:
        raise ValueError(f"unknown data origin {origin!r}; choose one of {', '.join(SOURCES)}")
    for line, row in rows:
        if origin != "alignlab" and (is_trl_shaped(row) or (origin == "trl" and isinstance(row, dict))):
            try:
                row = normalize_trl_row(row)
            except ValueError:
                pass
        yield line, row
