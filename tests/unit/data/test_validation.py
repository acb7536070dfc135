"""Row validation: every kind of broken row is reported with its line and field; valid rows pass."""

from __future__ import annotations

import pytest

from alignlab.data import RowChecker, iter_records, load_records, validate_file
from alignlab.errors import DataError
from tests.unit.data.helpers import (
    BROKEN_EXPECTED,
    BROKEN_LINES,
    BROKEN_MAX_CHARS,
    CONVERSATION,
    pair,
    write_lines,
)


def problems_of(row, fmt="pairwise", **limits) -> list[tuple[str, str]]:
    return RowChecker(fmt, **limits).check(row, 1)


def test_every_kind_of_broken_row_is_reported_by_line_and_field(tmp_path):
    path = write_lines(tmp_path / "broken.jsonl", BROKEN_LINES)
    report = validate_file(path, "pairwise", max_chars=BROKEN_MAX_CHARS)
    assert not report.ok
    found = {(p.line, p.field): p.reason for p in report.problems}
    for line, field, words in BROKEN_EXPECTED:
        assert (line, field) in found, f"line {line} field {field} not reported; got {sorted(found)}"
        assert words in found[(line, field)]
    assert {p.line for p in report.problems} == {line for line, _, _ in BROKEN_EXPECTED}
    assert report.rows == 13  # the blank line 13 is skipped, its number still counts
    assert report.problem_count == len(report.problems) == len(BROKEN_EXPECTED)
    lines = list(report.lines())
    assert lines[0].startswith(f"{path}:2: <row>: invalid JSON")
    assert lines[-1].startswith(f"{len(BROKEN_EXPECTED)} problems in 13 rows")


def test_valid_rows_of_every_shape_pass(records, tmp_path):
    report = validate_file(write_lines(tmp_path / "ok.jsonl", records), "pairwise")
    assert report.ok, list(report.lines())
    assert report.rows == len(records)
    assert report.summary().startswith("OK ")


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        (pair(chosen=[{"role": "user", "content": "4"}]), "chosen[0].role", "assistant"),
        (pair(prompt=[]), "prompt", "empty message list"),
        (pair(prompt=[{"role": "user"}]), "prompt[0].content", "missing required field"),
        (pair(prompt=["hi"]), "prompt[0]", "message object"),
        (pair(chosen=[{"role": "assistant", "content": "4"}]), "rejected", "both be strings or both"),
        (pair(weight=-1), "weight", "at least 0"),
        (pair(agreement=1.5), "agreement", "between 0 and 1"),
        (pair(margin=float("nan")), "margin", "finite number"),
        (pair(margin=True), "margin", "finite number"),
        (pair(source=3), "source", "expected a string"),
        (pair(annotators="ann1"), "annotators", "list of annotator names"),
        (pair(metadata=[1]), "metadata", "an object"),
        (pair(id=""), "id", "empty text"),
        (pair(prompt=None), "prompt", "got null"),
    ],
)
def test_pairwise_field_problems(row, field, words):
    problems = dict(problems_of(row))
    assert field in problems, problems
    assert words in problems[field]


def test_optional_null_is_absent():
    assert problems_of(pair(margin=None, source=None, metadata=None)) == []


def test_multi_turn_prompt_is_valid():
    assert problems_of(pair(CONVERSATION, [{"role": "assistant", "content": "Boil it."}],
                            [{"role": "assistant", "content": "No."}])) == []


def test_ranking_rules():
    ok = {"prompt": "p", "responses": ["a", "b", "c"], "ranks": [1, 2, 2]}
    assert problems_of(ok, "ranking") == []
    mismatch = dict(problems_of({**ok, "ranks": [1, 2]}, "ranking"))
    assert "3 responses" in mismatch["ranks"]
    assert "integer >= 1" in dict(problems_of({**ok, "ranks": [0, 1, 2]}, "ranking"))["ranks[0]"]
    assert "at least 2" in dict(problems_of({**ok, "responses": ["a"], "ranks": [1]}, "ranking"))["responses"]
    assert "empty text" in dict(problems_of({**ok, "responses": ["a", "", "c"]}, "ranking"))["responses[1]"]


def test_ratings_rules_with_default_and_custom_scales():
    ok = {"prompt": "p", "response": "r", "ratings": {"helpfulness": 3, "verbosity": 0}}
    assert problems_of(ok, "ratings") == []
    out = dict(problems_of({**ok, "ratings": {"helpfulness": 7, "funniness": 1}}, "ratings"))
    assert "out of range 0..4" in out["ratings.helpfulness"]
    assert "unknown attribute" in out["ratings.funniness"]
    assert "missing required field" in dict(problems_of({"prompt": "p", "response": "r"}, "ratings"))["ratings"]
    assert "empty ratings" in dict(problems_of({**ok, "ratings": {}}, "ratings"))["ratings"]
    custom = {"prompt": "p", "response": "r", "ratings": {"safety": 6.5}}
    assert problems_of(custom, "ratings", attributes=["safety"], scale=(1, 7)) == []
    assert "out of range 1..7" in dict(problems_of({**custom, "ratings": {"safety": 0}}, "ratings",
                                                   attributes=["safety"], scale=(1, 7)))["ratings.safety"]


def test_unpaired_label_must_be_bool():
    ok = {"prompt": "p", "completion": "c", "label": False}
    assert problems_of(ok, "unpaired") == []
    assert "true or false" in dict(problems_of({**ok, "label": "yes"}, "unpaired"))["label"]
    assert "true or false" in dict(problems_of({**ok, "label": 1}, "unpaired"))["label"]
    assert "missing" in dict(problems_of({"prompt": "p", "completion": "c"}, "unpaired"))["label"]


def test_unknown_format_is_a_data_error():
    with pytest.raises(DataError, match="choose one of pairwise, ranking, ratings, unpaired"):
        RowChecker("pairs")


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        validate_file(tmp_path / "nope.jsonl")
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    with pytest.raises(DataError, match="is a folder"):
        validate_file(folder)


def test_max_problems_keeps_counting(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [pair(chosen="", rejected="")] * 30)
    report = validate_file(path, max_problems=5)
    assert len(report.problems) == 5
    assert report.problem_count == 60 and report.bad_rows == 30
    lines = list(report.lines())  # one line per kind of problem, counted over every row
    assert lines[0] == f"{path}: chosen: empty text (30 rows, lines 1, 2, 3, 4, 5, ...)"
    assert lines[1].startswith(f"{path}: rejected: empty text (30 rows") and len(lines) == 3


def test_repeated_mistakes_are_grouped_by_kind_and_single_ones_keep_their_line(tmp_path):
    rows = [pair(chosen="")] * 3 + [{"chosen": "a", "rejected": "b", "prompt": f"p{i}", "margin": "x"}
                                    for i in range(2)] + [pair(rejected="")]
    path = write_lines(tmp_path / "mixed.jsonl", rows)
    lines = list(validate_file(path, max_problems=1).lines())
    assert lines[0] == f"{path}: chosen: empty text (3 rows, lines 1, 2, 3)"
    assert lines[1] == "... and 2 more kinds of problem not shown (raise --max-problems)"
    lines = list(validate_file(path).lines())
    assert any("margin" in line and "(2 rows, lines 4, 5)" in line for line in lines)
    assert f"{path}:6: rejected: empty text" in lines


def test_iter_records_stops_at_first_bad_row(tmp_path):
    path = write_lines(tmp_path / "data.jsonl", [pair(), pair(chosen="x", rejected="x"), pair()])
    seen = []
    with pytest.raises(DataError, match=r"data\.jsonl:2: rejected: identical to chosen"):
        for line, _record in iter_records(path):
            seen.append(line)
    assert seen == [1]


def test_load_records_returns_valid_dicts(records, tmp_path):
    assert load_records(write_lines(tmp_path / "ok.jsonl", records)) == records


def test_csv_problems_name_the_line_a_record_starts_on(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('prompt,chosen,rejected\nq,a,b\n"multi\nline",a,a\nq,,b\n', encoding="utf-8")
    report = validate_file(path)
    assert [(p.line, p.field) for p in report.problems] == [(3, "rejected"), (5, "chosen")]
