"""Dataset mixtures: per-source fractions, splits and columns, read wherever a data path goes."""

from __future__ import annotations

import json

import pytest

from alignlab.data.io import read_rows
from alignlab.errors import DataError


def _jsonl(path, n, tag):
    path.write_text("".join(json.dumps({"prompt": f"{tag}{i}", "chosen": "a", "rejected": "b", "extra": i}) + "\n"
                            for i in range(n)))


def test_fractions_columns_and_a_stable_draw(tmp_path):
    _jsonl(tmp_path / "a.jsonl", 10, "a")
    _jsonl(tmp_path / "b.jsonl", 20, "b")
    mix = tmp_path / "mix.mixture.yaml"
    mix.write_text("mixture:\n  seed: 3\n  sources:\n    - {path: a.jsonl, fraction: 1.0}\n"
                   "    - {path: b.jsonl, fraction: 0.25, columns: [prompt, chosen, rejected]}\n")
    rows = read_rows(mix)
    assert len(rows) == 10 + 5
    assert [r["prompt"] for r in rows[:10]] == [f"a{i}" for i in range(10)]
    picked = rows[10:]
    assert all(set(r) == {"prompt", "chosen", "rejected"} and r["prompt"].startswith("b") for r in picked)
    assert read_rows(mix) == rows  # the same seed keeps the same rows


def test_bad_mixture_is_one_line(tmp_path):
    _jsonl(tmp_path / "a.jsonl", 2, "a")
    mix = tmp_path / "m.yaml"
    mix.write_text("mixture:\n  sources:\n    - {path: a.jsonl, fraction: 1.5}\n")
    with pytest.raises(DataError, match=r"m.yaml: mixture.sources\[0\].fraction: 1.5; use a share in \(0, 1\]"):
        read_rows(mix)
    mix.write_text("mixture:\n  sources:\n    - {path: a.jsonl, columns: [nope]}\n")
    with pytest.raises(DataError, match="no column 'nope'"):
        read_rows(mix)
