"""The report's generation-quality parts: the per-policy quality table, side-by-side samples, the agreement
ceiling a reward model can reach on the panel's labels, and the training runs whose curves the page plots.

Each eval stage's `metrics.rule` (`alignlab.pipeline.evaluate`) holds the policy's and the baseline's
`quality`, the guard's verdict and a few side-by-side samples; these helpers lay them out per round.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

QUALITY_METRICS = ("distinct_1", "distinct_2", "repeated_2gram_rate", "mean_words", "finished",
                   "reference_perplexity", "sampled_kl")


def interval(metric: Any) -> str:
    """'0.812 [0.790, 0.834]' for a metric with an interval; '–' when missing."""
    if not isinstance(metric, dict) or metric.get("value") is None or math.isnan(metric["value"]):
        return "–"

    def fmt(v: float) -> str:
        return f"{v:.3g}" if abs(v) >= 100 else f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}"

    return f"{fmt(metric['value'])} [{fmt(metric['low'])}, {fmt(metric['high'])}]"


def agreement_ceiling(notes: dict[str, Any]) -> float | None:
    """Accuracy an oracle of the hidden rule scores against the majority labels (rule ties count 0.5)."""
    records, ties, matches = notes.get("records"), notes.get("rule_ties"), notes.get("majority_matches_rule")
    if not records:
        return None
    if matches is None or ties is None:
        return notes.get("mean_agreement")
    return round(((records - ties) * matches + 0.5 * ties) / records, 4)


def _rule(evaluation: dict[str, Any]) -> dict[str, Any]:
    return (evaluation.get("metrics") or {}).get("rule") or {}


def quality_rows(evals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The baseline (from the first eval that measured it) and one row per evaluated round."""
    rows: list[dict[str, Any]] = []
    measured = [e for e in evals if _rule(e).get("quality")]
    if not measured:
        return rows
    first = measured[0]
    rows.append({"label": f"{first.get('baseline_stage') or 'baseline'} (baseline)", "win": None,
                 "metrics": _rule(first).get("baseline_quality") or {}, "flagged": False, "checked": False})
    for evaluation in measured:
        rule = _rule(evaluation)
        guard = rule.get("guard") or {}
        label = evaluation.get("model_stage") or evaluation.get("stage")
        rows.append({"label": f"{label} (round {evaluation.get('round')})" if evaluation.get("round") else label,
                     "win": rule.get("win_rate"), "metrics": rule["quality"], "flagged": bool(guard.get("tripped")),
                     "reasons": guard.get("reasons") or [], "action": guard.get("action"), "checked": True})
    return rows


def samples_table(evals: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Prompts shared by every round's samples, with the baseline's answer and each round's."""
    measured = [e for e in evals if _rule(e).get("samples")]
    if not measured:
        return None
    base = _rule(measured[0])["samples"]
    by_round = [{s["prompt"]: s["model"] for s in _rule(e)["samples"]} for e in measured]
    rows = [{"prompt": s["prompt"], "baseline": s["baseline"],
             "answers": [answers.get(s["prompt"], "–") for answers in by_round]} for s in base]
    labels = [f"{e.get('model_stage') or e.get('stage')}" for e in measured]
    return {"baseline_label": measured[0].get("baseline_stage") or "baseline", "labels": labels, "rows": rows}


def guard_note(evals: list[dict[str, Any]]) -> str:
    """The thresholds the eval stages' guards used, in words."""
    found = next((_rule(e)["guard"] for e in evals if _rule(e).get("guard")), None)
    if not found:
        return "the eval stage's guard trips"
    limits = found.get("thresholds") or {}
    parts = []
    if limits.get("min_distinct_2_ratio"):
        parts.append(f"distinct-2 falls below {limits['min_distinct_2_ratio']:g}x the baseline's")
    if limits.get("max_perplexity_ratio"):
        parts.append(f"reference perplexity rises above {limits['max_perplexity_ratio']:g}x the baseline's")
    if limits.get("max_kl"):
        parts.append(f"the sampled KL exceeds {limits['max_kl']:g} nats")
    return (" or ".join(parts) or "never (every check is off)") + " (the eval stage's quality.guard)"


def training_runs(context: Any) -> list[tuple[Path, str]]:
    """(run folder, label) of every trained stage with a metrics.jsonl, ensemble members one by one."""
    out = []
    for record in context.finished:
        run = (record.get("outputs") or {}).get("run")
        if not run or record.get("kind") == "eval":
            continue
        label = record["key"]
        folders = sorted(Path(run).glob("members/*/metrics.jsonl"))
        if folders:
            out += [(f.parent, f"{label} {f.parent.name.replace('_', ' ')}") for f in folders]
        elif (Path(run) / "metrics.jsonl").is_file():
            out.append((Path(run), label))
    return out
