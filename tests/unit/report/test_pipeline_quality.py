"""The pipeline report's quality parts: the agreement ceiling, per-round quality rows and side-by-side samples."""

from __future__ import annotations

import pytest

from alignlab.pipeline.report_quality import agreement_ceiling, interval, quality_rows, samples_table


def _eval(round_number, tripped, prompts=("p1", "p2")):
    quality = {"distinct_2": {"value": 0.5 if tripped else 0.9, "low": 0.4, "high": 0.95}}
    rule = {"win_rate": {"value": 0.7, "low": 0.6, "high": 0.8}, "quality": quality,
            "baseline_quality": {"distinct_2": {"value": 0.9, "low": 0.85, "high": 0.95}},
            "guard": {"tripped": tripped, "action": "flag", "reasons": ["distinct-2 low"] if tripped else []},
            "samples": [{"prompt": p, "model": f"r{round_number} {p}", "baseline": f"sft {p}"} for p in prompts]}
    return {"round": round_number, "stage": "eval", "model_stage": f"dpo@r{round_number}", "baseline_stage": "sft",
            "metrics": {"rule": rule}}


def test_agreement_ceiling_counts_rule_ties_as_coin_flips():
    # 80 decided pairs, 90% of majorities follow the rule; 20 ties: (80 * 0.9 + 20 * 0.5) / 100
    assert agreement_ceiling({"records": 100, "rule_ties": 20, "majority_matches_rule": 0.9}) == pytest.approx(0.82)
    assert agreement_ceiling({"records": 10, "mean_agreement": 0.8}) == 0.8  # human panel: no hidden rule
    assert agreement_ceiling({}) is None


def test_quality_rows_put_the_baseline_first_and_flag_tripped_rounds():
    rows = quality_rows([_eval(1, False), _eval(2, True)])
    assert [r["label"] for r in rows] == ["sft (baseline)", "dpo@r1 (round 1)", "dpo@r2 (round 2)"]
    assert [r["flagged"] for r in rows] == [False, False, True] and rows[2]["reasons"] == ["distinct-2 low"]
    assert interval(rows[1]["metrics"]["distinct_2"]) == "0.900 [0.400, 0.950]" and interval(None) == "–"


def test_samples_table_lines_up_every_round_on_the_same_prompts():
    table = samples_table([_eval(1, False), _eval(2, False, prompts=("p2", "p1"))])
    assert table["labels"] == ["dpo@r1", "dpo@r2"]
    assert [row["answers"] for row in table["rows"]] == [["r1 p1", "r2 p1"], ["r1 p2", "r2 p2"]]
    assert table["rows"][0]["baseline"] == "sft p1"
