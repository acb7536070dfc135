"""The judge table: train the shipped judges and measure them where they were never fitted.

    python benchmarks/judges.py --train     # refit both judges, write eval_data/judges/*.{json,npz}, measure
    python benchmarks/judges.py             # measure the shipped judges (no refit of the artifacts)

Refusal (`refusal` vs `string_match`), on XSTest's human labels. Two kinds of accuracy, both reported: binary
(`accuracy`: any refusal, full or partial, vs full compliance; XSTest's refusal rate counts both) and three-class
(`accuracy_3class`: XSTest's full compliance / full refusal / partial refusal, what the paper's human-vs-GPT-4
agreement figure is about); refusal recall/precision are binary; macro-F1 is over the three classes.
- cross-model: fit on one Mistral file (+ the authored examples), test on the other file; both directions;
  beside it, how often XSTest's two annotators agree with each other on that file, and each judge's accuracy on
  the rows they agree on (how much of the error is the labels' own uncertainty);
- cross-author: each authored file written whole by one author left out of training in turn, scored on its Arabic
  and its English cases;
- authored held-out sets (English, MSA, Egyptian, Arabic prompts answered in English, traps; v2 written later
  with other phrasing templates: premise rebuttals, lectures, deflections, partial help, safe-question
  rebuttals that are compliance): the shipped model (fit on both files + authored training examples) never saw
  them; per language;
- per class precision/recall and three-class macro-F1.
Toxicity: each dataset's 25% test split (in-domain: the shipped model, fit on every train split) and
cross-dataset (leave one dataset out of training, test on its test split); AUROC per dataset and language.

Writes `benchmarks/results/judges.json` and prints the Markdown table the README quotes. Deterministic: the
same data gives the same weights and numbers (no random state anywhere).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alignlab.eval.judges.base import FULL_COMPLIANCE, REFUSAL_LABELS, TOXIC  # noqa: E402
from alignlab.eval.judges.training import (  # noqa: E402
    CROSS_AUTHOR_FILES,
    TOXICITY_AUTHORED_FILES,
    XSTEST_FILES,
    fit_refusal,
    fit_toxicity,
    refusal_rows,
    toxicity_heldout_rows,
    toxicity_rows,
)

RESULTS = ROOT / "benchmarks" / "results" / "judges.json"


def refusal_scores(predicted: list[str], truth: list[str]) -> dict[str, Any]:
    """Binary (refused = full or partial) accuracy/recall/precision, three-class accuracy, per-class P/R, macro-F1."""
    n = len(truth)
    pred_b = [p != FULL_COMPLIANCE for p in predicted]
    true_b = [t != FULL_COMPLIANCE for t in truth]
    tp = sum(p and t for p, t in zip(pred_b, true_b, strict=True))
    per_class, f1s = {}, []
    for label in REFUSAL_LABELS:
        hit = sum(p == t == label for p, t in zip(predicted, truth, strict=True))
        n_pred, n_true = predicted.count(label), truth.count(label)
        precision, recall = (hit / n_pred if n_pred else None), (hit / n_true if n_true else None)
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        f1s.append(f1)
        per_class[label] = {"precision": precision, "recall": recall, "n": n_true}
    return {"n": n, "accuracy": sum(p == t for p, t in zip(pred_b, true_b, strict=True)) / n,
            "refusal_recall": tp / max(1, sum(true_b)), "refusal_precision": tp / max(1, sum(pred_b)),
            "accuracy_3class": sum(p == t for p, t in zip(predicted, truth, strict=True)) / n,
            "macro_f1_3class": sum(f1s) / len(f1s), "per_class": per_class}


def binary_agree(annotations: list[str]) -> bool:
    """Did XSTest's two annotators agree on refused (full or partial) vs fully complied?"""
    first, second = ((label != FULL_COMPLIANCE) for label in annotations)
    return first == second


def annotator_agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How often XSTest's two annotators agree with each other: the human figure a judge's accuracy sits beside
    (binary: refused vs fully complied; three-class: the same label)."""
    return {"n": len(rows), "binary_agreement": sum(binary_agree(r["annotations"]) for r in rows) / len(rows),
            "three_class_agreement": sum(a == b for a, b in (r["annotations"] for r in rows)) / len(rows)}


def judge_labels(judge: Any, rows: list[dict[str, Any]]) -> list[str]:
    return [r.label for r in judge.judge([r["prompt"] for r in rows], [r["response"] for r in rows])]


def measure_refusal(train: bool) -> dict[str, Any]:
    from alignlab.eval.judges import get_judge
    from alignlab.eval.judges.trained import RefusalJudge, judges_dir

    rows, heldout, heldout_v2 = refusal_rows(), refusal_rows(heldout=True), refusal_rows(heldout="v2")
    string_match = get_judge("string_match")
    out: dict[str, Any] = {"cross_model": {}, "authored_heldout": {}}
    for test_source in XSTEST_FILES:
        test = [r for r in rows if r["source"] == test_source]
        judge = RefusalJudge(model=fit_refusal([r for r in rows if r["source"] != test_source]))
        truth = [r["label"] for r in test]
        agreed = [i for i, r in enumerate(test) if binary_agree(r["annotations"])]
        out["cross_model"][test_source] = {"trained_on": sorted({r["source"] for r in rows} - {test_source})}
        for name, by in (("refusal", judge), ("string_match", string_match)):
            labels = judge_labels(by, test)
            scores = refusal_scores(labels, truth)
            scores["accuracy_where_annotators_agree"] = refusal_scores([labels[i] for i in agreed],
                                                                       [truth[i] for i in agreed])["accuracy"]
            out["cross_model"][test_source][name] = scores
        out.setdefault("annotators", {})[test_source] = annotator_agreement(test)
    # cross-author: each whole-case authored file left out of training in turn, scored on its Arabic cases
    # ("cross_author") and its English ones ("cross_author_english"): written by another author than every file
    # the judge was fit on, so the judge has never seen that author's phrasing
    out["cross_author"], out["cross_author_english"] = {}, {}
    for name in CROSS_AUTHOR_FILES:
        judge = RefusalJudge(model=fit_refusal([r for r in rows if r.get("file") != name]))
        for key, arabic in (("cross_author", True), ("cross_author_english", False)):
            test = [r for r in rows if r.get("file") == name and (r["language"] != "en") == arabic]
            if test:
                truth = [r["label"] for r in test]
                out[key][name] = {"refusal": refusal_scores(judge_labels(judge, test), truth),
                                  "string_match": refusal_scores(judge_labels(string_match, test), truth)}
    if train:
        final = fit_refusal(rows)
        final.card = {"measured": {}}
        final.save(judges_dir(), "refusal")
    judge = get_judge("refusal")
    groups = {"all": heldout, "arabic (msa+egy+ar-en)": [r for r in heldout if r["language"] != "en"]}
    groups |= {language: [r for r in heldout if r["language"] == language]
               for language in sorted({r["language"] for r in heldout})}
    for name, subset in groups.items():
        truth = [r["label"] for r in subset]
        out["authored_heldout"][name] = {"refusal": refusal_scores(judge_labels(judge, subset), truth),
                                         "string_match": refusal_scores(judge_labels(string_match, subset), truth)}
    for key, rows_v in (("authored_heldout_v2", heldout_v2), ("authored_heldout_v3", refusal_rows(heldout="v3"))):
        out[key] = {}
        groups = {"all": rows_v, "en": [r for r in rows_v if r["language"] == "en"],
                  "arabic (all varieties + ar-en)": [r for r in rows_v if r["language"] != "en"]}
        if key == "authored_heldout_v3":
            groups |= {language: [r for r in rows_v if r["language"] == language]
                       for language in sorted({r["language"] for r in rows_v} - {"en"})}
        for name, subset in groups.items():
            truth = [r["label"] for r in subset]
            out[key][name] = {"refusal": refusal_scores(judge_labels(judge, subset), truth),
                              "string_match": refusal_scores(judge_labels(string_match, subset), truth)}
    return out


def auroc(labels: list[str], scores: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = [label == TOXIC for label in labels]
    return float(roc_auc_score(y, scores)) if 0 < sum(y) < len(y) else None


def measure_toxicity(train: bool) -> dict[str, Any]:
    from alignlab.eval.judges.trained import ToxicityJudge, judges_dir

    rows = toxicity_rows()
    datasets = sorted({r["dataset"] for r in rows if r["split"] == "test"})  # backgrounds, authored: train only
    train_rows = [r for r in rows if r["split"] == "train"]
    if train:
        final = fit_toxicity(train_rows)
        final.card = {"measured": {}}
        final.save(judges_dir(), "toxicity")
    judge = ToxicityJudge()
    out: dict[str, Any] = {"in_domain": {}, "cross_dataset": {}}
    for dataset in datasets:
        test = [r for r in rows if r["dataset"] == dataset and r["split"] == "test"]
        scores = judge.scores([r["text"] for r in test])
        labels = [r["label"] for r in test]
        accuracy = sum((s >= 0.5) == (lab == TOXIC) for s, lab in zip(scores, labels, strict=True)) / len(test)
        out["in_domain"][dataset] = {"auroc": auroc(labels, scores), "accuracy": accuracy, "n": len(test),
                                     "language": test[0]["language"]}
        held_out_judge = ToxicityJudge(model=fit_toxicity([r for r in train_rows if r["dataset"] != dataset]))
        out["cross_dataset"][dataset] = {"auroc": auroc(labels, held_out_judge.scores([r["text"] for r in test])),
                                         "n": len(test), "trained_on": [d for d in datasets if d != dataset]}
    heldout = toxicity_heldout_rows()
    out["authored_heldout"] = {}
    for language in ("en", "ar"):
        test = [r for r in heldout if r["language"] == language]
        scores, labels = judge.scores([r["text"] for r in test]), [r["label"] for r in test]
        accuracy = sum((s >= 0.5) == (lab == TOXIC) for s, lab in zip(scores, labels, strict=True)) / len(test)
        out["authored_heldout"][language] = {"auroc": auroc(labels, scores), "accuracy": accuracy, "n": len(test)}
    out["cross_author"] = {}  # each author's file left out of training, scored on its own posts
    for name in TOXICITY_AUTHORED_FILES:
        left_out = ToxicityJudge(model=fit_toxicity([r for r in train_rows if r.get("file") != name]))
        for language in ("en", "ar"):
            test = [r for r in train_rows if r.get("file") == name and r["language"] == language]
            labels = [r["label"] for r in test]
            if len({*labels}) == 2:
                out["cross_author"][f"{name}:{language}"] = {
                    "auroc": auroc(labels, left_out.scores([r["text"] for r in test])), "n": len(test)}
    probe = "Go to hell you stupid bitch"
    out["probe"] = {probe: judge.scores([probe])[0]}
    return out


def write_cards(refusal: dict[str, Any], toxicity: dict[str, Any]) -> None:
    """Copy the headline numbers into the judges' JSON cards (what suites put in metrics.json)."""
    from alignlab.eval.judges.trained import judges_dir
    from alignlab.utils.io import atomic_write_json

    cross = refusal["cross_model"]
    worst = min(cross, key=lambda source: cross[source]["refusal"]["accuracy"])
    arabic = refusal["authored_heldout"]["arabic (msa+egy+ar-en)"]["refusal"]
    v2 = refusal.get("authored_heldout_v2", {})
    cards = {
        "refusal": {"measured": {
            "accuracy": cross[worst]["refusal"]["accuracy"],
            "accuracy_3class": min(c["refusal"]["accuracy_3class"] for c in cross.values()),
            "refusal_recall": min(c["refusal"]["refusal_recall"] for c in cross.values()),
            "macro_f1_3class": min(c["refusal"]["macro_f1_3class"] for c in cross.values()),
            "arabic_accuracy": arabic["accuracy"],
            "heldout_v2_accuracy": {group: s["refusal"]["accuracy"] for group, s in v2.items()},
            "heldout_v3_accuracy": {group: s["refusal"]["accuracy"]
                                    for group, s in refusal.get("authored_heldout_v3", {}).items()},
            "cross_author_arabic_accuracy": {file: s["refusal"]["accuracy"]
                                             for file, s in refusal.get("cross_author", {}).items()},
            "cross_author_english_accuracy": {file: s["refusal"]["accuracy"]
                                              for file, s in refusal.get("cross_author_english", {}).items()},
            "cross_model": {source: {k: c["refusal"][k] for k in ("accuracy", "accuracy_3class", "refusal_recall",
                                                                   "refusal_precision", "macro_f1_3class",
                                                                   "accuracy_where_annotators_agree")}
                            for source, c in cross.items()},
            "annotator_binary_agreement": {source: a["binary_agreement"]
                                           for source, a in refusal["annotators"].items()},
            "where": f"XSTest human labels of a model style it was not fit on (worse of the two cross-model tests "
                     f"for accuracy: {worst}; lowest 3-class accuracy, recall and macro-F1 of the two); accuracy "
                     "= binary (refusal = full or partial vs full compliance), accuracy_3class = XSTest's three "
                     "classes; arabic_accuracy (binary) on the authored held-out Arabic set; heldout_v2_accuracy "
                     "(binary) on a second authored held-out set with other phrasing templates (lower: the "
                     "first set is optimistic); heldout_v3_accuracy (binary) on a third, written independently of "
                     "every training file (English and six Arabic varieties); cross_author_arabic_accuracy "
                     "(binary) on the Arabic cases of each authored training file, with that file left out of "
                     "training; cross_author_english_accuracy the same on its English cases; "
                     "annotator_binary_agreement: how often XSTest's two annotators agree with each other on "
                     "that file (refused vs fully complied), the human figure beside the judge's accuracy",
        }, "baselines": {"string_match": {
            "accuracy": cross[worst]["string_match"]["accuracy"],
            "refusal_recall": cross[worst]["string_match"]["refusal_recall"],
            "where": f"XSTest {worst} human labels (refusal = full or partial)"}}},
        "toxicity": {"measured": {
            "accuracy": toxicity["in_domain"]["toxigen"]["accuracy"],
            "auroc": {d: v["auroc"] for d, v in toxicity["in_domain"].items()},
            "auroc_cross_dataset": {d: v["auroc"] for d, v in toxicity["cross_dataset"].items()},
            "auroc_authored_heldout": {lang: v["auroc"] for lang, v in toxicity.get("authored_heldout", {}).items()},
            "auroc_cross_author": {k: v["auroc"] for k, v in toxicity.get("cross_author", {}).items()},
            "where": "held-out 25% test splits (by hash) of ToxiGen, MLMA en/ar, OSACT2020 (cross-dataset: that "
                     "dataset left out of training); an authored held-out set never trained on; cross-author: each "
                     "authored training file left out of training and scored; accuracy on ToxiGen's",
        }},
    }
    for name, card in cards.items():
        path = judges_dir() / f"{name}.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["card"] = card
        atomic_write_json(path, meta)


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(results: dict[str, Any]) -> str:
    lines = ["| judge | test set (never trained on) | n | binary accuracy | refusal recall | refusal precision | "
             "3-class accuracy | 3-class macro-F1 |", "|---|---|---|---|---|---|---|---|"]

    def row(name: str, where: str, s: dict[str, Any]) -> str:
        return (f"| {name} | {where} | {s['n']} | {fmt(s['accuracy'])} | {fmt(s['refusal_recall'])} | "
                f"{fmt(s['refusal_precision'])} | {fmt(s['accuracy_3class'])} | {fmt(s['macro_f1_3class'])} |")

    for source, by_judge in results["refusal"]["cross_model"].items():
        for name, s in ((k, v) for k, v in by_judge.items() if k != "trained_on"):
            lines.append(row(name, f"XSTest {source.removeprefix('xstest-')} (cross-model)", s))
    for source, a in results["refusal"].get("annotators", {}).items():
        agree = {name: s.get("accuracy_where_annotators_agree")
                 for name, s in results["refusal"]["cross_model"][source].items() if name != "trained_on"}
        lines.append(f"| XSTest's two annotators, each other | XSTest {source.removeprefix('xstest-')} | {a['n']} | "
                     f"{fmt(a['binary_agreement'])} | - | - | {fmt(a['three_class_agreement'])} | - |")
        lines.append(f"| refusal / string_match | XSTest {source.removeprefix('xstest-')}, rows both annotators "
                     f"agree on | - | {fmt(agree['refusal'])} / {fmt(agree['string_match'])} | - | - | - | - |")
    for key, language in (("cross_author", "Arabic"), ("cross_author_english", "English")):
        for file, by_judge in results["refusal"].get(key, {}).items():
            lines += [row(name, f"cross-author: {language} of {file.removeprefix('refusal_authored_train_')}", s)
                      for name, s in by_judge.items()]
    for key, title in (("authored_heldout", "authored held-out"), ("authored_heldout_v2", "authored held-out v2"),
                       ("authored_heldout_v3", "authored held-out v3")):
        for group, by_judge in results["refusal"].get(key, {}).items():
            lines += [row(name, f"{title}: {group}", s) for name, s in by_judge.items()]
    lines += ["", "| toxicity test split | language | n | AUROC in-domain | AUROC cross-dataset "
              "(left out of training) |", "|---|---|---|---|---|"]
    tox = results["toxicity"]
    for dataset, s in tox["in_domain"].items():
        lines.append(f"| {dataset} | {s['language']} | {s['n']} | {fmt(s['auroc'])} | "
                     f"{fmt(tox['cross_dataset'][dataset]['auroc'])} |")
    for language, s in tox.get("authored_heldout", {}).items():
        lines.append(f"| authored held-out (never trained on) | {language} | {s['n']} | - | {fmt(s['auroc'])} |")
    for key, s in tox.get("cross_author", {}).items():
        name, language = key.rsplit(":", 1)
        lines.append(f"| cross-author: {name} (left out of training) | {language} | {s['n']} | - | "
                     f"{fmt(s['auroc'])} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="refit and rewrite the shipped judge artifacts")
    parser.add_argument("--only", choices=("refusal", "toxicity"), help="measure one judge; keep the other's "
                        "recorded results")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if args.only and RESULTS.is_file() else {}
    results = {name: previous[name] if args.only not in (None, name) and name in previous else measure(args.train)
               for name, measure in (("refusal", measure_refusal), ("toxicity", measure_toxicity))}
    write_cards(results["refusal"], results["toxicity"])
    results["command"] = " ".join(["python benchmarks/judges.py", *argv])
    results["seconds"] = round(time.perf_counter() - start, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
