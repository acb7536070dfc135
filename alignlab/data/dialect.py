"""Arabic dialect identification: a character n-gram classifier trained on ArSarcasm-v2's dialect labels.

    classifier = dialect_classifier()                  # the shipped artifact, loaded once (numpy only)
    classifier.predict(["ازيك يا باشا عامل ايه", "The weather is nice"])   # ["egypt", None]
    classifier.card["heldout"]["accuracy"]             # measured on ArSarcasm-v2's test split

Labels: msa, egypt, gulf, levant, magreb (ArSarcasm-v2, Abu Farha et al. 2021, MIT licence). Text without
Arabic script gets None (`language_of` says "en"/"other" for it). Features: character 2-4-grams of the text
folded by `alignlab.data.arabic.normalize_arabic` inside word boundaries (" word "), URLs/mentions dropped,
sublinear tf x idf, L2-normalised; model: one-vs-rest logistic regression (liblinear, C=8),
kept to the highest-weighted n-grams so the artifact stays small. Training uses scikit-learn
(`train_dialect_classifier`, run by `eval_data/build_arabic.py`); prediction is plain numpy from
`eval_data/dialect_id/dialect_classifier.npz` (arrays only, loaded with allow_pickle=False) and its card
`dialect_classifier.json` (held-out accuracy, macro-F1, per-dialect recall, majority baseline, confusion).

MSA dominates ArSarcasm-v2 (68% of training tweets) and magreb has 43 training tweets: read the per-dialect
recall in the card, not only the accuracy.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from alignlab.data.arabic import has_arabic, normalize_arabic

DIALECTS = ("msa", "egypt", "gulf", "levant", "magreb")
NGRAMS = (2, 4)
MAX_FEATURES = 40000
ARTIFACT, CARD = "dialect_classifier.npz", "dialect_classifier.json"
_NOISE = re.compile(r"https?://\S+|@\w+|#|[\u200c-\u200f]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(normalize_arabic(_NOISE.sub(" ", text)))


def char_ngrams(text: str, low: int = NGRAMS[0], high: int = NGRAMS[1]) -> Counter[str]:
    """Counts of the character n-grams of each word padded with spaces (scikit-learn's `char_wb`)."""
    counts: Counter[str] = Counter()
    for word in words(text):
        padded = f" {word} "
        for n in range(low, high + 1):
            for start in range(max(1, len(padded) - n + 1)):
                counts[padded[start:start + n]] += 1
    return counts


def language_of(text: str) -> str:
    """"ar" for Arabic script, "en" for Latin script, "other" otherwise (a script test, not a language model)."""
    if has_arabic(text):
        return "ar"
    return "en" if re.search(r"[A-Za-z]", text) else "other"


@dataclass(frozen=True)
class DialectClassifier:
    vocabulary: dict[str, int]
    idf: Any            # (F,)
    weights: Any        # (F, K)
    bias: Any           # (K,)
    labels: tuple[str, ...]
    card: dict[str, Any]

    def scores(self, texts: Sequence[str]) -> Any:
        """(N, K) decision values, one column per label: the L2-normalised sublinear tf-idf vector of each text
        times the weights, computed over the text's own n-grams only (no dense (N, F) matrix)."""
        import numpy as np

        out = np.tile(np.asarray(self.bias, dtype=np.float32), (len(texts), 1))
        for row, text in enumerate(texts):
            pairs = [(column, count) for gram, count in char_ngrams(text).items()
                     if (column := self.vocabulary.get(gram)) is not None]
            if not pairs:
                continue
            columns = np.fromiter((c for c, _ in pairs), dtype=np.int64, count=len(pairs))
            tf = np.fromiter((1.0 + math.log(n) for _, n in pairs), dtype=np.float32, count=len(pairs))
            values = tf * self.idf[columns]
            out[row] += (values / np.linalg.norm(values)) @ self.weights[columns]
        return out

    def predict(self, texts: Sequence[str]) -> list[str | None]:
        """The dialect of each Arabic text; None for text without Arabic script."""
        out: list[str | None] = [None] * len(texts)
        arabic = [i for i, text in enumerate(texts) if has_arabic(text)]
        if arabic:
            best = self.scores([texts[i] for i in arabic]).argmax(axis=1)
            for i, label in zip(arabic, best, strict=True):
                out[i] = self.labels[int(label)]
        return out


def train_dialect_classifier(train: Sequence[dict], test: Sequence[dict], *, c: float = 8.0,
                             max_features: int = MAX_FEATURES) -> DialectClassifier:
    """Fit on `train` rows ({"text", "dialect"}), measure on `test`; scikit-learn is imported here only."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    vectorizer = TfidfVectorizer(analyzer=lambda text: list(char_ngrams(text).elements()), sublinear_tf=True)
    x_train = vectorizer.fit_transform([r["text"] for r in train])
    labels = tuple(d for d in DIALECTS if any(r["dialect"] == d for r in train))
    model = OneVsRestClassifier(LogisticRegression(C=c, solver="liblinear"))
    model.fit(x_train, [r["dialect"] for r in train])
    if len(model.estimators_) == 1:  # two dialects: one binary model, its score for the second class
        only = model.estimators_[0]
        per_class = {model.classes_[0]: (-only.coef_[0], -only.intercept_[0]),
                     model.classes_[1]: (only.coef_[0], only.intercept_[0])}
    else:
        per_class = {c: (e.coef_[0], e.intercept_[0]) for c, e in zip(model.classes_, model.estimators_, strict=True)}
    coef = np.stack([per_class[label][0] for label in labels], axis=1)  # (F, K)
    intercept = np.array([per_class[label][1] for label in labels])
    keep = np.argsort(-np.abs(coef).max(axis=1), kind="stable")[:max_features]
    keep.sort()
    names = vectorizer.get_feature_names_out()
    classifier = DialectClassifier(
        vocabulary={str(names[i]): n for n, i in enumerate(keep)}, idf=vectorizer.idf_[keep].astype(np.float32),
        weights=coef[keep].astype(np.float16).astype(np.float32), bias=intercept.astype(np.float32), labels=labels,
        card={},
    )
    card = {"model": f"char {NGRAMS[0]}-{NGRAMS[1]}-grams (word-bounded, Arabic-normalised), sublinear tf-idf, "
                     f"one-vs-rest logistic regression (liblinear, C={c}), top {len(keep)} n-grams",
            "data": "ArSarcasm-v2 (Abu Farha et al. 2021, MIT): trained on the training split, measured on the "
                    "test split", "labels": list(labels), "n_train": len(train),
            "heldout": heldout_report(classifier, test)}
    return DialectClassifier(classifier.vocabulary, classifier.idf, classifier.weights, classifier.bias, labels,
                             card)


def heldout_report(classifier: DialectClassifier, test: Sequence[dict]) -> dict[str, Any]:
    """Accuracy (with a Wilson interval), macro-F1, per-dialect recall and the confusion counts on `test`."""
    from alignlab.data.stats import wilson_interval

    predicted = classifier.predict([r["text"] for r in test])
    gold = [r["dialect"] for r in test]
    correct = sum(p == g for p, g in zip(predicted, gold, strict=True))
    confusion = Counter(f"{g}->{p}" for p, g in zip(predicted, gold, strict=True))
    recall, f1 = {}, []
    for label in classifier.labels:
        tp = confusion[f"{label}->{label}"]
        support = sum(g == label for g in gold)
        guessed = sum(p == label for p in predicted)
        recall[label] = {"recall": tp / support if support else None, "n": support}
        f1.append(2 * tp / (support + guessed) if support + guessed else 0.0)
    low, high = wilson_interval(correct, len(test))
    majority = Counter(gold).most_common(1)[0]
    return {"accuracy": correct / len(test), "ci95": [low, high], "n_test": len(test), "macro_f1": sum(f1) / len(f1),
            "majority_baseline": majority[1] / len(test), "majority_label": majority[0], "per_dialect": recall,
            "confusion": dict(sorted(confusion.items()))}


def save_classifier(classifier: DialectClassifier, folder: Path) -> None:
    """The artifact as plain arrays (npz, no pickles) and its card as JSON, each written atomically."""
    import numpy as np

    from alignlab.utils.io import atomic_write_json

    vocabulary = np.array(sorted(classifier.vocabulary, key=classifier.vocabulary.__getitem__))
    tmp = folder / f".{ARTIFACT}.tmp.npz"
    np.savez_compressed(tmp, vocabulary=vocabulary, idf=classifier.idf, weights=classifier.weights.astype(np.float16),
                        bias=classifier.bias, labels=np.array(classifier.labels))
    tmp.replace(folder / ARTIFACT)
    atomic_write_json(folder / CARD, classifier.card)


def load_classifier(folder: Path) -> DialectClassifier:
    import numpy as np

    from alignlab.errors import DataError

    path = folder / ARTIFACT
    if not path.is_file() or not (folder / CARD).is_file():
        raise DataError(f"{path}: the shipped dialect classifier is missing; restore it with "
                        "`git checkout -- eval_data/dialect_id` or rebuild with `python eval_data/build_arabic.py "
                        "SOURCE_DIR`")
    with np.load(path, allow_pickle=False) as data:
        vocabulary = {str(g): n for n, g in enumerate(data["vocabulary"])}
        return DialectClassifier(vocabulary, data["idf"], data["weights"].astype(np.float32), data["bias"],
                                 tuple(str(x) for x in data["labels"]),
                                 json.loads((folder / CARD).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _shipped(folder: str) -> DialectClassifier:
    return load_classifier(Path(folder))


def dialect_classifier(folder: Path | None = None) -> DialectClassifier:
    """The shipped classifier (eval_data/dialect_id/), cached per process."""
    from alignlab.paths import eval_data_dir

    return _shipped(str(folder or eval_data_dir() / "dialect_id"))
