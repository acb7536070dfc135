"""Training data and fitting of the shipped judges (`refusal`, `toxicity`); used by `benchmarks/judges.py --train`.

    rows = refusal_rows()                      # XSTest human labels (two Mistral files) + authored examples
    model = fit_refusal([r for r in rows if r["source"] != "xstest-mistralguard"])
    tox = toxicity_rows(); model = fit_toxicity([r for r in tox if r["split"] == "train"])

Refusal data: XSTest's human-labelled completions of Mistral-7B-Instruct, plain (`mistralinstruct`) and behind a
guardrail system prompt (`mistralguard`), 450 each, label = `final_label`; plus the authored examples in
`eval_data/judges/refusal_authored_train.jsonl` (English, MSA, Egyptian; composed from parts) and
`refusal_authored_train_natural.jsonl`, `refusal_authored_train_styles*.jsonl`, `_premises.jsonl` (English) and
`refusal_authored_train_arabic{2..13}.jsonl` (whole prompt + answer cases, each file by one author, in English,
MSA, Egyptian, Gulf, Levantine, Maghrebi Arabic and Arabic prompts answered in English; see SOURCE.md).
The authored held-out sets (`refusal_authored_heldout*.jsonl`) are only read for measuring.

Toxicity data: ToxiGen statements (hate / neutral), MLMA English and Arabic tweets (hostile / normal) and OSACT2020
Arabic tweets (OFF / NOT_OFF), authored English and Arabic posts (`judges/toxicity/authored_train*.jsonl`, one
file per author, each weighed as a dataset of its own; train only), plus 200 TinyStories sentences and 600
ordinary ArSarcasm-v2 tweets (`arsarcasm_background.jsonl`) as neutral background; features add the authored
lexicon (`toxicity_analyzers`). `toxicity/authored_heldout.jsonl`, written separately, is only read for
measuring. Each public dataset is split 75/25 by a SHA-256 of its text (a text is in train or test, never
both); test rows are never fitted on. Everything is deterministic: the same files give the same weights.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from alignlab.data.dedupe import normalize_text
from alignlab.eval.data import read_csv, read_jsonl, suite_file
from alignlab.eval.judges.base import NON_TOXIC, REFUSAL_LABELS, TOXIC
from alignlab.eval.judges.linear import DEFAULT_ANALYZERS, LinearTextModel

XSTEST_FILES = {"xstest-mistralinstruct": "xstest_v2_completions_mistralinstruct.csv",
                "xstest-mistralguard": "xstest_v2_completions_mistralguard.csv"}
# the authored files each written whole by another author: each is left out in turn (cross-author)
CROSS_AUTHOR_FILES = ("refusal_authored_train_natural.jsonl", "refusal_authored_train_arabic2.jsonl",
                      "refusal_authored_train_arabic3.jsonl", "refusal_authored_train_styles.jsonl",
                      "refusal_authored_train_styles2.jsonl", "refusal_authored_train_styles3.jsonl",
                      "refusal_authored_train_arabic4.jsonl", "refusal_authored_train_arabic5.jsonl",
                      "refusal_authored_train_arabic6.jsonl", "refusal_authored_train_arabic7.jsonl",
                      "refusal_authored_train_arabic8.jsonl", "refusal_authored_train_arabic9.jsonl",
                      "refusal_authored_train_arabic10.jsonl", "refusal_authored_train_arabic11.jsonl",
                      "refusal_authored_train_arabic12.jsonl", "refusal_authored_train_premises.jsonl",
                      "refusal_authored_train_arabic13.jsonl")
# the composed examples (parts put together by `compose_authored.py`) and the one-line answers are not one author's
REFUSAL_AUTHORED_FILES = ("refusal_authored_train.jsonl", "refusal_authored_train_short.jsonl", *CROSS_AUTHOR_FILES)
HELDOUT_FILES = {"authored-heldout": "refusal_authored_heldout.jsonl",
                 "authored-heldout-v2": "refusal_authored_heldout_v2.jsonl",
                 "authored-heldout-v3": "refusal_authored_heldout_v3.jsonl"}
XSTEST_LABELS = {"1_full_compliance": REFUSAL_LABELS[0], "2_full_refusal": REFUSAL_LABELS[1],
                 "3_partial_refusal": REFUSAL_LABELS[2]}
TOXICITY_SETS = {"toxigen": ("toxigen", "statements.jsonl"), "mlma_en": ("judges/toxicity", "mlma_en.jsonl"),
                 "mlma_ar": ("judges/toxicity", "mlma_ar.jsonl"), "osact2020": ("judges/toxicity", "osact2020.jsonl")}
# Authored toxicity posts, one file per author (SOURCE.md says who wrote what); train only.
TOXICITY_AUTHORED_FILES = ("authored_train.jsonl", "authored_train_implicit_en.jsonl", "authored_train_tweets_en.jsonl",
                           "authored_train_tweets_egy_gulf.jsonl", "authored_train_groups_ar.jsonl",
                           "authored_train_comments_mag.jsonl", "authored_train_model_outputs.jsonl")
TEST_SHARE = 0.25
REFUSAL_C, TOXICITY_C = 8.0, 4.0
AUTHORED_WEIGHT = 2.0


def in_test(key: str, share: float = TEST_SHARE) -> bool:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def refusal_rows(*, heldout: bool | str = False) -> list[dict[str, Any]]:
    """`{"source", "language", "prompt", "response", "label"}` rows (labels in REFUSAL_LABELS).

    `heldout=True` returns the authored held-out set instead, `heldout="v2"` the second one (different phrasing
    templates, written after the first model missed premise rebuttals), `heldout="v3"` the third (written
    independently of every training file, six Arabic varieties); none is ever used for training. XSTest rows also
    carry `type` and `annotations` (the two annotators' labels, "" where a file lacks them)."""
    if heldout:
        source = "authored-heldout" + (f"-{heldout}" if isinstance(heldout, str) else "")
        name = HELDOUT_FILES[source]
        rows = read_jsonl(suite_file("judges", name), required=("prompt", "response", "label", "language"))
        return [{"source": source, "language": r["language"], "prompt": r["prompt"],
                 "response": r["response"], "label": XSTEST_LABELS[r["label"]]} for r in rows]
    out = []
    for source, name in XSTEST_FILES.items():
        for r in read_csv(suite_file("xstest", name), required=("completion", "final_label")):
            out.append({"source": source, "language": "en", "prompt": r["prompt"], "response": r["completion"],
                        "label": XSTEST_LABELS[r["final_label"]], "type": r["type"],
                        "annotations": [XSTEST_LABELS.get(r.get(f"annotation_{k}", ""), "") for k in (1, 2)]})
    # An authored case whose prompt is one of XSTest's is left out: the cross-model measure scores XSTest's
    # completions of those very prompts (nine rows of the 2026-12-05 files, definitions such as "What is money
    # laundering?", written independently but the same question).
    xstest_prompts = {normalize_text(r["prompt"]) for r in out}
    for name in REFUSAL_AUTHORED_FILES:
        for r in read_jsonl(suite_file("judges", name), required=("response", "label", "language")):
            if normalize_text(r.get("prompt", "")) in xstest_prompts:
                continue
            out.append({"source": "authored", "language": r["language"], "prompt": r.get("prompt", ""),
                        "response": r["response"], "label": XSTEST_LABELS[r["label"]], "file": name})
    return out


def refusal_analyzers() -> list[dict[str, Any]]:
    from alignlab.eval.judges.cues import CUES, HEAD_CHARS, PREMISE

    return [*DEFAULT_ANALYZERS, {"name": "cues", "cues": [[name, patterns] for name, patterns in CUES.items()],
                                 "head_chars": HEAD_CHARS}, {"name": "premise", "premise": dict(PREMISE)}]


def fit_refusal(rows: list[dict[str, Any]]) -> LinearTextModel:
    """Authored examples weigh AUTHORED_WEIGHT each: they are the only Arabic (measured with the 2026-12-05 files:
    weight 1 instead of 2 moved every cross-model and cross-author fold by a point at most)."""
    weights = [AUTHORED_WEIGHT if r["source"] == "authored" else 1.0 for r in rows]
    return LinearTextModel.fit([r["response"] for r in rows], [r["label"] for r in rows],
                               classes=REFUSAL_LABELS, c=REFUSAL_C, analyzers=refusal_analyzers(),
                               sample_weight=weights, prompts=[r["prompt"] for r in rows])


def toxicity_rows() -> list[dict[str, Any]]:
    """`{"dataset", "language", "text", "label" (toxic|non_toxic), "split" (train|test)}` rows."""
    from alignlab.eval.toxicity import background_sentences

    out = []
    for dataset, (folder, name) in TOXICITY_SETS.items():
        for r in read_jsonl(suite_file(folder, name), required=("text", "label")):
            label = {"hate": TOXIC, "neutral": NON_TOXIC}.get(r["label"], r["label"])
            out.append({"dataset": dataset, "language": "ar" if dataset in ("mlma_ar", "osact2020") else "en",
                        "text": r["text"], "label": label,
                        "split": "test" if in_test(f"{dataset}:{r['text']}") else "train"})
    for name in TOXICITY_AUTHORED_FILES:  # each author's file is a dataset of its own: it weighs like one
        dataset = "authored" + name.removeprefix("authored_train").removesuffix(".jsonl")
        for r in read_jsonl(suite_file("judges/toxicity", name), required=("text", "label", "language")):
            out.append({"dataset": dataset, "file": name, "language": r["language"], "text": r["text"],
                        "label": r["label"], "split": "train"})
    stories = read_jsonl(suite_file("perplexity", "tinystories_validation.jsonl"), required=("text",))
    out += [{"dataset": "tinystories", "language": "en", "text": text, "label": NON_TOXIC, "split": "train"}
            for text in background_sentences(stories)]
    tweets = read_jsonl(suite_file("judges/toxicity", "arsarcasm_background.jsonl"), required=("text",))
    out += [{"dataset": "arsarcasm_background", "language": "ar", "text": r["text"], "label": NON_TOXIC,
             "split": "train"} for r in tweets]
    return out


def toxicity_analyzers() -> list[dict[str, Any]]:
    """n-grams plus the authored lexicon (`judges/toxicity/lexicon.json`: profanity, insults, slurs, threats,
    curses, dehumanising comparisons, hateful generalisations, harassment, and mentions that report a word
    rather than use it) as one binary feature per concept; the patterns are copied into the judge's JSON."""
    lexicon = json.loads(suite_file("judges/toxicity", "lexicon.json").read_text(encoding="utf-8"))
    return [*DEFAULT_ANALYZERS, {"name": "lexicon", "cues": [[name, patterns] for name, patterns in lexicon.items()],
                                 "head_chars": 0}]


def toxicity_heldout_rows() -> list[dict[str, Any]]:
    """The authored held-out toxicity set (English and Arabic posts and model continuations), never trained on."""
    rows = read_jsonl(suite_file("judges/toxicity", "authored_heldout.jsonl"), required=("text", "label", "language"))
    return [{"dataset": "authored-heldout", "language": r["language"], "variety": r.get("variety", ""),
             "text": r["text"], "label": r["label"]} for r in rows]


def fit_toxicity(rows: list[dict[str, Any]]) -> LinearTextModel:
    """Each dataset weighs the same in the loss (MLMA English has 8x ToxiGen's rows and is mostly toxic)."""
    sizes: dict[str, int] = {}
    for r in rows:
        sizes[r["dataset"]] = sizes.get(r["dataset"], 0) + 1
    weights = [len(rows) / (len(sizes) * sizes[r["dataset"]]) for r in rows]
    return LinearTextModel.fit([r["text"] for r in rows], [r["label"] for r in rows], classes=(NON_TOXIC, TOXIC),
                               c=TOXICITY_C, sample_weight=weights, max_chars=600, analyzers=toxicity_analyzers())
