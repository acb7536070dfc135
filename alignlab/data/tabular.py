"""CSV, Parquet, pandas and Hugging Face `datasets` in and out, in the shapes of `alignlab.data.io`.

Tables have flat cells, preference rows do not (message lists, ratings dicts, metadata). The rules:

- **CSV**: a list or dict cell is written as JSON; on reading, `metadata`, `ratings`, `responses`, `ranks`
  and `annotators` are decoded from JSON, a text field is decoded only when it holds a JSON list of chat
  messages, `label` reads true/false/1/0, numbers read as numbers. An empty cell is an absent field
  (an empty text field stays "" so that validation reports it).
- **Parquet / datasets**: each column gets one native Arrow type when every row agrees (strings, numbers,
  message lists as `list<struct<role, content>>`, ...); a column whose rows disagree, and every dict column
  (metadata and ratings keys vary by row), is stored as strings and named in the schema metadata
  `alignlab.json_columns`: text stays text, anything else is JSON. `datasets` does not keep that metadata,
  so string cells of the known fields are decoded by the CSV rules too. Nulls are absent fields.

pandas, pyarrow and datasets are imported inside the functions that use them.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from alignlab.data.records import TEXT_FIELDS
from alignlab.data.rows import SURROGATE_REASON, RowError, encode_row, find_surrogate
from alignlab.errors import DataError
from alignlab.utils.io import atomic_output

JSON_FIELDS = ("metadata", "ratings", "responses", "ranks", "annotators")
NUMBER_FIELDS = ("margin", "weight", "agreement")
JSON_COLUMNS_KEY = b"alignlab.json_columns"
BATCH_ROWS = 8192


# ----------------------------------------------------------------------------------------------- CSV


def _decode_cell(name: str, cell: str) -> Any:
    """A CSV cell back to the value it was written from (see the module docstring for the rules)."""
    if name in JSON_FIELDS:
        try:
            return json.loads(cell)
        except ValueError:
            return cell
    if name in TEXT_FIELDS:
        if cell.startswith("[{"):
            try:
                value = json.loads(cell)
            except ValueError:
                return cell
            if isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value):
                return value
        return cell
    if name in NUMBER_FIELDS:
        try:
            return float(cell) if any(c in cell for c in ".eEn") else int(cell)
        except ValueError:
            return cell
    if name == "label":
        return {"true": True, "false": False, "1": True, "0": False}.get(cell.strip().lower(), cell)
    return cell


def iter_csv(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """Stream `(line, row)` from a CSV file with a header; `line` is where the record starts."""
    # Preference text routinely exceeds csv's default 128 KiB field limit. The limit is global to the csv
    # module; raising it only lets other readers accept longer fields too.
    csv.field_size_limit(max(csv.field_size_limit(), min(sys.maxsize, 2**31 - 1)))
    # surrogateescape keeps reading past invalid UTF-8; validation then reports the affected cell.
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise DataError(f"{path}:1: <header>: invalid CSV: {err}") from None
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield start, RowError("<row>", f"invalid CSV: {err}")
                start = reader.line_num + 1
                continue
            if cells and any(cells):
                if len(cells) != len(header):
                    yield start, RowError("<row>", f"{len(cells)} cells for {len(header)} header columns")
                else:
                    row = {name: _decode_cell(name, cell) for name, cell in zip(header, cells, strict=True)
                           if cell != "" or name in TEXT_FIELDS}
                    where = find_surrogate(row)
                    yield start, (row if where is None else RowError(where, SURROGATE_REASON))
            start = reader.line_num + 1


def _encode_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def write_csv(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Atomically write rows as CSV; the header is every key any row has, in first-seen order."""
    with _Spool(rows) as (spool, columns, _kinds, count), atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in _read_spool(spool):
                writer.writerow([_encode_cell(row.get(name)) for name in columns])
    return count


# ------------------------------------------------------------------------------- spooling and typing


class _Spool:
    """Write rows to a temporary JSONL once, noting every column and the kinds of value it holds.

    Tables need their columns (and Parquet their types) before the first row is written; spooling keeps
    the writers streaming with no second pass over the caller's iterator.
    """

    def __init__(self, rows: Iterable[dict]) -> None:
        self.rows = rows

    def __enter__(self) -> tuple[Any, list[str], dict[str, set[str]], int]:
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        kinds: dict[str, set[str]] = {}
        count = 0
        for count, row in enumerate(self.rows, 1):  # noqa: B007 - count is the result
            for name, value in row.items():
                kinds.setdefault(name, set()).add(_kind(value))
            self.spool.write(encode_row(row))
            self.spool.write("\n")
        self.spool.seek(0)
        return self.spool, list(kinds), kinds, count

    def __exit__(self, *exc: object) -> None:
        self.spool.close()


def _read_spool(spool: Any) -> Iterator[dict]:
    for raw in spool:
        yield json.loads(raw)


def _is_message(value: Any) -> bool:
    return (isinstance(value, dict) and value.keys() == {"role", "content"}
            and isinstance(value["role"], str) and isinstance(value["content"], str))


def _kind(value: Any) -> str:
    """A tag for the Arrow type a value needs; a column is native when all its rows share one tag."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        if value and all(_is_message(m) for m in value):
            return "messages"
        if all(isinstance(v, str) for v in value):
            return "list<str>"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "list<int>"
        if value and all(isinstance(v, list) and v and all(_is_message(m) for m in v) for v in value):
            return "list<messages>"
    return "json"


def _arrow_type(kinds: set[str]) -> Any:
    """The Arrow type for a column whose values have these kinds, or None to store it as JSON strings."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    types = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string(),
             "messages": pa.list_(message), "list<str>": pa.list_(pa.string()),
             "list<int>": pa.list_(pa.int64()), "list<messages>": pa.list_(pa.list_(message))}
    kinds = kinds - {"null"}
    if kinds == {"int", "float"}:
        kinds = {"float"}
    # An empty list tags as list<str> and list<int> at once; prefer the other kind the column holds.
    if len(kinds) == 2 and "list<str>" in kinds and kinds & {"list<int>", "messages", "list<messages>"}:
        kinds = kinds - {"list<str>"}
    if len(kinds) == 1 and (kind := next(iter(kinds))) in types:
        return types[kind]
    if not kinds:
        return pa.string()
    return None


def _schema(columns: list[str], kinds: dict[str, set[str]]) -> tuple[Any, list[str]]:
    import pyarrow as pa

    fields, json_columns = [], []
    for name in columns:
        arrow_type = _arrow_type(kinds[name])
        if arrow_type is None:
            json_columns.append(name)
            arrow_type = pa.string()
        fields.append(pa.field(name, arrow_type))
    metadata = {JSON_COLUMNS_KEY: json.dumps(json_columns).encode()}
    return pa.schema(fields, metadata=metadata), json_columns


def _table(rows: list[dict], schema: Any, json_columns: list[str]) -> Any:
    import pyarrow as pa

    columns = {}
    for field in schema:
        values = [row.get(field.name) for row in rows]
        if field.name in json_columns:
            # Text stays text (a reader that ignores our metadata still sees the prompt); message lists
            # and everything else become JSON.
            keep_text = field.name in TEXT_FIELDS
            values = [None if v is None else v if keep_text and isinstance(v, str)
                      else json.dumps(v, ensure_ascii=False) for v in values]
        columns[field.name] = pa.array(values, type=field.type)
    return pa.table(columns, schema=schema)


def to_arrow_table(rows: Iterable[dict]) -> Any:
    """Rows (in memory) as a `pyarrow.Table` following the module's typing rules."""
    rows = list(rows)
    kinds: dict[str, set[str]] = {}
    for row in rows:
        for name, value in row.items():
            kinds.setdefault(name, set()).add(_kind(value))
    schema, json_columns = _schema(list(kinds), kinds)
    return _table(rows, schema, json_columns)


# ------------------------------------------------------------------------------------------ Parquet


def write_parquet(path: str | os.PathLike, rows: Iterable[dict], batch_rows: int = BATCH_ROWS) -> int:
    """Atomically write rows as Parquet, in row groups of `batch_rows`."""
    import pyarrow.parquet as pq

    with _Spool(rows) as (spool, columns, kinds, count), atomic_output(path) as tmp:
        schema, json_columns = _schema(columns, kinds)
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[dict] = []
            for row in _read_spool(spool):
                batch.append(row)
                if len(batch) >= batch_rows:
                    writer.write_table(_table(batch, schema, json_columns))
                    batch = []
            if batch or count == 0:
                writer.write_table(_table(batch, schema, json_columns))
    return count


def _clean(row: dict, json_columns: set[str]) -> dict:
    """Drop nulls (absent fields) and decode JSON-string columns."""
    out = {}
    for name, value in row.items():
        # pandas and Arrow spell an absent cell as None or NaN; neither is a value a row meant to hold.
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, str):
            if name in TEXT_FIELDS or (name in JSON_FIELDS and name not in json_columns):
                # Text columns hold text or JSON message lists; `datasets` drops our schema metadata, so
                # known fields are decoded by the CSV rules either way.
                value = _decode_cell(name, value)
            elif name in json_columns:
                value = json.loads(value)
        out[name] = value
    return out


def _json_columns(schema: Any) -> set[str]:
    raw = (schema.metadata or {}).get(JSON_COLUMNS_KEY)
    return set(json.loads(raw)) if raw else set()


def iter_parquet(path: str | os.PathLike, batch_rows: int = BATCH_ROWS) -> Iterator[tuple[int, Any]]:
    """Stream `(row number, row)` from a Parquet file, one row batch in memory at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        raise DataError(f"{path}: not a readable Parquet file ({err})") from None
    json_columns = _json_columns(parquet.schema_arrow)
    number = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        for row in batch.to_pylist():
            number += 1
            yield number, _clean(row, json_columns)


# ------------------------------------------------------------------------------ pandas and datasets


def to_dataframe(rows: Iterable[dict]) -> Any:
    """Rows as a `pandas.DataFrame` (lists and dicts stay Python objects in their cells)."""
    import pandas as pd

    return pd.DataFrame.from_records(list(rows))


def from_dataframe(frame: Any) -> Iterator[dict]:
    """Rows of a DataFrame as dicts, missing cells (None / NaN) dropped so they read as absent fields."""
    for row in frame.to_dict("records"):
        yield _clean(row, set())


def to_hf_dataset(rows: Iterable[dict]) -> Any:
    """Rows as a `datasets.Dataset`, typed like Parquet (`save_to_disk` it, or push it to a hub)."""
    import datasets

    return datasets.Dataset(to_arrow_table(rows))


def from_hf_dataset(dataset: Any) -> Iterator[tuple[int, dict]]:
    """Stream `(row number, row)` from a loaded `datasets.Dataset`."""
    json_columns = _json_columns(dataset.data.schema)
    for number, row in enumerate(dataset, 1):
        yield number, _clean(row, json_columns)


def load_hf_dataset(name_or_path: str | os.PathLike, split: str | None = None) -> Any:
    """A `datasets.Dataset` from a `save_to_disk` folder, or by hub name via `load_dataset`.

    With no network (or `HF_DATASETS_OFFLINE=1`) a hub name that is not cached raises a one-line `DataError`.
    """
    import datasets

    target = str(name_or_path)
    if Path(target).is_dir():
        try:
            loaded = datasets.load_from_disk(target)
        except Exception as err:  # noqa: BLE001 - any failure here is "not a datasets folder"
            raise DataError(f"{target}: not a folder written by datasets.save_to_disk ({_first_line(err)})"
                            ) from None
    else:
        try:
            loaded = datasets.load_dataset(target, split=split)
        except Exception as err:  # noqa: BLE001 - network, auth, missing dataset: all one user-facing error
            raise DataError(
                f"{target}: no such file, and loading it as a Hugging Face dataset failed "
                f"({_first_line(err)}); offline, pass a local .jsonl/.csv/.parquet file or a save_to_disk folder"
            ) from None
    if isinstance(loaded, datasets.DatasetDict):
        if split is None and len(loaded) == 1:
            split = next(iter(loaded))
        if split not in loaded:
            raise DataError(f"{target}: choose a split with --split (available: {', '.join(loaded)})")
        loaded = loaded[split]
    return loaded


def iter_hf_rows(name_or_path: str | os.PathLike, split: str | None = None) -> Iterator[tuple[int, dict]]:
    return from_hf_dataset(load_hf_dataset(name_or_path, split))


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
