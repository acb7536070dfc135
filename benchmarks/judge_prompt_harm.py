"""Would knowing how harmful the *question* is fix the refusal judge's cross-model misses? The measurement.

    python benchmarks/judge_prompt_harm.py          # ~6 min on two cores

Most of the shipped refusal judge's cross-model errors are answers that reject a question's premise: XSTest counts
"There is no scientific evidence that gay people cannot time travel" (an absurd question) as compliance and "The
transatlantic slave trade was not a good thing" (a hateful one) as refusal. The words of the answer are alike;
the question's harm is not. This script tries the obvious remedy without reading XSTest's own prompts for it:

1. a prompt-harm model (the judge's own `LinearTextModel`: word + character n-grams, logistic regression) fit on
   prompts shipped for other suites: harmful = AdvBench, HarmBench, SimpleSafetyTests and MultiJail (English and
   Arabic); harmless = MT-Bench first turns, the Arena-Hard subset and BBQ's questions. Its AUROC on XSTest's own
   safe/unsafe prompt labels says how much it knows about XSTest's questions (it never saw them);
2. the cross-model test of `benchmarks/judges.py` (fit on one Mistral file + the authored examples, scored on the
   other file) with the harm score added to the judge's features, in four forms: the score alone (`h`); the score
   times the premise block (`h x premise`); times and (1 - score) times the premise block (`h x premise, both`);
   the score plus both products with every cue and premise feature (`h x cues`).

Everything else (features, C, weights, the summed decision rule) is the shipped judge's. Writes
`benchmarks/results/judge_prompt_harm.json` and prints a table; deterministic (no random state).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RESULTS = ROOT / "benchmarks" / "results" / "judge_prompt_harm.json"
FORMS = ("none", "h", "h x premise", "h x premise, both", "h x cues")
PREMISE_WIDTH = 6  # premise_features() returns six numbers; the premise block is the judge's last


def harm_prompts() -> tuple[list[str], list[str]]:
    """(harmful, harmless) prompts from the other suites' shipped files; none of them is an XSTest prompt."""
    from alignlab.eval.data import read_csv, read_jsonl, suite_file

    harmful = [r["goal"] for r in read_csv(suite_file("advbench", "harmful_behaviors.csv"), required=("goal",))]
    harmful += [r["Behavior"] for r in read_csv(suite_file("harmbench", "harmbench_behaviors_text_test.csv"),
                                                required=("Behavior",))]
    harmful += [r["prompts_final"] for r in read_csv(suite_file("simple_safety_tests", "simple_safety_tests.csv"),
                                                     required=("prompts_final",))]
    for r in read_jsonl(suite_file("multijail", "multijail_en_ar.jsonl"), required=("en", "ar")):
        harmful += [r["en"], r["ar"]]
    harmless = [r["turns"][0] for r in read_jsonl(suite_file("mt_bench", "question.jsonl"), required=("turns",))]
    harmless += [r["prompt"] for r in read_jsonl(suite_file("arena_hard", "question_subset.jsonl"),
                                                 required=("prompt",))]
    harmless += [r["question"] for r in read_jsonl(suite_file("bbq", "bbq_subset.jsonl"), required=("question",))]
    return harmful, harmless


def with_harm(x: Any, harm: Any, form: str, n_small: int) -> Any:
    """The judge's feature matrix plus the harm columns of one form; `n_small` = cue + premise columns at the end."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack

    if form == "none":
        return x
    h = harm[:, None]
    small = x[:, x.shape[1] - n_small:].toarray()
    premise = small[:, -PREMISE_WIDTH:]
    extra = {"h": h, "h x premise": h * premise,
             "h x premise, both": np.hstack([h * premise, (1 - h) * premise]),
             "h x cues": np.hstack([h, h * small, (1 - h) * small])}[form]
    return hstack([x, csr_matrix(extra)]).tocsr()


def cross_model(rows: list[dict[str, Any]], forms: Sequence[str],
                augment: Callable[[list[int], Any, str], Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The cross-model test of `benchmarks/judges.py` with extra features: for each Mistral file, fit on every other
    row with the shipped recipe (its idf, feature blocks, C, weights), add `augment(row indices, features, form)`,
    refit the regression, score the file with the judge's summed rule; {file: {form: scores}}."""
    import numpy as np
    from judges import refusal_scores
    from sklearn.linear_model import LogisticRegression

    from alignlab.eval.judges.base import REFUSAL_LABELS
    from alignlab.eval.judges.trained import refusal_choice
    from alignlab.eval.judges.training import AUTHORED_WEIGHT, REFUSAL_C, XSTEST_FILES, fit_refusal

    out: dict[str, dict[str, dict[str, Any]]] = {}
    for test_source in XSTEST_FILES:
        train = [i for i, r in enumerate(rows) if r["source"] != test_source]
        test = [i for i, r in enumerate(rows) if r["source"] == test_source]
        judge = fit_refusal([rows[i] for i in train])

        def features(index: list[int], form: str, judge: Any = judge) -> Any:
            x = judge.features([rows[i]["response"] for i in index], [rows[i]["prompt"] for i in index])
            return augment(index, x, form)

        labels = np.asarray([REFUSAL_LABELS.index(rows[i]["label"]) for i in train])
        weights = np.asarray([AUTHORED_WEIGHT if rows[i]["source"] == "authored" else 1.0 for i in train])
        out[test_source] = {}
        for form in forms:
            regression = LogisticRegression(C=REFUSAL_C, class_weight="balanced", max_iter=1000, tol=1e-5)
            regression.fit(features(train, form), labels, sample_weight=weights)
            predicted = [REFUSAL_LABELS[refusal_choice(p, REFUSAL_LABELS)]
                         for p in regression.predict_proba(features(test, form))]
            scores = refusal_scores(predicted, [rows[i]["label"] for i in test])
            out[test_source][form] = {k: scores[k] for k in (
                "n", "accuracy", "refusal_recall", "refusal_precision", "accuracy_3class", "macro_f1_3class")}
    return out


def print_table(out: dict[str, Any], feature: str) -> None:
    print(f"| test file (cross-model) | {feature} | binary accuracy | refusal recall | refusal precision | "
          "3-class accuracy |\n|---|---|---|---|---|---|")
    for source, by_form in out["cross_model"].items():
        for form, s in by_form.items():
            print(f"| {source.removeprefix('xstest-')} | {form} | {s['accuracy']:.3f} | {s['refusal_recall']:.3f} | "
                  f"{s['refusal_precision']:.3f} | {s['accuracy_3class']:.3f} |")


def main() -> int:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from alignlab.eval.data import read_csv, suite_file
    from alignlab.eval.judges.linear import LinearTextModel
    from alignlab.eval.judges.training import refusal_analyzers, refusal_rows

    start = time.perf_counter()
    harmful, harmless = harm_prompts()
    harm_model = LinearTextModel.fit(harmful + harmless, ["harmful"] * len(harmful) + ["harmless"] * len(harmless),
                                     classes=("harmless", "harmful"))
    xstest = read_csv(suite_file("xstest", "xstest_prompts.csv"), required=("prompt", "label", "type"))
    xstest_harm = harm_model.predict_proba([r["prompt"] for r in xstest])[:, 1]
    by_type: dict[str, list[float]] = {}
    for r, score in zip(xstest, xstest_harm, strict=True):
        by_type.setdefault(r["type"], []).append(float(score))
    out: dict[str, Any] = {
        "harm_model": {"n_harmful": len(harmful), "n_harmless": len(harmless),
                       "auroc_on_xstest_prompt_labels": float(roc_auc_score([r["label"] == "unsafe" for r in xstest],
                                                                            xstest_harm)),
                       "mean_score_by_xstest_type": {t: round(float(np.mean(v)), 3)
                                                     for t, v in sorted(by_type.items())}}}
    rows = refusal_rows()
    harm = harm_model.predict_proba([r["prompt"] or " " for r in rows])[:, 1]
    n_small = 2 * len(next(a for a in refusal_analyzers() if "cues" in a)["cues"]) + PREMISE_WIDTH
    out["cross_model"] = cross_model(rows, FORMS, lambda index, x, form: with_harm(x, harm[index], form, n_small))
    out["command"] = "python benchmarks/judge_prompt_harm.py"
    out["seconds"] = round(time.perf_counter() - start, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"prompt-harm model: {len(harmful)} harmful / {len(harmless)} harmless prompts; AUROC on XSTest's "
          f"safe/unsafe prompt labels {out['harm_model']['auroc_on_xstest_prompt_labels']:.3f}\n")
    print_table(out, "harm feature")
    return 0


if __name__ == "__main__":
    sys.exit(main())
