"""Read and write preference rows: JSONL (plain or .gz) here, CSV / Parquet / HF datasets in `tabular`.

Every reader yields `(line, row)` pairs, streaming: `line` is the 1-based line of a JSONL or CSV file (for
CSV, the line a record starts on) or the 1-based row index of a Parquet file or HF dataset. A line that
cannot be decoded yields a `RowError` in place of the row, so a validator can report it and carry on.

Every writer is atomic: rows stream into a temporary file beside the target, which is renamed over the
target only when the last row is written. A failed conversion leaves the old file (or none), never half.

The format is picked from the name: `.jsonl`, `.jsonl.gz`, `.json` (JSON lines, or one JSON array),
`.csv`, `.parquet`; a folder written by `datasets.save_to_disk`; anything else that does not exist on
disk is treated as a Hugging Face Hub dataset name (`load_dataset(name)`).
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from alignlab.data.rows import SURROGATE_REASON, RowError, encode_row, find_surrogate
from alignlab.errors import DataError
from alignlab.utils.io import atomic_output

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson")


_SCAN = json.JSONDecoder().scan_once  # the C scanner behind json.loads


def file_kind(path: str | os.PathLike) -> str:
    """"jsonl", "csv", "parquet" or "hf" (a saved dataset folder or a hub name) for `path`."""
    name = str(path).lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if Path(path).is_dir() or not Path(path).exists():
        return "hf"
    raise DataError(
        f"{path}: unknown file type; use .jsonl, .jsonl.gz, .json, .csv, .parquet or a datasets folder"
    )


def iter_rows(path: str | os.PathLike, *, split: str | None = None) -> Iterator[tuple[int, Any]]:
    """Stream `(line, row)` from any supported source; a missing or unreadable file raises `DataError`.

    A relative path that does not exist here but names a shipped file (`preference_data/...`) reads the shipped
    copy, so shipped configs work from any folder and from an installed wheel (`alignlab.paths.shipped_path`)."""
    from alignlab.paths import shipped_path

    path = shipped_path(path)
    from alignlab.data.mixture import is_mixture, iter_mixture

    if is_mixture(path):
        return iter_mixture(path, iter_rows)
    kind = file_kind(path)
    if kind == "hf":
        from alignlab.data.tabular import iter_hf_rows

        return iter_hf_rows(path, split=split)
    _check_readable(path)
    if kind == "jsonl":
        return iter_jsonl(path)
    from alignlab.data import tabular

    return tabular.iter_csv(path) if kind == "csv" else tabular.iter_parquet(path)


def _check_readable(path: str | os.PathLike) -> None:
    p = Path(path)
    if not p.exists():
        raise DataError(f"{path}: file not found")
    if p.is_dir():
        raise DataError(f"{path}: is a folder, expected a data file")
    if not os.access(p, os.R_OK):
        raise DataError(f"{path}: permission denied (cannot read the file)")


def _open_binary(path: str | os.PathLike) -> IO[bytes]:
    try:
        if str(path).lower().endswith(".gz"):
            return gzip.open(path, "rb")
        # A large buffer: the reader is line-bound, and fewer system calls matter at a million lines.
        return open(path, "rb", buffering=1 << 20)
    except OSError as err:
        raise DataError(f"{path}: cannot open ({err.strerror or err})") from None


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """Stream `(line, object)` from a JSONL file; blank lines are skipped, their numbers still count.

    A `.json` file that starts with `[` is read as one JSON array (the whole file is loaded) and numbered
    by element.
    """
    handle = _open_binary(path)
    try:
        with handle:
            first = handle.peek(64)[:64] if hasattr(handle, "peek") else b""
            if first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
                yield from _iter_json_array(path, handle)
                return
            yield from _iter_lines(handle)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot read ({err})") from None


def _parse(text: str) -> Any:
    """`json.loads(text)` for one line, calling the C scanner directly when the line is a plain object.

    `json.loads` spends about as long in its Python wrappers (encoding checks, whitespace skipping, the
    end-of-input check) as in parsing a typical row. Anything unusual (leading space, trailing data, a
    parse error) goes through `json.loads`, so results and error messages are exactly its own.
    """
    if text[:1] == "{":
        try:
            value, end = _SCAN(text, 0)
        except (ValueError, StopIteration):
            pass
        else:
            if end == len(text) or text[end:].isspace():
                return value
    return json.loads(text)


def _iter_lines(handle: IO[bytes]) -> Iterator[tuple[int, Any]]:
    loads = _parse
    for line, raw in enumerate(handle, 1):
        if raw.isspace() or not raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            yield line, RowError("<row>", f"invalid UTF-8 at byte {err.start} of the line; save the file as UTF-8")
            continue
        if line == 1 and text.startswith("\ufeff"):
            text = text[1:]
        try:
            row = loads(text)
        except ValueError as err:  # json.JSONDecodeError, or a number too large to parse
            yield line, RowError("<row>", _json_reason(err, text))
            continue
        except RecursionError:
            yield line, RowError("<row>", "invalid JSON: nested too deeply to parse")
            continue
        # The line decoded as UTF-8, so a lone surrogate can only come from a \udXXX escape: only rows
        # whose raw bytes hold one need the (slower) walk over their strings.
        if (b"\\ud" in raw or b"\\uD" in raw) and (where := find_surrogate(row)) is not None:
            yield line, RowError(where, SURROGATE_REASON)
            continue
        yield line, row


def _json_reason(err: ValueError, text: str) -> str:
    if not isinstance(err, json.JSONDecodeError):
        return f"invalid JSON: {err}"
    end = len(text.rstrip("\r\n"))
    if err.pos >= end:
        return f"invalid JSON: {err.msg} at the end of the line (is the object cut short?)"
    return f"invalid JSON: {err.msg} at column {err.pos + 1}"


def _iter_json_array(path: str | os.PathLike, handle: IO[bytes]) -> Iterator[tuple[int, Any]]:
    try:
        data = json.loads(handle.read().decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: invalid UTF-8 at byte {err.start}; save the file as UTF-8") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: <file>: invalid JSON: {err.msg} at column {err.colno}") from None
    yield from enumerate(data, 1)


@contextmanager
def open_text_output(path: str | os.PathLike) -> Iterator[IO[str]]:
    """An atomic UTF-8 text handle for `path` (gzip-compressed when the name ends in .gz)."""
    with atomic_output(path) as tmp:
        if str(path).lower().endswith(".gz"):
            # Level 6 is gzip's own default and several times faster than Python's default of 9.
            raw: IO[bytes] = gzip.open(tmp, "wb", compresslevel=6)
        else:
            raw = open(tmp, "wb", buffering=1 << 20)  # noqa: SIM115 - closed by the wrapper
        # Strict encoding: a lone surrogate in a row is an error, not a silently corrupt file.
        with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as handle:
            yield handle
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())


def write_jsonl_lines(path: str | os.PathLike, lines: Iterable[str]) -> int:
    """Atomically write already-encoded JSON lines (no trailing newline each); return how many."""
    count = 0
    batch: list[str] = []
    with open_text_output(path) as handle:
        # Joined batches: one write call per thousand lines instead of two per line.
        for line in lines:
            batch.append(line)
            if len(batch) == 1024:
                handle.write("\n".join(batch) + "\n")
                count += len(batch)
                batch.clear()
        if batch:
            handle.write("\n".join(batch) + "\n")
            count += len(batch)
    return count


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Atomically write rows as JSONL (`.gz` compressed by name); return the number of rows written."""
    try:
        return write_jsonl_lines(path, (encode_row(row) for row in rows))
    except UnicodeEncodeError as err:
        raise DataError(f"{path}: a row holds a lone surrogate ({err.reason}); fix the text and retry") from None


def write_rows(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Write rows in the format the name of `path` asks for (JSONL, CSV or Parquet), atomically."""
    kind = file_kind(path) if not Path(path).is_dir() else "hf"
    if kind == "jsonl":
        return write_jsonl(path, rows)
    from alignlab.data import tabular

    if kind == "csv":
        return tabular.write_csv(path, rows)
    if kind == "parquet":
        return tabular.write_parquet(path, rows)
    raise DataError(f"{path}: cannot tell the output format; name it .jsonl, .jsonl.gz, .csv or .parquet")


def read_rows(path: str | os.PathLike, *, split: str | None = None) -> list[dict]:
    """All rows of a file in memory, without validation; a line that cannot be decoded raises `DataError`."""
    rows = []
    for line, row in iter_rows(path, split=split):
        if isinstance(row, RowError):
            raise DataError(f"{path}:{line}: {row.field}: {row.reason}")
        rows.append(row)
    return rows
