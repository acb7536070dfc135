"""convert_file: validate + dedupe + write, atomically, to every target."""

from __future__ import annotations

import json

import pytest

from alignlab.data import convert_file, read_rows, record_id, validate_file
from alignlab.errors import DataError
from tests.unit.data.helpers import CONVERSATION, pair, write_lines


@pytest.fixture
def source(tmp_path, records):
    return write_lines(tmp_path / "in.jsonl", records + [records[0], records[1]])  # two exact duplicates


def test_to_trl_standard(source, tmp_path, records):
    out = tmp_path / "trl.jsonl"
    summary = convert_file(source, out, to="trl")
    assert (summary.rows_in, summary.duplicates_dropped, summary.rows_out) == (6, 2, 4)
    rows = read_rows(out)
    assert all(set(row) == {"prompt", "chosen", "rejected"} and isinstance(row["prompt"], str) for row in rows)
    assert rows[0] == {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"}
    assert "wrote" in summary.line() and "2 exact duplicates dropped" in summary.line()


def test_to_trl_conversational(source, tmp_path):
    convert_file(source, tmp_path / "c.jsonl", "trl-conversational")
    rows = read_rows(tmp_path / "c.jsonl")
    assert all(isinstance(row["prompt"], list) for row in rows)
    assert rows[2]["prompt"] == CONVERSATION


def test_no_dedupe_keeps_duplicates_but_not_reused_ids(source, tmp_path):
    plain = write_lines(tmp_path / "plain.jsonl", [pair(), pair(), pair(chosen="x")])
    assert convert_file(plain, tmp_path / "all.jsonl", "trl", dedupe=False).rows_out == 3
    # `source` repeats whole rows that carry ids: dropped as duplicates by default, an id clash without dedupe
    with pytest.raises(DataError, match=r"in\.jsonl:5: id: duplicate id 'p1' \(first seen on line 1\)"):
        convert_file(source, tmp_path / "all.jsonl", "trl", dedupe=False)


def test_reused_id_on_new_content_is_an_error(tmp_path):
    source = write_lines(tmp_path / "in.jsonl", [pair(id="a"), pair(id="a", chosen="other")])
    with pytest.raises(DataError, match="duplicate id 'a'"):
        convert_file(source, tmp_path / "out.jsonl", "trl")


@pytest.mark.parametrize("name,to", [("c.jsonl", "jsonl"), ("c.parquet", "parquet"), ("c.csv", "csv"),
                                     ("c.jsonl.gz", "jsonl"), ("t.parquet", "trl")])
def test_canonical_targets_round_trip(source, tmp_path, records, name, to):
    out = tmp_path / name
    convert_file(source, out, to=to)
    rows = read_rows(out)
    assert len(rows) == 4
    if to != "trl":
        assert [row["id"] for row in rows] == [record_id(r) for r in records]
        assert validate_file(out).ok


def test_bad_row_stops_and_writes_nothing(tmp_path):
    source = write_lines(tmp_path / "in.jsonl", [pair(), pair(), pair(chosen="x", rejected="x"), pair()])
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"in\.jsonl:3: rejected: identical to chosen.*; nothing was written"):
        convert_file(source, out, to="trl", dedupe=False)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_target_must_match_output_name(source, tmp_path):
    with pytest.raises(DataError, match=r"--to parquet writes \.parquet files"):
        convert_file(source, tmp_path / "out.jsonl", to="parquet")
    with pytest.raises(DataError, match="unknown conversion target"):
        convert_file(source, tmp_path / "out.jsonl", to="tlr")
    with pytest.raises(DataError, match="output is the input"):
        convert_file(source, source, to="jsonl")


def test_ranking_and_ratings_become_trl_pairs(tmp_path):
    ranking = write_lines(tmp_path / "rank.jsonl", [{"prompt": "p", "responses": ["a", "b"], "ranks": [2, 1]}])
    convert_file(ranking, tmp_path / "r.jsonl", "trl", "ranking")
    assert read_rows(tmp_path / "r.jsonl") == [{"prompt": "p", "chosen": "b", "rejected": "a"}]
    ratings = write_lines(tmp_path / "rate.jsonl", [
        {"prompt": "p", "response": "good", "ratings": {"helpfulness": 4}},
        {"prompt": "p", "response": "bad", "ratings": {"helpfulness": 1}},
    ])
    convert_file(ratings, tmp_path / "h.jsonl", "trl", "ratings")
    assert read_rows(tmp_path / "h.jsonl") == [{"prompt": "p", "chosen": "good", "rejected": "bad"}]


def test_unpaired_to_trl(tmp_path):
    source = write_lines(tmp_path / "u.jsonl", [{"prompt": "p", "completion": "c", "label": True, "id": "u1"}])
    convert_file(source, tmp_path / "u_trl.jsonl", "trl", "unpaired")
    assert json.loads((tmp_path / "u_trl.jsonl").read_text()) == {"prompt": "p", "completion": "c", "label": True}
