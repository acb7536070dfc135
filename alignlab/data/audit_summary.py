"""Turn an audit's counters into the `audit.json` dict and its one-sentence verdicts.

The keys are documented in `alignlab.data.audit`. Verdicts are written for a person deciding whether the
data can train a reward model: what was measured, how sure we are (95% CI, exact binomial test), and what
the finding means for training.
"""

from __future__ import annotations

from typing import Any

from alignlab.data.stats import (
    bias_level,
    clipped_range,
    correlation,
    describe,
    histogram,
    interval_text,
    percent,
    proportion,
)

AUDIT_VERSION = 1
MAX_GROUPS = 50
LOW_AGREEMENT = 0.6
# |r| at which a rating's correlation with response length is worth a sentence.
NOTABLE_CORRELATION = 0.3


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "0%"


def _length_bias(audit: Any) -> dict | None:
    if not audit.differences:
        return None
    result: dict[str, Any] = {}
    for unit in ("chars", "tokens"):
        longer, shorter = audit.pairs[f"{unit}_longer"], audit.pairs[f"{unit}_shorter"]
        stats = proportion(longer, longer + shorter)
        stats["ties"] = audit.pairs[f"{unit}_tie"]
        stats["level"] = bias_level(stats)
        result[f"by_{unit}"] = stats
    result["mean_chosen_minus_rejected_chars"] = sum(audit.differences) / len(audit.differences)
    return result


def length_verdict(bias: dict) -> str:
    """"chosen is longer in 62% of pairs (95% CI 60–64%, ...): strong length bias; ..." (by characters)."""
    stats = bias["by_chars"]
    if stats["share"] is None:
        return "length bias: every chosen/rejected pair has the same length; nothing to measure"
    ties = f", {stats['ties']:,} equal-length pairs left out" if stats["ties"] else ""
    head = f"chosen is longer in {percent(stats['share'])} of pairs ({interval_text(stats)}{ties})"
    level = stats["level"]
    if level == "none":
        return f"{head}: no detectable length bias"
    if stats["share"] > 0.5:
        return f"{head}: {level} length bias; a reward model can score well by preferring longer answers"
    return f"{head}: {level} reverse length bias; a reward model can score well by preferring shorter answers"


def _position_bias(audit: Any) -> dict | None:
    if not audit.position:
        return None
    first, second = audit.position["first"], audit.position["second"]
    stats = proportion(first, first + second)
    stats["unrecognised"] = audit.position["unrecognised"]
    stats["level"] = bias_level(stats)
    return stats


def position_verdict(stats: dict) -> str:
    if stats["share"] is None:
        return "position bias: no recognised chosen_position values (use a/b or first/second)"
    head = f"chosen was shown first in {percent(stats['share'])} of pairs ({interval_text(stats)})"
    if stats["level"] == "none":
        return f"{head}: no detectable position bias"
    which = "first" if stats["share"] > 0.5 else "second"
    return (f"{head}: {stats['level']} position bias; annotators favoured the answer shown {which}, so "
            "randomise the order shown and check the annotation interface")


def _labels(audit: Any) -> dict | None:
    if not audit.labels:
        return None
    desirable, undesirable = audit.labels[True], audit.labels[False]
    stats = proportion(desirable, desirable + undesirable)
    # KTO (Ethayarajh et al. 2024, section 4): keep desirable_weight*n_D / (undesirable_weight*n_U) in [1, 4/3].
    weights = {"desirable_weight": 1.0, "undesirable_weight": 1.0}
    if desirable and undesirable:
        if desirable < undesirable:
            weights["desirable_weight"] = round(undesirable / desirable, 3)
        elif desirable > 4 / 3 * undesirable:
            weights["undesirable_weight"] = round(3 * desirable / (4 * undesirable), 3)
    stats["suggested_kto_weights"] = weights
    stats["mean_completion_chars"] = {
        "desirable": describe(audit.label_chars[True])["mean"],
        "undesirable": describe(audit.label_chars[False])["mean"],
    }
    return stats


def labels_verdict(stats: dict) -> str:
    weights = stats["suggested_kto_weights"]
    head = (f"{percent(stats['share'])} of completions are labelled desirable ({stats['count']:,} of "
            f"{stats['trials']:,}; {interval_text(stats)})")
    if weights == {"desirable_weight": 1.0, "undesirable_weight": 1.0}:
        return f"{head}: balanced enough for KTO's default weights"
    return (f"{head}: imbalanced; for KTO set desirable_weight={weights['desirable_weight']} and "
            f"undesirable_weight={weights['undesirable_weight']}")


def _ratings(audit: Any) -> dict | None:
    if not audit.ratings:
        return None
    result = {}
    for attribute, counts in sorted(audit.ratings.items()):
        total = sum(counts.values())
        lengths, scores = audit.rating_lengths[attribute]
        result[attribute] = {
            "count": total,
            "mean": sum(score * n for score, n in counts.items()) / total,
            "histogram": {str(score): counts[score] for score in sorted(counts)},
            "length_correlation": correlation(lengths, scores),
        }
    return result


def _agreement(audit: Any) -> dict | None:
    if not audit.agreement:
        return None
    values = audit.agreement
    bins = [0] * 10
    for value in values:
        bins[min(9, int(value * 10))] += 1
    low = sum(value < LOW_AGREEMENT for value in values)
    return {**describe(values), "histogram": {"edges": [i / 10 for i in range(11)], "counts": bins},
            "low_agreement_share": low / len(values)}


def _dialect_card(audit: Any) -> dict | None:
    """The dialect classifier's held-out numbers, when some prompt was Arabic (so the breakdown used it)."""
    if not set(audit.groups["dialect"]) - {"(none)"}:
        return None
    from alignlab.data.dialect import dialect_classifier

    card = dialect_classifier().card
    heldout = card["heldout"]
    return {"model": card["model"], "data": card["data"], "accuracy": heldout["accuracy"], "ci95": heldout["ci95"],
            "macro_f1": heldout["macro_f1"], "majority_baseline": heldout["majority_baseline"],
            "per_dialect_recall": {k: v["recall"] for k, v in heldout["per_dialect"].items()}}


def _breakdown(audit: Any, valid: int) -> dict:
    result = {}
    for name, groups in audit.groups.items():
        if set(groups) <= {"(none)"}:
            result[name] = []
            continue
        entries = []
        for group, counts in sorted(groups.items(), key=lambda item: -item[1]["rows"])[:MAX_GROUPS]:
            differing = counts["longer"] + counts["shorter"]
            entries.append({"name": group, "rows": counts["rows"], "share": counts["rows"] / valid if valid else 0,
                            "chosen_longer_share": counts["longer"] / differing if differing else None})
        result[name] = entries
    return result


def _dialect_verdict(report: dict) -> str | None:
    """One sentence on the dialect mix of the Arabic prompts, when there are enough of them to say something."""
    read = {e["name"]: e["rows"] for e in report["breakdown"].get("dialect") or [] if e["name"] != "(none)"}
    arabic = sum(read.values())
    if arabic < 20:
        return None
    top, rows = max(read.items(), key=lambda item: item[1])
    mix = ", ".join(f"{name} {percent(n / arabic)}" for name, n in sorted(read.items(), key=lambda i: -i[1]))
    accuracy = (report.get("dialect_classifier") or {}).get("accuracy")
    note = f" (a classifier's reading, held-out accuracy {accuracy:.2f})" if accuracy is not None else ""
    if rows / arabic >= 0.8:
        return (f"{percent(rows / arabic)} of the {arabic:,} Arabic prompts read as {top}{note}: other dialects are "
                f"scarce ({mix}); a model trained on this data may serve them worse")
    return f"Arabic prompts by dialect{note}: {mix}"


def _verdicts(report: dict) -> list[str]:
    verdicts = []
    if report["invalid_rows"]:
        verdicts.append(f"{report['invalid_rows']:,} of {report['rows']:,} rows are invalid and were left out; "
                        f"`alignlab data validate {report['path']}` lists every problem")
    duplicates = report["duplicates"]
    if duplicates["exact"]:
        verdicts.append(f"{duplicates['exact']:,} rows ({_share(duplicates['exact'], report['valid_rows'])}) "
                        "repeat an earlier row exactly; `alignlab data convert` drops them, keeping the first")
    if duplicates["near"]:
        verdicts.append(f"{duplicates['near']:,} rows are near duplicates of an earlier row (equal after "
                        "case, punctuation, spacing and Arabic spelling variants are ignored); check whether they "
                        "should count twice")
    if report["length_bias"]:
        verdicts.append(length_verdict(report["length_bias"]))
    if report["position_bias"]:
        verdicts.append(position_verdict(report["position_bias"]))
    if report["labels"]:
        verdicts.append(labels_verdict(report["labels"]))
    for attribute, stats in (report["ratings"] or {}).items():
        r = stats["length_correlation"]
        if r is not None and abs(r) >= NOTABLE_CORRELATION:
            direction = "longer" if r > 0 else "shorter"
            verdicts.append(f"{attribute} ratings correlate with response length (r = {r:.2f}): raters "
                            f"rewarded {direction} answers, and a model trained on them will too")
    dialect = _dialect_verdict(report)
    if dialect:
        verdicts.append(dialect)
    if report["agreement"]:
        stats = report["agreement"]
        verdicts.append(f"mean annotator agreement {stats['mean']:.2f}; {percent(stats['low_agreement_share'])} "
                        f"of rows below {LOW_AGREEMENT} (contested labels: consider dropping or down-weighting)")
    return verdicts


def _length_histograms(chars: dict[str, Any]) -> dict:
    """Per-field histograms; the response fields share one range so their bars line up when overlaid."""
    responses = [name for name in chars if name != "prompt"]
    ranges = [clipped_range(chars[name]) for name in responses if chars[name]]
    shared = (min(low for low, _ in ranges), max(high for _, high in ranges)) if ranges else None
    return {name: histogram(values, value_range=None if name == "prompt" else shared)
            for name, values in chars.items()}


def build_report(audit: Any, path: str) -> dict:
    """The `audit.json` dict for a finished `_Audit` accumulator."""
    valid = audit.rows - audit.invalid_rows
    report: dict[str, Any] = {
        "alignlab_audit_version": AUDIT_VERSION,
        "path": path,
        "format": audit.format,
        "rows": audit.rows,
        "valid_rows": valid,
        "invalid_rows": audit.invalid_rows,
        "problems": audit.problems,
        "duplicates": {"exact": audit.exact_count, "near": audit.near_count,
                       "exact_examples": audit.exact_examples, "near_examples": audit.near_examples,
                       "distinct_prompts": len(audit.prompts)},
        "lengths": {name: {"chars": describe(audit.chars[name]), "tokens": describe(audit.tokens[name])}
                    for name in audit.chars},
        "multi_turn_prompts": audit.multi_turn,
        "length_histograms": _length_histograms(audit.chars),
        "length_difference_histogram": histogram(audit.differences) if audit.differences else None,
        "length_bias": _length_bias(audit),
        "position_bias": _position_bias(audit),
        "labels": _labels(audit),
        "ratings": _ratings(audit),
        "ranking": {"responses_per_row": describe(audit.responses_per_row), "rows_with_ties": audit.rows_with_ties,
                    "implied_pairs": len(audit.differences)} if audit.format == "ranking" else None,
        "agreement": _agreement(audit),
        "annotators": {"distinct": len(audit.annotators), "top": audit.annotators.most_common(20)}
        if audit.annotators else None,
        "margins": describe(audit.margins) if audit.margins else None,
        "breakdown": _breakdown(audit, valid),
        "dialect_classifier": _dialect_card(audit),
    }
    report["verdicts"] = _verdicts(report)
    return report
