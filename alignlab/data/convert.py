"""`convert_file`: validate, dedupe and rewrite preference data in one streaming pass.

    summary = convert_file("raw.jsonl", "train_trl.jsonl", to="trl")

Targets (`to`):

- `jsonl`, `parquet`, `csv`: canonical records (ids filled in, fields in order, unknown keys under metadata).
- `trl`: TRL's standard format (prompt/chosen/rejected strings, or prompt/completion/label for unpaired);
  chat messages are rendered as HH transcripts (see `trl_format`). Written as JSONL, or Parquet by name.
- `trl-conversational`: TRL's conversational format (lists of messages).

Rankings expand into pairs and ratings pair up by score on the way to TRL (see `pairs`).

Rows are validated as they stream: the first bad row stops the conversion with `PATH:LINE: field: reason`,
and since every writer is atomic nothing is written. Exact duplicates (same content fields) are dropped by
default, keeping the first: a repeated pair silently up-weights one example and, once the data is split,
leaks test pairs into training. `dedupe=False` keeps them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # the C string encoder
from pathlib import Path
from typing import Any

from alignlab.data.dedupe import dedupe_key_function
from alignlab.data.io import encode_row, file_kind, write_jsonl_lines, write_rows
from alignlab.data.records import canonicalize
from alignlab.data.trl_format import to_trl, to_trl_rows
from alignlab.data.validation import RowChecker, source_rows
from alignlab.errors import DataError

TARGETS = ("trl", "trl-conversational", "jsonl", "parquet", "csv")
# The containers each target may be written to, by output name.
_CONTAINERS = {"trl": ("jsonl", "parquet"), "trl-conversational": ("jsonl", "parquet"),
               "jsonl": ("jsonl",), "parquet": ("parquet",), "csv": ("csv",)}


@dataclass
class ConvertSummary:
    source: str
    output: str
    target: str
    rows_in: int = 0
    duplicates_dropped: int = 0
    rows_out: int = 0

    def line(self) -> str:
        return (f"wrote {self.output}: {self.rows_out:,} {self.target} rows from {self.rows_in:,} rows "
                f"({self.duplicates_dropped:,} exact duplicates dropped)")


def valid_records(path: str | os.PathLike, fmt: str = "pairwise", *, dedupe: bool = True,
                  summary: ConvertSummary | None = None, split: str | None = None, origin: str = "auto",
                  **limits: Any) -> Iterator[dict]:
    """Stream valid records, stopping at the first bad row with `DataError`; drop exact duplicates."""
    checker = RowChecker(fmt, **limits)
    check_fields, check_id = checker.check_fields, checker.check_id
    key = dedupe_key_function(fmt)
    seen: set[bytes] = set()
    rows_in = duplicates = 0
    try:
        for line, row in source_rows(path, fmt, split=split, origin=origin):
            problems = check_fields(row)
            if not problems:
                rows_in += 1
                if dedupe:
                    digest = key(row)
                    if digest in seen:
                        duplicates += 1
                        continue
                    seen.add(digest)
                # after dedupe: a whole row repeated (same id too) is a duplicate, not an id clash
                problems = check_id(row, line)
            if problems:
                name, reason = problems[0]
                raise DataError(f"{path}:{line}: {name}: {reason}; nothing was written "
                                f"(`alignlab data validate {path}` lists every problem)")
            yield row
    finally:
        if summary is not None:
            summary.rows_in, summary.duplicates_dropped = rows_in, duplicates


def _trl_standard_line(record: dict) -> str:
    """One TRL standard JSON line; all-string pairs (the bulk of real data) skip building a dict.

    The output is byte-identical to `encode_row(to_trl(record))` (a unit test holds this).
    """
    prompt, chosen, rejected = record["prompt"], record["chosen"], record["rejected"]
    if type(prompt) is str and type(chosen) is str and type(rejected) is str:
        return (f'{{"prompt": {encode_basestring(prompt)}, "chosen": {encode_basestring(chosen)}, '
                f'"rejected": {encode_basestring(rejected)}}}')
    return encode_row(to_trl(record, "pairwise", "standard"))


def _check_target(output: str | os.PathLike, to: str) -> str:
    if to not in TARGETS:
        raise DataError(f"unknown conversion target {to!r}; choose one of {', '.join(TARGETS)}")
    kind = file_kind(output) if not Path(output).is_dir() else "folder"
    if kind not in _CONTAINERS[to]:
        names = {"jsonl": ".jsonl or .jsonl.gz", "parquet": ".parquet", "csv": ".csv"}
        allowed = " or ".join(names[c] for c in _CONTAINERS[to])
        raise DataError(f"{output}: --to {to} writes {allowed} files; rename the output")
    return kind


def convert_file(source: str | os.PathLike, output: str | os.PathLike, to: str = "jsonl",
                 fmt: str = "pairwise", *, dedupe: bool = True, split: str | None = None, origin: str = "auto",
                 **limits: Any) -> ConvertSummary:
    """Validate, dedupe and write `source` as `to` into `output` (atomically); see the module docstring.

    `limits` (`max_chars`, `attributes`, `scale`) go to the validator; for ratings -> TRL, `weights`,
    `min_gap` and `best_vs_worst` go to `ratings_to_pairs`.
    """
    kind = _check_target(output, to)
    if Path(output).resolve() == Path(source).resolve():
        raise DataError(f"{output}: output is the input file; write to another path")
    pair_options = {name: limits.pop(name) for name in ("weights", "min_gap", "best_vs_worst") if name in limits}
    summary = ConvertSummary(source=str(source), output=str(output), target=to)
    records = valid_records(source, fmt, dedupe=dedupe, summary=summary, split=split, origin=origin, **limits)
    if to == "trl" and fmt == "pairwise" and kind == "jsonl":
        summary.rows_out = write_jsonl_lines(output, (_trl_standard_line(r) for r in records))
    elif to.startswith("trl"):
        style = "conversational" if to == "trl-conversational" else "standard"
        summary.rows_out = write_rows(output, to_trl_rows(records, fmt, style, **pair_options))
    else:
        summary.rows_out = write_rows(output, (canonicalize(record, fmt) for record in records))
    return summary
