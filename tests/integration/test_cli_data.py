"""`alignlab data validate|audit|convert` through the real CLI, and the shipped HH-RLHF files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignlab.data import validate_file
from tests.unit.data.helpers import BROKEN_EXPECTED, BROKEN_LINES, BROKEN_MAX_CHARS, write_lines

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "preference_data" / "hh_rlhf_harmless"
# The row counts SOURCE.md documents.
SHIPPED_ROWS = {"train.jsonl": 2073, "test.jsonl": 230}


def assert_no_traceback(result):
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_lists_every_broken_row_by_line(cli, tmp_path):
    path = write_lines(tmp_path / "broken.jsonl", BROKEN_LINES)
    result = cli("data", "validate", str(path), "--max-chars", str(BROKEN_MAX_CHARS))
    assert result.returncode == 1
    assert_no_traceback(result)
    lines = result.stdout.strip().splitlines()
    for line, field, words in BROKEN_EXPECTED:
        prefix = f"{path}:{line}: {field}: "
        assert any(out.startswith(prefix) and words in out for out in lines), f"missing {prefix}{words}"
    assert lines[-1].startswith(f"{len(BROKEN_EXPECTED)} problems in 13 rows")


def test_validate_shipped_train_set(cli):
    result = cli("data", "validate", "preference_data/hh_rlhf_harmless/train.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "OK preference_data/hh_rlhf_harmless/train.jsonl: 2,073 pairwise rows, no problems"


def test_validate_missing_file_is_one_line(cli, tmp_path):
    result = cli("data", "validate", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'missing.jsonl'}: file not found"
    assert result.stdout == ""


def test_validate_other_format_and_csv(cli, tmp_path):
    path = write_lines(tmp_path / "kto.jsonl", [{"prompt": "p", "completion": "c", "label": "yes"}])
    result = cli("data", "validate", str(path), "--format", "unpaired")
    assert result.returncode == 1
    assert f"{path}:1: label: label must be true or false" in result.stdout
    csv = tmp_path / "pairs.csv"
    csv.write_text("prompt,chosen,rejected\nq,a,b\nq,a,a\n", encoding="utf-8")
    result = cli("data", "validate", str(csv))
    assert result.returncode == 1 and f"{csv}:3: rejected: identical to chosen" in result.stdout


def test_audit_writes_json_and_html(cli, tmp_path):
    out = tmp_path / "audit"
    result = cli("data", "audit", "preference_data/hh_rlhf_harmless/train.jsonl", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert report["valid_rows"] == SHIPPED_ROWS["train.jsonl"]
    assert report["length_bias"]["by_chars"]["trials"] > 2000
    assert "<html" in (out / "audit.html").read_text(encoding="utf-8")
    assert "chosen is longer in" in result.stdout


def test_convert_to_trl_then_validate_output(cli, tmp_path):
    out = tmp_path / "trl.jsonl"
    result = cli("data", "convert", "preference_data/hh_rlhf_harmless/test.jsonl", str(out), "--to", "trl")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}: 230 trl rows from 230 rows (0 exact duplicates dropped)" in result.stdout
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"prompt", "chosen", "rejected"}
    assert first["prompt"].startswith("\n\nHuman: ") and first["prompt"].endswith("\n\nAssistant:")
    assert validate_file(out).ok


def test_convert_stops_at_bad_row_and_writes_nothing(cli, tmp_path):
    source = write_lines(tmp_path / "broken.jsonl", BROKEN_LINES)
    out = tmp_path / "out.jsonl"
    result = cli("data", "convert", str(source), str(out), "--to", "trl")
    assert result.returncode == 1
    assert_no_traceback(result)
    assert result.stderr.startswith(f"error: {source}:2: <row>: invalid JSON")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(SHIPPED_ROWS))
def test_shipped_files_validate_with_documented_counts(name):
    report = validate_file(SHIPPED / name)
    assert report.ok, list(report.lines())[:5]
    assert report.rows == SHIPPED_ROWS[name]
    assert f"`{name}` | {SHIPPED_ROWS[name]:,}" in (SHIPPED / "SOURCE.md").read_text(encoding="utf-8")


def test_shipped_splits_are_disjoint_and_attributed():
    ids = {name: [json.loads(line)["id"] for line in (SHIPPED / name).open(encoding="utf-8")]
           for name in SHIPPED_ROWS}
    assert not set(ids["train.jsonl"]) & set(ids["test.jsonl"])
    assert (SHIPPED / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    row = json.loads((SHIPPED / "train.jsonl").open(encoding="utf-8").readline())
    assert row["source"] == "hh-rlhf/harmless-base" and row["prompt"][-1]["role"] == "user"
