"""Anthropic HH-RLHF (Bai et al. 2022, arXiv:2204.05862): transcripts to pairwise records.

Upstream rows are `{"chosen": transcript, "rejected": transcript}`, each transcript a whole dialogue
`"\\n\\nHuman: ...\\n\\nAssistant: ...\\n\\nHuman: ...\\n\\nAssistant: <final answer>"`. The two transcripts of a
pair share every turn but the final Assistant turn, so:

- `parse_transcript` splits a transcript into chat messages (Human -> user, Assistant -> assistant),
  trimming the whitespace around each turn;
- `hh_pair_to_record` makes the prompt everything before the final Assistant turn (multi-turn kept, as
  messages) and chosen / rejected that final turn, each as one assistant message. A pair whose transcripts
  differ before the final turn, or whose final turn is missing or empty, raises `DataError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from alignlab.data.io import RowError, iter_jsonl
from alignlab.data.records import Message, record_id
from alignlab.errors import DataError

_TURN = re.compile(r"\n\n(Human|Assistant|System):")
_ROLES = {"Human": "user", "Assistant": "assistant", "System": "system"}


def parse_transcript(text: str) -> list[Message]:
    """`"\\n\\nHuman: hi\\n\\nAssistant: hello"` -> `[{"role": "user", ...}, {"role": "assistant", ...}]`."""
    # Some transcripts in the wild drop the leading blank line; the split expects it.
    if not text.startswith("\n\n"):
        text = "\n\n" + text.lstrip()
    parts = _TURN.split(text)
    if parts[0].strip():
        raise DataError(f"text before the first Human:/Assistant: marker: {parts[0].strip()[:40]!r}")
    if len(parts) < 3:
        raise DataError("no Human:/Assistant: turns found")
    return [{"role": _ROLES[speaker], "content": content.strip()}
            for speaker, content in zip(parts[1::2], parts[2::2], strict=True)]


def hh_pair_to_record(chosen: str, rejected: str, source: str = "hh-rlhf") -> dict:
    """One HH-RLHF pair as a pairwise record with a content-derived id (see the module docstring)."""
    chosen_turns, rejected_turns = parse_transcript(chosen), parse_transcript(rejected)
    prompt = chosen_turns[:-1]
    if chosen_turns[-1]["role"] != "assistant" or rejected_turns[-1]["role"] != "assistant":
        raise DataError("a transcript does not end with an Assistant turn")
    if rejected_turns[:-1] != prompt:
        raise DataError("chosen and rejected differ before the final Assistant turn")
    if not prompt:
        raise DataError("no Human turn before the final Assistant turn")
    if not chosen_turns[-1]["content"] or not rejected_turns[-1]["content"]:
        raise DataError("empty final Assistant turn")
    record: dict[str, Any] = {
        "prompt": prompt,
        "chosen": [chosen_turns[-1]],
        "rejected": [rejected_turns[-1]],
        "source": source,
    }
    return {"id": record_id(record, "pairwise"), **record}


def iter_hh_rlhf(path: str | os.PathLike, source: str = "hh-rlhf") -> Iterator[tuple[int, dict | RowError]]:
    """Stream `(line, record)` from an upstream HH-RLHF `.jsonl(.gz)`; unusable rows yield a `RowError`."""
    for line, row in iter_jsonl(path):
        if isinstance(row, RowError):
            yield line, row
        elif not (isinstance(row, dict) and isinstance(row.get("chosen"), str)
                  and isinstance(row.get("rejected"), str)):
            yield line, RowError("<row>", "expected an object with chosen and rejected transcripts")
        else:
            try:
                yield line, hh_pair_to_record(row["chosen"], row["rejected"], source)
            except DataError as err:
                yield line, RowError("<row>", str(err))
