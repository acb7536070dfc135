"""Shipped-data readers: one-line errors naming the file and line; deterministic, stratified subsamples."""

from __future__ import annotations

import pytest

from alignlab.errors import DataError
from alignlab.eval.data import read_csv, read_jsonl, subsample, suite_file
from alignlab.eval.suite import SUITES, build_suite


def test_subsample_is_deterministic_order_independent_and_stratified():
    rows = [{"id": f"r{i}", "group": "a" if i < 90 else "b"} for i in range(100)]
    first = subsample(rows, 20, seed=1, strata="group")
    again = subsample(list(reversed(rows)), 20, seed=1, strata="group")
    assert sorted(r["id"] for r in first) == sorted(r["id"] for r in again)
    assert sum(r["group"] == "b" for r in first) == 2  # its proportional share: 10% of the set, 10% of the sample
    assert [r["id"] for r in first] == sorted((r["id"] for r in first), key=lambda i: int(i[1:]))  # input order
    assert subsample(rows, 20, seed=2) != subsample(rows, 20, seed=1)
    assert subsample(rows, None) == rows


def test_proportional_quotas_use_largest_remainders():
    from alignlab.eval.data import proportional_quotas

    assert proportional_quotas({"a": 1, "b": 1, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}  # ties by name
    assert proportional_quotas({"a": 7, "b": 2, "c": 1}, 5) == {"a": 4, "b": 1, "c": 0}  # 3.5, 1.0, 0.5
    assert proportional_quotas({"a": 50, "b": 1}, 3) == {"a": 3, "b": 0}
    assert sum(proportional_quotas({"x": 13, "y": 29, "z": 58}, 33).values()) == 33


def test_harmbench_limit_keeps_each_categorys_share():
    from alignlab.eval.data import eval_data_dir
    from alignlab.eval.suites.harmbench import HarmBench

    rows = HarmBench().load(eval_data_dir())
    chosen = subsample(rows, 100, seed=0, strata="functional_category")
    share = sum(r["functional_category"] == "copyright" for r in chosen) / len(chosen)
    assert len(chosen) == 100 and share == sum(r["functional_category"] == "copyright" for r in rows) / len(rows)


def test_read_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "ok"}\n{"id": 2, "text": \n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: invalid JSON"):
        read_jsonl(bad)
    missing_field = tmp_path / "field.jsonl"
    missing_field.write_text('{"id": 1}\n')
    with pytest.raises(DataError, match=r"field.jsonl:1: missing field 'text'"):
        read_jsonl(missing_field, required=("text",))
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    with pytest.raises(DataError, match="the file is empty"):
        read_csv(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,prompt\n")
    with pytest.raises(DataError, match="no data rows"):
        read_csv(header_only)
    with pytest.raises(DataError, match="shipped evaluation data is missing"):
        suite_file("bbq", "nope.jsonl", tmp_path)


def test_a_suite_on_a_corrupt_data_folder_fails_in_one_line(tmp_path):
    (tmp_path / "bbq").mkdir()
    (tmp_path / "bbq" / "bbq_subset.jsonl").write_text("not json\n")
    with pytest.raises(DataError, match=r"bbq_subset.jsonl:1: invalid JSON") as err:
        build_suite("bbq").load(tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", SUITES.names())
def test_every_suite_loads_its_shipped_data_with_unique_ids(name):
    from alignlab.eval.data import eval_data_dir

    examples = build_suite(name).load(eval_data_dir())
    ids = [e["id"] for e in examples]
    assert examples and len(ids) == len(set(ids))
