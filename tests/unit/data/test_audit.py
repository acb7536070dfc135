"""Audit numbers on constructed files whose answers are known by hand."""

from __future__ import annotations

import json
import math

import pytest

import alignlab.data.audit as audit_module
from alignlab.data import audit_file, write_audit
from tests.unit.data.helpers import pair, write_lines


def biased_rows() -> list:
    """62 pairs with the longer chosen, 38 with the shorter, 5 equal-length ones, 70/30 shown first."""
    rows = []
    for i in range(100):
        long, short = f"a long and detailed answer number {i}", f"short {i}"
        chosen, rejected = (long, short) if i < 62 else (short, long)
        rows.append(pair(f"Question {i}?", chosen, rejected, source="<script>alert(1)</script>",
                         metadata={"chosen_position": "a" if i < 70 else "b"}, agreement=1.0 if i % 2 else 0.5))
    rows += [pair(f"Tie {i}?", f"abc {i}", f"xyz {i}") for i in range(5)]
    rows += [rows[0], rows[1], rows[2]]                 # lines 106-108: exact duplicates of lines 1-3
    rows.append(pair("TIE 0", "ABC 0!", "xyz  0"))      # line 109: near duplicate of line 101
    rows.append(pair(chosen=""))                        # line 110: invalid
    return rows


@pytest.fixture
def biased_report(tmp_path):
    return audit_file(write_lines(tmp_path / "biased.jsonl", biased_rows()), "pairwise")


def test_length_bias_numbers(biased_report):
    bias = biased_report["length_bias"]["by_chars"]
    assert (bias["count"], bias["trials"], bias["ties"]) == (62, 100, 6)
    assert bias["share"] == pytest.approx(0.62)
    assert bias["ci95"] == pytest.approx([0.52210, 0.70902], abs=1e-5)  # Wilson, by hand in test_stats
    assert bias["p_value"] == pytest.approx(2 * sum(math.comb(100, i) for i in range(39)) / 2**100)
    assert bias["level"] == "strong"
    verdict = next(v for v in biased_report["verdicts"] if v.startswith("chosen is longer"))
    assert verdict.startswith("chosen is longer in 62% of pairs (95% CI 52–71%, binomial p = 0.021")
    assert verdict.endswith("strong length bias; a reward model can score well by preferring longer answers")


def test_counts_duplicates_and_invalid_rows(biased_report):
    report = biased_report
    assert (report["rows"], report["valid_rows"], report["invalid_rows"]) == (110, 109, 1)
    assert report["problems"][0].endswith(":110: chosen: empty text")
    duplicates = report["duplicates"]
    assert duplicates["exact"] == 3 and duplicates["exact_examples"] == [[106, 1], [107, 2], [108, 3]]
    assert duplicates["near"] == 1 and duplicates["near_examples"] == [[109, 101]]
    assert report["lengths"]["prompt"]["chars"]["count"] == 106  # exact duplicates counted once


def test_position_agreement_and_breakdown(biased_report):
    position = biased_report["position_bias"]
    assert (position["count"], position["trials"], position["level"]) == (70, 100, "strong")
    assert biased_report["agreement"]["mean"] == pytest.approx(0.75)
    assert biased_report["agreement"]["low_agreement_share"] == pytest.approx(0.5)
    source = biased_report["breakdown"]["source"][0]
    assert source["rows"] == 100 and source["chosen_longer_share"] == pytest.approx(0.62)


def test_no_bias_verdict(tmp_path):
    rows = [pair(f"q{i}", "x" * (10 + i % 2), "y" * (10 + (i + 1) % 2)) for i in range(40)]
    report = audit_file(write_lines(tmp_path / "even.jsonl", rows))
    assert report["length_bias"]["by_chars"]["level"] == "none"
    assert any("no detectable length bias" in v for v in report["verdicts"])


def test_unpaired_label_balance_and_kto_weights(tmp_path):
    rows = [{"prompt": f"q{i}", "completion": f"answer {i}", "label": i < 30} for i in range(100)]
    labels = audit_file(write_lines(tmp_path / "kto.jsonl", rows), "unpaired")["labels"]
    assert (labels["count"], labels["trials"]) == (30, 100)
    assert labels["suggested_kto_weights"] == {"desirable_weight": pytest.approx(70 / 30, abs=1e-3),
                                               "undesirable_weight": 1.0}


def test_ratings_histograms_and_length_correlation(tmp_path):
    rows = [{"prompt": f"q{i}", "response": "word " * (i + 1), "ratings": {"helpfulness": i % 5, "verbosity": 2}}
            for i in range(20)]
    ratings = audit_file(write_lines(tmp_path / "r.jsonl", rows), "ratings")["ratings"]
    assert ratings["helpfulness"]["histogram"] == {"0": 4, "1": 4, "2": 4, "3": 4, "4": 4}
    assert ratings["verbosity"]["length_correlation"] is None  # constant ratings
    assert ratings["helpfulness"]["length_correlation"] > 0


def test_ranking_implied_pairs(tmp_path):
    rows = [{"prompt": "q", "responses": ["aaaa", "bb", "c"], "ranks": [1, 2, 2]}]
    report = audit_file(write_lines(tmp_path / "rank.jsonl", rows), "ranking")
    assert report["ranking"]["implied_pairs"] == 2 and report["ranking"]["rows_with_ties"] == 1
    assert report["length_bias"]["by_chars"]["count"] == 2


def test_write_audit_outputs_escaped_html_and_json(biased_report, tmp_path):
    written = write_audit(biased_report, tmp_path / "audit")
    assert json.loads(open(written["json"], encoding="utf-8").read())["rows"] == 110
    html = open(written["html"], encoding="utf-8").read()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "data:image/png;base64," in html
    assert "strong length bias" in html


def test_every_report_key_is_documented(biased_report):
    doc = audit_module.__doc__
    for key in biased_report:
        assert f"`{key}`" in doc, f"audit.json key {key!r} is not described in alignlab.data.audit"


@pytest.mark.parametrize(
    ("fmt", "rows"),
    [
        ("pairwise", []),
        ("unpaired", [{"prompt": "q", "completion": "c", "label": True, "annotators": ["a"]}]),
        ("ratings", [{"prompt": "q", "response": "r", "ratings": {"helpfulness": 2}}]),
        ("ranking", [{"prompt": "q", "responses": ["a", "b"], "ranks": [1, 2], "margin": 1}]),
    ],
)
def test_every_format_renders(tmp_path, fmt, rows):
    report = audit_file(write_lines(tmp_path / "d.jsonl", rows), fmt)
    written = write_audit(report, tmp_path / "out")
    assert "</html>" in open(written["html"], encoding="utf-8").read()
