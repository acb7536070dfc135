"""Readers and writers: round trips through JSONL (.gz), CSV, Parquet, pandas and HF datasets."""

from __future__ import annotations

import json
import os
import stat

import pytest

from alignlab.data import (
    RowError,
    from_dataframe,
    iter_rows,
    read_rows,
    to_dataframe,
    to_hf_dataset,
    validate_file,
    write_jsonl,
    write_rows,
)
from alignlab.data.io import file_kind
from alignlab.data.tabular import load_hf_dataset
from alignlab.errors import DataError
from tests.unit.data.helpers import pair, write_lines


@pytest.mark.parametrize("name", ["data.jsonl", "data.jsonl.gz", "data.csv", "data.parquet"])
def test_round_trip_by_extension(records, tmp_path, name):
    path = tmp_path / name
    assert write_rows(path, records) == len(records)
    assert read_rows(path) == records
    assert validate_file(path).ok


def test_jsonl_numbers_lines_and_skips_blank_ones(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", [pair(), "", "   ", pair(prompt="again")])
    assert [line for line, _ in iter_rows(path)] == [1, 4]


def test_jsonl_bom_and_json_array(tmp_path):
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(pair()).encode() + b"\n")
    assert read_rows(bom) == [pair()]
    array = tmp_path / "rows.json"
    array.write_text(json.dumps([pair(), pair(prompt="b")]), encoding="utf-8")
    assert [line for line, _ in iter_rows(array)] == [1, 2]


def test_undecodable_line_is_a_row_error_not_an_exception(tmp_path):
    path = write_lines(tmp_path / "d.jsonl", ["{not json", pair()])
    rows = list(iter_rows(path))
    assert isinstance(rows[0][1], RowError) and rows[1] == (2, pair())
    with pytest.raises(DataError, match=r"d\.jsonl:1: <row>: invalid JSON"):
        read_rows(path)


def test_writes_are_atomic_and_readable_by_others(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [pair()])

    def rows_then_failure():
        yield pair(prompt="new")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, rows_then_failure())
    assert read_rows(path) == [pair()]  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary left behind
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o044  # group/other can read, as with any user file


def test_csv_cells_decode_to_typed_values(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        'prompt,chosen,rejected,margin,label,metadata,note\n'
        '"[{""role"": ""user"", ""content"": ""hi""}]",a,b,2,TRUE,"{""k"": 1}",\n'
        '[not json,a,b,0.5,no,,kept\n',
        encoding="utf-8",
    )
    first, second = read_rows(path)
    assert first == {"prompt": [{"role": "user", "content": "hi"}], "chosen": "a", "rejected": "b",
                     "margin": 2, "label": True, "metadata": {"k": 1}}
    assert second == {"prompt": "[not json", "chosen": "a", "rejected": "b", "margin": 0.5, "label": "no",
                      "note": "kept"}


def test_parquet_mixed_column_is_stored_as_json(tmp_path):
    rows = [pair(), pair(prompt=[{"role": "user", "content": "hi"}], chosen="x")]
    path = tmp_path / "mixed.parquet"
    write_rows(path, rows)
    assert read_rows(path) == rows
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    assert str(schema.field("prompt").type) == "string"  # str + messages in one column -> JSON text
    assert json.loads(schema.metadata[b"alignlab.json_columns"]) == ["prompt"]


def test_parquet_messages_are_native_lists(tmp_path, records):
    rows = [r for r in records if isinstance(r["prompt"], list)] * 3
    path = tmp_path / "chat.parquet"
    write_rows(path, rows)
    import pyarrow.parquet as pq

    assert str(pq.read_schema(path).field("prompt").type).startswith("list<")
    assert read_rows(path) == rows


def test_pandas_round_trip(records):
    frame = to_dataframe(records)
    assert len(frame) == len(records)
    assert list(from_dataframe(frame)) == records


def test_hf_datasets_round_trip_through_save_to_disk(records, tmp_path):
    folder = tmp_path / "hf"
    to_hf_dataset(records).save_to_disk(str(folder))
    assert file_kind(folder) == "hf"
    assert [row for _, row in iter_rows(folder)] == records
    assert validate_file(folder).ok


def test_hf_dataset_dict_needs_a_split(records, tmp_path):
    import datasets

    folder = tmp_path / "dd"
    datasets.DatasetDict({"train": to_hf_dataset(records), "test": to_hf_dataset(records[:1])}).save_to_disk(
        str(folder))
    assert len(read_rows(folder, split="test")) == 1
    with pytest.raises(DataError, match="available: train, test"):
        read_rows(folder)


def test_unreachable_hub_name_is_one_data_error(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="loading it as a Hugging Face dataset failed"):
        load_hf_dataset("no-such-org/no-such-preferences")


def test_unknown_extension_for_an_existing_file(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="unknown file type"):
        read_rows(path)
