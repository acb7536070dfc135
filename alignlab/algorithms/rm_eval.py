"""Reward-model evaluation (`alignlab rm eval`): accuracy with a CI, per section, calibration, length bias,
agreement ceiling, ensemble uncertainty, and per-attribute errors for multi-attribute models.

    metrics = evaluate("reward_models/tiny_bt", "preference_data/hh_rlhf_harmless/test.jsonl")
    print(format_report(metrics))

Pairwise metrics (chosen wins when r_c > r_r; a tie counts one half):
- `accuracy` with a seeded percentile-bootstrap 95% CI (`alignlab.metrics.bootstrap`);
- `sections`: accuracy per `category` (else per `source`) and `section_mean`, the unweighted mean over
  sections, so a small section counts as much as a big one (RewardBench's way of averaging subsets);
- `calibration`: top-label ECE and Brier score of sigmoid(r_c - r_r), with the reliability bins;
- `length_bias`: accuracy on pairs whose chosen response is longer vs shorter (in tokens), and the Pearson and
  Spearman correlations of reward with response length over every scored response, and the accuracy of
  the rule "the shorter response wins" (`shorter_wins_baseline`; "longer wins" scores 1 minus it). A model
  that learned "longer is better" is accurate where chosen is longer and poor where it is shorter;
- `agreement`: where pairs carry annotator `agreement`, its mean is the ceiling (the accuracy a typical
  annotator reaches against the majority label) and `accuracy_vs_ceiling` compares the model to it;
- `uncertainty` (ensembles): mean member spread, and accuracy on the least vs most uncertain half of pairs.

Ratings metrics (`format="ratings"`): per-attribute MAE (rating units) and Spearman for multi-attribute
models, plus the pairwise metrics on pairs formed from the ratings by the model's attribute weights.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

import numpy as np

from alignlab.data.records import text_of
from alignlab.metrics.bootstrap import bootstrap_ci
from alignlab.metrics.calibration import (
    brier_score,
    expected_calibration_error,
    mean_absolute_error,
    pearson,
    reliability_bins,
    sigmoid,
    spearman,
)


def evaluate(model: Any, data: str | os.PathLike | list[dict], *, fmt: str = "pairwise", batch_size: int = 16,
             seed: int = 0) -> dict[str, Any]:
    """Evaluate a reward model (a `RewardModel` or a folder) on a file, a synthetic spec or records."""
    from alignlab.algorithms.rm_data import read_records, to_pairs
    from alignlab.models.reward import RewardModel

    rm = model if isinstance(model, RewardModel) else RewardModel.load(model)
    if isinstance(data, list):
        records = data
    else:
        attributes = rm.attributes if fmt == "ratings" else ()
        records = [r for _, r in read_records(str(data), fmt, attributes=attributes)]
    weights = dict(zip(rm.attributes, rm.weights.tolist(), strict=True)) or None
    if fmt == "ratings":
        return evaluate_ratings(rm, records, batch_size=batch_size, seed=seed, weights=weights)
    pairs = to_pairs(records, fmt, weights or {"helpfulness": 1.0})
    return evaluate_pairs(rm, pairs, batch_size=batch_size, seed=seed)


def _response_lengths(rm: Any, responses: list[Any]) -> np.ndarray:
    texts = [text_of(r) for r in responses]
    return np.asarray([len(ids) for ids in rm.tokenizer(texts, add_special_tokens=False)["input_ids"]], dtype=float)


def evaluate_pairs(rm: Any, pairs: list[dict], *, batch_size: int = 16, seed: int = 0) -> dict[str, Any]:
    """Pairwise metrics (module docstring) for pairwise records."""
    from alignlab.errors import DataError

    if not pairs:
        raise DataError("no pairs to evaluate: the data holds no usable chosen/rejected pairs")
    prompts = [p["prompt"] for p in pairs]
    chosen = rm.score(prompts, [p["chosen"] for p in pairs], batch_size=batch_size)
    rejected = rm.score(prompts, [p["rejected"] for p in pairs], batch_size=batch_size)
    diff = chosen.reward - rejected.reward  # (P,)
    correct = np.where(diff > 0, 1.0, np.where(diff == 0, 0.5, 0.0))
    probs = sigmoid(diff)
    ci = bootstrap_ci(correct, seed=seed)
    metrics: dict[str, Any] = {
        "pairs": len(pairs),
        "accuracy": float(correct.mean()),
        "accuracy_ci95": [ci.low, ci.high],
        "mean_margin": float(diff.mean()),
        "sections": _sections(pairs, correct),
        "calibration": {"ece": expected_calibration_error(probs), "brier": brier_score(probs),
                        "bins": reliability_bins(probs)},
        "length_bias": _length_bias(rm, pairs, chosen.reward, rejected.reward, correct),
    }
    agreement = _agreement(pairs, correct)
    if agreement:
        metrics["agreement"] = agreement
    if chosen.std is not None:
        metrics["uncertainty"] = _uncertainty(chosen.std, rejected.std, correct)
    return metrics


def _sections(pairs: list[dict], correct: np.ndarray) -> dict[str, Any]:
    key = "category" if any(p.get("category") for p in pairs) else "source"
    groups: dict[str, list[float]] = defaultdict(list)
    for pair, value in zip(pairs, correct, strict=True):
        groups[str(pair.get(key) or "(none)")].append(float(value))
    table = {name: {"n": len(values), "accuracy": float(np.mean(values))} for name, values in sorted(groups.items())}
    return {"by": key, "table": table,
            "section_mean": float(np.mean([row["accuracy"] for row in table.values()]))}


def _length_bias(rm: Any, pairs: list[dict], reward_chosen: np.ndarray, reward_rejected: np.ndarray,
                 correct: np.ndarray) -> dict[str, Any]:
    chosen_len = _response_lengths(rm, [p["chosen"] for p in pairs])
    rejected_len = _response_lengths(rm, [p["rejected"] for p in pairs])
    longer, shorter = chosen_len > rejected_len, chosen_len < rejected_len
    rewards = np.concatenate([reward_chosen, reward_rejected])
    lengths = np.concatenate([chosen_len, rejected_len])

    def share(mask: np.ndarray) -> dict[str, Any]:
        return {"n": int(mask.sum()), "accuracy": float(correct[mask].mean()) if mask.any() else None}

    same = ~longer & ~shorter
    return {"chosen_longer": share(longer), "chosen_shorter": share(shorter), "same_length": int(same.sum()),
            # What "the shorter response wins" scores (a tie counts one half): the bar a length-only model clears.
            "shorter_wins_baseline": float((shorter.sum() + 0.5 * same.sum()) / len(pairs)),
            "reward_length_pearson": pearson(rewards, lengths), "reward_length_spearman": spearman(rewards, lengths)}


def _agreement(pairs: list[dict], correct: np.ndarray) -> dict[str, Any] | None:
    values = np.asarray([p.get("agreement", np.nan) for p in pairs], dtype=float)
    known = ~np.isnan(values)
    if not known.any():
        return None
    ceiling = float(values[known].mean())
    accuracy = float(correct[known].mean())
    unanimous = known & (values >= 1.0)
    split = known & (values < 1.0)
    return {"pairs": int(known.sum()), "ceiling": ceiling, "accuracy": accuracy,
            "accuracy_vs_ceiling": accuracy / ceiling if ceiling else None,
            "accuracy_unanimous": float(correct[unanimous].mean()) if unanimous.any() else None,
            "accuracy_split": float(correct[split].mean()) if split.any() else None}


def _uncertainty(std_chosen: np.ndarray, std_rejected: np.ndarray, correct: np.ndarray) -> dict[str, Any]:
    spread = (std_chosen + std_rejected) / 2.0  # (P,)
    order = np.argsort(spread, kind="mergesort")
    half = len(order) // 2
    low, high = order[:half], order[half:]
    return {"mean_std": float(spread.mean()),
            "accuracy_low_uncertainty": float(correct[low].mean()) if half else None,
            "accuracy_high_uncertainty": float(correct[high].mean()) if len(high) else None}


def evaluate_ratings(rm: Any, records: list[dict], *, batch_size: int = 16, seed: int = 0,
                     weights: dict[str, float] | None = None) -> dict[str, Any]:
    """Per-attribute MAE and Spearman (multi-attribute models) and pairwise metrics on pairs from ratings."""
    from alignlab.data.pairs import ratings_to_pairs

    metrics: dict[str, Any] = {"responses": len(records)}
    if rm.attributes:
        scores = rm.score([r["prompt"] for r in records], [r["response"] for r in records], batch_size=batch_size)
        per_attribute = {}
        for index, name in enumerate(rm.attributes):
            target = np.asarray([r["ratings"][name] for r in records], dtype=float)
            predicted = scores.attributes[:, index]
            per_attribute[name] = {"mae": mean_absolute_error(predicted, target),
                                   "spearman": spearman(predicted, target)}
        metrics["attributes"] = per_attribute
    pairs = list(ratings_to_pairs(records, weights or {"helpfulness": 1.0}))
    if pairs:
        metrics["pairwise"] = evaluate_pairs(rm, pairs, batch_size=batch_size, seed=seed)
    return metrics


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a summary or a model card table shows."""
    pairwise = metrics.get("pairwise", metrics)
    out: dict[str, Any] = {}
    if "accuracy" in pairwise:
        out.update(pairs=pairwise["pairs"], accuracy=pairwise["accuracy"], accuracy_ci95=pairwise["accuracy_ci95"],
                   ece=pairwise["calibration"]["ece"], brier=pairwise["calibration"]["brier"],
                   section_mean=pairwise["sections"]["section_mean"])
    for name, row in metrics.get("attributes", {}).items():
        out[f"{name}_mae"] = row["mae"]
        out[f"{name}_spearman"] = row["spearman"]
    return out


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_report(metrics: dict[str, Any]) -> str:
    """A few plain-text lines for the terminal."""
    lines = []
    for name, row in metrics.get("attributes", {}).items():
        lines.append(f"{name}: MAE {_num(row['mae'])}  Spearman {_num(row['spearman'])}")
    pairwise = metrics.get("pairwise", metrics)
    if "accuracy" not in pairwise:
        return "\n".join(lines or ["no pairs to evaluate"])
    low, high = pairwise["accuracy_ci95"]
    lines.append(f"pairs {pairwise['pairs']}  accuracy {_num(pairwise['accuracy'])} (95% CI {_num(low)}-{_num(high)})")
    sections = pairwise["sections"]
    table = "  ".join(f"{k} {_num(v['accuracy'], 2)} (n={v['n']})" for k, v in sections["table"].items())
    lines.append(f"by {sections['by']}: {table}  | section mean {_num(sections['section_mean'])}")
    calibration = pairwise["calibration"]
    lines.append(f"calibration: ECE {_num(calibration['ece'])}  Brier {_num(calibration['brier'])}")
    bias = pairwise["length_bias"]
    lines.append(f"length bias: accuracy when chosen is longer {_num(bias['chosen_longer']['accuracy'])} "
                 f"(n={bias['chosen_longer']['n']}), shorter {_num(bias['chosen_shorter']['accuracy'])} "
                 f"(n={bias['chosen_shorter']['n']}); corr(reward, length) Pearson "
                 f"{_num(bias['reward_length_pearson'])} Spearman {_num(bias['reward_length_spearman'])}; "
                 f"'shorter wins' scores {_num(bias['shorter_wins_baseline'])}")
    if "agreement" in pairwise:
        agreement = pairwise["agreement"]
        lines.append(f"agreement ceiling {_num(agreement['ceiling'])}: accuracy {_num(agreement['accuracy'])} "
                     f"= {_num(agreement['accuracy_vs_ceiling'], 2)} of the ceiling")
    if "uncertainty" in pairwise:
        unc = pairwise["uncertainty"]
        lines.append(f"ensemble spread {_num(unc['mean_std'])}: accuracy on the least uncertain half "
                     f"{_num(unc['accuracy_low_uncertainty'])}, most uncertain half "
                     f"{_num(unc['accuracy_high_uncertainty'])}")
    return "\n".join(lines)
