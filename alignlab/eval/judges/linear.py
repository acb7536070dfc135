"""A small text classifier stored as plain arrays: hashed word + character n-grams, TF-IDF, logistic regression.

    model = LinearTextModel.load(Path("eval_data/judges/refusal"))     # refusal.json + refusal.npz
    model.predict_proba(["I'm sorry, but I can't help with that."])     # (n, n_classes) numpy array
    LinearTextModel.fit(texts, labels, classes=..., **FEATURES).save(folder, "refusal", card)

Why this shape: it trains in seconds on two CPU cores, scores thousands of texts a second, and is stored without
pickles — a JSON file (classes, feature settings, the card with measured accuracy) and an `.npz` of numpy arrays
(idf weights per analyzer, coefficients, intercepts) loaded with `allow_pickle=False`, so a shipped artifact
cannot run code. Features are stateless (scikit-learn's `HashingVectorizer`, so no vocabulary is stored), on
text folded by `alignlab.data.arabic.fold` (NFKC, case folding, Arabic spelling variants): one model reads
English, Modern Standard Arabic and dialect, and a refusal is a refusal in whatever language it is written.

Per analyzer: hashed counts -> sublinear tf (1 + log tf) -> times idf (smoothed, as scikit-learn's) -> L2 norm;
the analyzers' blocks are concatenated. Two classes use a sigmoid on one logit, more classes a softmax
(multinomial logistic regression), as scikit-learn's `LogisticRegression.predict_proba` does.

An optional `cues` block adds binary concept features: `{"name": "cues", "cues": [[concept, [regex, ...]], ...],
"head_chars": N}` -> for each concept, "matches in the first N characters" and "matches anywhere" (see
`cues.py`); its idf is all ones and it is not normalised.

An optional `premise` block reads the prompt as well (`{"name": "premise", "premise": {...}}`, see
`cues.premise_features`): how much of the prompt the answer's first sentence restates, and whether it negates it.
Models with such a block take `prompts=` next to the texts (missing prompts count as empty); the block is scaled by
its `scale`, idf all ones, not normalised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alignlab.data.arabic import fold
from alignlab.errors import DataError

DEFAULT_ANALYZERS = (
    {"name": "words", "analyzer": "word", "ngram_range": [1, 3], "n_features": 2 ** 16},
    {"name": "chars", "analyzer": "char_wb", "ngram_range": [2, 5], "n_features": 2 ** 17},
)


def prepare(text: str, max_chars: int) -> str:
    """Fold (case, NFKC, Arabic variants), straighten quotes, squeeze blanks (lines kept), first `max_chars`."""
    text = fold(text).replace("\u2019", "'").replace("\u2018", "'")
    text = "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return text[:max_chars] or " "


def _vectorizer(spec: dict[str, Any]) -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer=spec["analyzer"], ngram_range=tuple(spec["ngram_range"]),
                             n_features=spec["n_features"], alternate_sign=False, norm=None, lowercase=False,
                             token_pattern=r"(?u)\b\w+\b|[^\w\s]")


class _CueMatcher:
    """Binary (head, anywhere) features per concept; the patterns are folded like the text."""

    def __init__(self, spec: dict[str, Any]) -> None:
        import re

        self.head = int(spec.get("head_chars", 160))
        # a list of [concept, patterns] pairs: JSON files are written with sorted keys, so a dict would reorder
        # the concepts (and the feature columns) between fitting and loading
        self.patterns = [re.compile("|".join(f"(?:{fold(p)})" for p in patterns), re.MULTILINE)
                         for _, patterns in spec["cues"]]

    def transform(self, prepared: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix

        rows = np.zeros((len(prepared), 2 * len(self.patterns)))
        for i, text in enumerate(prepared):
            for j, pattern in enumerate(self.patterns):
                rows[i, 2 * j] = pattern.search(text[: self.head]) is not None
                rows[i, 2 * j + 1] = pattern.search(text) is not None
        return csr_matrix(rows)


def _premise(spec: dict[str, Any], prepared: Sequence[str], prompts: Sequence[str]) -> Any:
    from scipy.sparse import csr_matrix

    from alignlab.eval.judges.cues import premise_features

    settings = dict(spec["premise"]) | {"negation": fold(spec["premise"]["negation"])}
    rows = [premise_features(prompt, text, settings) for prompt, text in zip(prompts, prepared, strict=True)]
    return csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(prepared), -1) * settings["scale"])


def _transform(spec: dict[str, Any], prepared: Sequence[str]) -> Any:
    if "cues" in spec:
        return _CueMatcher(spec).transform(prepared)
    return _tf(_vectorizer(spec).transform(prepared))


def _unit(spec: dict[str, Any]) -> bool:
    """Blocks kept as they are (binary cues, premise numbers): idf all ones, no L2 normalisation."""
    return "cues" in spec or "premise" in spec


def _width(spec: dict[str, Any]) -> int:
    return 2 * len(spec["cues"]) if "cues" in spec else 6


def _tf(matrix: Any) -> Any:
    matrix = matrix.tocsr().astype(np.float64)
    matrix.data = 1.0 + np.log(matrix.data)
    return matrix


def _block(matrix: Any, idf: np.ndarray) -> Any:
    from sklearn.preprocessing import normalize

    return normalize(matrix.multiply(idf[None, :]).tocsr(), norm="l2")


@dataclass
class LinearTextModel:
    classes: list[str]
    analyzers: list[dict[str, Any]]
    idf: list[np.ndarray]
    coef: np.ndarray  # (n_classes or 1, n_features)
    intercept: np.ndarray
    max_chars: int = 1500
    card: dict[str, Any] = field(default_factory=dict)

    def features(self, texts: Sequence[str], prompts: Sequence[str] | None = None) -> Any:
        from scipy.sparse import hstack

        prepared = [prepare(t, self.max_chars) for t in texts]
        asked = [prepare(p, self.max_chars) for p in prompts] if prompts is not None else [" "] * len(texts)
        blocks = []
        for spec, idf in zip(self.analyzers, self.idf, strict=True):
            if "premise" in spec:
                blocks.append(_premise(spec, prepared, asked))
            else:
                matrix = _transform(spec, prepared)
                blocks.append(matrix if _unit(spec) else _block(matrix, idf))
        return hstack(blocks).tocsr()

    def predict_proba(self, texts: Sequence[str], prompts: Sequence[str] | None = None) -> np.ndarray:
        """(n, n_classes) probabilities, columns in `classes` order; `prompts` feed a `premise` block if any."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        logits = np.asarray(self.features(texts, prompts) @ self.coef.T) + self.intercept[None, :]
        if len(self.classes) == 2:
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1.0 - positive, positive], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], *, classes: Sequence[str], c: float = 4.0,
            analyzers: Sequence[dict[str, Any]] = DEFAULT_ANALYZERS, max_chars: int = 1500,
            sample_weight: Sequence[float] | None = None,
            prompts: Sequence[str] | None = None) -> LinearTextModel:
        """Fit idf on `texts` and a logistic regression (lbfgs, balanced class weights, fixed iterations)."""
        from sklearn.linear_model import LogisticRegression

        prepared = [prepare(t, max_chars) for t in texts]
        idfs = []
        for spec in analyzers:
            if _unit(spec):
                idfs.append(np.ones(_width(spec)))
                continue
            counts = _vectorizer(spec).transform(prepared).tocsc()
            document_frequency = np.diff(counts.indptr)
            idfs.append(np.log((1 + len(prepared)) / (1 + document_frequency)) + 1.0)
        model = cls(list(classes), [dict(a) for a in analyzers], idfs, np.zeros(0), np.zeros(0), max_chars)
        x = model.features(texts, prompts)
        y = np.asarray([list(classes).index(label) for label in labels])
        regression = LogisticRegression(C=c, class_weight="balanced", max_iter=1000, tol=1e-5)
        regression.fit(x, y, sample_weight=None if sample_weight is None else np.asarray(sample_weight))
        model.coef = regression.coef_.astype(np.float32)
        model.intercept = regression.intercept_.astype(np.float64)
        return model

    def save(self, folder: Path, name: str) -> tuple[Path, Path]:
        """`<name>.json` (classes, features, card) and `<name>.npz` (arrays), each written atomically."""
        from alignlab.utils.io import atomic_output, atomic_write_json

        keep = np.flatnonzero(np.any(self.coef != 0, axis=0))
        arrays = {f"idf_{i}": idf.astype(np.float32) for i, idf in enumerate(self.idf)}
        arrays |= {"coef_columns": keep.astype(np.int64), "coef_values": self.coef[:, keep],
                   "intercept": self.intercept}
        npz = folder / f"{name}.npz"
        with atomic_output(npz, suffix=".npz") as tmp:
            np.savez_compressed(tmp, **arrays)
        meta = {"format": "alignlab-linear-text-1", "classes": self.classes, "analyzers": self.analyzers,
                "max_chars": self.max_chars, "n_features": int(self.coef.shape[1]), "card": self.card}
        return atomic_write_json(folder / f"{name}.json", meta), npz

    @classmethod
    def load(cls, folder: Path, name: str) -> LinearTextModel:
        meta_path, npz_path = folder / f"{name}.json", folder / f"{name}.npz"
        hint = f"restore it with `git checkout -- {folder.name}` or retrain with `python benchmarks/judges.py --train`"
        if not meta_path.is_file() or not npz_path.is_file():
            raise DataError(f"{meta_path.with_suffix('')}: the {name} judge's weights are missing; {hint}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(npz_path, allow_pickle=False) as arrays:
                idf = [arrays[f"idf_{i}"].astype(np.float64) for i in range(len(meta["analyzers"]))]
                coef = np.zeros((arrays["coef_values"].shape[0], meta["n_features"]), dtype=np.float32)
                coef[:, arrays["coef_columns"]] = arrays["coef_values"]
                intercept = arrays["intercept"]
        except (ValueError, KeyError, OSError) as err:
            raise DataError(f"{npz_path}: unreadable judge weights ({err}); {hint}") from None
        return cls(meta["classes"], meta["analyzers"], idf, coef, intercept, meta["max_chars"], meta.get("card", {}))
