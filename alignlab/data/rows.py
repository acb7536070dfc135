"""The row-level pieces every reader and writer shares: a decoding error in place of a row, the compact JSON
encoder, and the check for text that cannot be written (lone surrogates).

`alignlab.data.io` (JSONL, and the dispatch by file type) and `alignlab.data.tabular` (CSV, Parquet, HF datasets)
both build on this module, so neither imports the other's internals.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

__all__ = ["SURROGATE_REASON", "RowError", "encode_row", "find_surrogate"]


class RowError(NamedTuple):
    """A line that could not be decoded into a row (bad UTF-8, bad JSON)."""

    field: str
    reason: str


# One compact encoder reused for every row: `json.dumps(..., ensure_ascii=False)` would build a new encoder
# per call. ensure_ascii=False keeps non-English text readable and the files smaller.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
encode_row = _ENCODER.encode


SURROGATE_REASON = "holds a lone surrogate (an unpaired \\udXXX escape or invalid UTF-8), not writable text"


def find_surrogate(value: Any, where: str = "<row>") -> str | None:
    """The field path of the first string in `value` holding a lone surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        items = ((key if where == "<row>" else f"{where}.{key}", item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    return next((found for path, item in items if (found := find_surrogate(item, path)) is not None), None)
