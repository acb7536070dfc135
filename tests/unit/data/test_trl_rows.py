"""TRL dataset layouts read where alignlab reads preference data: implicit-prompt conversational rows
(trl-lib/ultrafeedback_binarized) and UltraFeedback's own layout (HuggingFaceH4/ultrafeedback_binarized)."""

from __future__ import annotations

import json

import pytest

from alignlab.data.convert import convert_file
from alignlab.data.trl_format import is_trl_shaped, normalize_trl_row
from alignlab.data.validation import iter_records, validate_file
from alignlab.errors import DataError


def turns(question, answer):
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def implicit(i):  # trl-lib/ultrafeedback_binarized
    return {"chosen": turns(f"q{i}?", f"good {i}"), "rejected": turns(f"q{i}?", f"bad {i}"),
            "score_chosen": 8.0, "score_rejected": 3.5}


def ultrafeedback(i):  # HuggingFaceH4/ultrafeedback_binarized
    return {"prompt": f"q{i}?", "prompt_id": f"id{i}", "chosen": turns(f"q{i}?", f"good {i}"),
            "rejected": turns(f"q{i}?", f"bad {i}"), "messages": turns(f"q{i}?", f"good {i}"),
            "score_chosen": 7.0, "score_rejected": 6.0}


def write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("make", [implicit, ultrafeedback])
def test_both_layouts_validate_and_read_as_pairwise_records(tmp_path, make):
    path = write(tmp_path / "trl.jsonl", [make(i) for i in range(4)])
    assert validate_file(path).ok
    records = [record for _line, record in iter_records(path)]
    assert records[1]["prompt"] == [{"role": "user", "content": "q1?"}]
    assert records[1]["chosen"] == [{"role": "assistant", "content": "good 1"}]
    assert records[1]["rejected"] == [{"role": "assistant", "content": "bad 1"}]
    assert records[0]["margin"] == pytest.approx(make(0)["score_chosen"] - make(0)["score_rejected"])


def test_alignlab_origin_reads_rows_as_they_are(tmp_path):
    path = write(tmp_path / "trl.jsonl", [implicit(i) for i in range(3)])
    report = validate_file(path, origin="alignlab")
    assert not report.ok
    assert list(report.lines())[0] == f"{path}: prompt: missing required field (3 rows, lines 1, 2, 3)"


def test_convert_writes_canonical_and_trl_rows(tmp_path):
    path = write(tmp_path / "uf.jsonl", [ultrafeedback(i) for i in range(3)])
    convert_file(path, tmp_path / "out.jsonl", "trl-conversational")
    row = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert row == {"prompt": [{"role": "user", "content": "q0?"}],
                   "chosen": [{"role": "assistant", "content": "good 0"}],
                   "rejected": [{"role": "assistant", "content": "bad 0"}]}


def test_detection_leaves_alignlab_rows_alone_and_unsplittable_rows_to_the_checks(tmp_path):
    ours = {"prompt": "p", "chosen": "a", "rejected": "b"}
    assert not is_trl_shaped(ours)
    assert not is_trl_shaped({"prompt": "p", "chosen": [{"role": "assistant", "content": "a"}], "rejected": "b"})
    with pytest.raises(ValueError, match="share no leading prompt"):
        normalize_trl_row({"chosen": "apple", "rejected": "banana"})
    path = write(tmp_path / "bad.jsonl", [{"chosen": "same", "rejected": "same"}])
    with pytest.raises(DataError, match=r"bad.jsonl:1: prompt: missing required field"):
        list(iter_records(path))
