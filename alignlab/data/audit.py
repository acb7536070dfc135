"""Audit a preference file for the shortcuts and accidents a reward model will learn: one streaming pass.

    report = audit_file("prefs.jsonl", "pairwise")     # a JSON-ready dict (keys below)
    write_audit(report, "audit/")                       # audit/audit.json + audit/audit.html

Invalid rows are counted and skipped (the first few problems are listed). Every statistic is over the valid
rows with exact duplicates counted once, i.e. over what `alignlab data convert` would write.

`audit.json` keys (`null` where a section does not apply to the format or the data has no such field):

- `alignlab_audit_version` (1), `path`, `format`, `rows` (rows read), `valid_rows`, `invalid_rows`,
  `problems` (the first validation problems as `PATH:LINE: field: reason`).
- `verdicts`: one sentence per finding a human should read first, most important first.
- `duplicates`: `exact` (rows whose content fields repeat an earlier row), `near` (further rows equal to an
  earlier one after normalization: case, punctuation, whitespace), `exact_examples` / `near_examples`
  (`[line, first line]` pairs), `distinct_prompts`.
- `lengths`: per text field (`prompt`, `chosen`, `rejected` / `response` / `completion` / `responses`):
  `{"chars": stats, "tokens": stats}`, stats = `{count, mean, median, p95, max}`; tokens split on whitespace.
  `multi_turn_prompts`: prompts holding more than one user message.
- `length_histograms`: per text field `{"edges", "counts"}` over characters (clipped at the 99th percentile);
  `length_difference_histogram`: chosen minus rejected characters, per pair.
- `length_bias` (pairwise; ranking through its implied pairs): `by_chars` and `by_tokens`, each
  `{count (pairs whose chosen is longer), trials (pairs whose lengths differ), share, ci95 (Wilson),
  p_value (exact two-sided binomial test against 1/2), ties, level (none/weak/moderate/strong)}`, and
  `mean_chosen_minus_rejected_chars`.
- `position_bias`: from `metadata.chosen_position` (or a top-level `chosen_position`): a/first/left/1 =
  chosen shown first, b/second/right/2 = second; a proportion as above for "shown first", plus `unrecognised`.
- `labels` (unpaired): proportion desirable, `mean_completion_chars` by label and suggested KTO
  `desirable_weight` / `undesirable_weight` (Ethayarajh et al. 2024 keep weight x count ratios in [1, 4/3]).
- `ratings` (ratings format): per attribute `{count, mean, histogram: {score: count}, length_correlation}`.
- `ranking`: `responses_per_row` stats, `rows_with_ties`, `implied_pairs`.
- `agreement`: stats of `agreement`, `histogram` (10 bins over 0..1), `low_agreement_share` (< 0.6);
  `annotators`: `{distinct, top: [[name, rows], ...]}`; `margins`: stats of `margin`.
- `breakdown`: `{"source": [...], "category": [...], "language": [...], "dialect": [...]}`, each entry
  `{name, rows, share, chosen_longer_share}`. `language` is the prompt's script (`ar`, `en`, `other`;
  `alignlab.data.dialect.language_of`); `dialect` is, for Arabic prompts, the dialect the shipped classifier
  (`alignlab.data.dialect`, trained on ArSarcasm-v2; its held-out accuracy is in `dialect_classifier`) reads
  in the prompt: msa, egypt, gulf, levant, magreb. `dialect_classifier`: that card's held-out numbers, or
  null when no prompt is Arabic.
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from itertools import combinations
from typing import Any

from alignlab.data.dedupe import dedupe_key_function, near_key
from alignlab.data.dialect import dialect_classifier, language_of
from alignlab.data.io import iter_rows
from alignlab.data.records import FORMATS, text_of
from alignlab.data.validation import Problem, RowChecker
from alignlab.errors import DataError

MAX_PROBLEMS_LISTED = 20
_TEXT_FIELDS = {"pairwise": ("prompt", "chosen", "rejected"), "ranking": ("prompt", "responses"),
                "ratings": ("prompt", "response"), "unpaired": ("prompt", "completion")}
_FIRST = {"a", "first", "left", "1", "A"}
_SECOND = {"b", "second", "right", "2", "B"}


class _Audit:
    """Streaming accumulator: `duplicate` then `add` each valid row, `invalid` each bad one."""

    def __init__(self, fmt: str, max_examples: int) -> None:
        self.format, self.max_examples = fmt, max_examples
        self.rows = self.invalid_rows = 0
        self.problems: list[str] = []
        self.exact_key, self.exact, self.near = dedupe_key_function(fmt), {}, {}
        self.exact_examples: list[list[int]] = []
        self.near_examples: list[list[int]] = []
        self.exact_count = self.near_count = 0
        self.prompts: set[int] = set()
        self.multi_turn = 0
        self.chars = {name: array("l") for name in _TEXT_FIELDS[fmt]}
        self.tokens = {name: array("l") for name in _TEXT_FIELDS[fmt]}
        self.pairs = Counter()  # longer/shorter/tie by chars and tokens
        self.differences = array("l")
        self.position = Counter()
        self.labels = Counter()
        self.label_chars: dict[bool, array] = {True: array("l"), False: array("l")}
        self.ratings: dict[str, Counter] = {}
        self.rating_lengths: dict[str, tuple[array, array]] = {}
        self.responses_per_row = array("l")
        self.rows_with_ties = 0
        self.agreement = array("d")
        self.margins = array("d")
        self.annotators = Counter()
        self.groups: dict[str, dict[str, Counter]] = {"source": {}, "category": {}, "language": {}, "dialect": {}}

    def invalid(self, path: str, line: int, problems: list[tuple[str, str]]) -> None:
        self.invalid_rows += 1
        for name, reason in problems:
            if len(self.problems) < MAX_PROBLEMS_LISTED:
                self.problems.append(str(Problem(path, line, name, reason)))

    def add(self, row: dict) -> None:
        """Count a valid row that is not an exact duplicate into every statistic."""
        prompt = row["prompt"]
        self.prompts.add(hash(text_of(prompt)))
        if isinstance(prompt, list) and sum(m.get("role") == "user" for m in prompt) > 1:
            self.multi_turn += 1
        names = {"source": row.get("source"), "category": row.get("category"), **_language_and_dialect(prompt)}
        groups = [self.groups[name].setdefault(str(value or "(none)"), Counter()) for name, value in names.items()]
        for group in groups:
            group["rows"] += 1
        getattr(self, f"_add_{self.format}")(row, groups)
        self._add_annotations(row)

    def duplicate(self, line: int, row: dict) -> bool:
        """Record the row's keys and count repeats; True when it repeats an earlier row exactly (a near
        duplicate is counted but still measured, as convert would keep it)."""
        exact = self.exact_key(row)
        first = self.exact.setdefault(exact, line)
        if first != line:
            self.exact_count += 1
            if len(self.exact_examples) < self.max_examples:
                self.exact_examples.append([line, first])
            return True
        near = near_key(row, self.format)
        first = self.near.setdefault(near, line)
        if first != line:
            self.near_count += 1
            if len(self.near_examples) < self.max_examples:
                self.near_examples.append([line, first])
        return False

    def _measure(self, name: str, value: Any) -> int:
        text = text_of(value)
        self.chars[name].append(len(text))
        self.tokens[name].append(len(text.split()))
        return len(text)

    def _add_pair(self, chosen: Any, rejected: Any, groups: list[Counter]) -> None:
        chosen_text, rejected_text = text_of(chosen), text_of(rejected)
        difference = len(chosen_text) - len(rejected_text)
        self.differences.append(difference)
        outcome = "longer" if difference > 0 else "shorter" if difference < 0 else "tie"
        self.pairs[f"chars_{outcome}"] += 1
        token_difference = len(chosen_text.split()) - len(rejected_text.split())
        self.pairs[f"tokens_{'longer' if token_difference > 0 else 'shorter' if token_difference < 0 else 'tie'}"] += 1
        for group in groups:
            group[outcome] += 1

    def _add_pairwise(self, row: dict, groups: list[Counter]) -> None:
        for name in ("prompt", "chosen", "rejected"):
            self._measure(name, row[name])
        self._add_pair(row["chosen"], row["rejected"], groups)
        metadata = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
        position = metadata.get("chosen_position", row.get("chosen_position"))
        if position is not None:
            key = str(position).strip()
            self.position["first" if key in _FIRST else "second" if key in _SECOND else "unrecognised"] += 1

    def _add_ranking(self, row: dict, groups: list[Counter]) -> None:
        self._measure("prompt", row["prompt"])
        responses, ranks = row["responses"], row["ranks"]
        for response in responses:
            self._measure("responses", response)
        self.responses_per_row.append(len(responses))
        self.rows_with_ties += len(set(ranks)) < len(ranks)
        for first, second in combinations(range(len(ranks)), 2):
            if ranks[first] != ranks[second]:
                better, worse = (first, second) if ranks[first] < ranks[second] else (second, first)
                self._add_pair(responses[better], responses[worse], groups)

    def _add_ratings(self, row: dict, groups: list[Counter]) -> None:
        self._measure("prompt", row["prompt"])
        length = self._measure("response", row["response"])
        for attribute, score in row["ratings"].items():
            self.ratings.setdefault(attribute, Counter())[score] += 1
            lengths, scores = self.rating_lengths.setdefault(attribute, (array("l"), array("d")))
            lengths.append(length)
            scores.append(float(score))

    def _add_unpaired(self, row: dict, groups: list[Counter]) -> None:
        self._measure("prompt", row["prompt"])
        length = self._measure("completion", row["completion"])
        self.labels[row["label"]] += 1
        self.label_chars[row["label"]].append(length)

    def _add_annotations(self, row: dict) -> None:
        if row.get("agreement") is not None:
            self.agreement.append(float(row["agreement"]))
        if row.get("margin") is not None:
            self.margins.append(float(row["margin"]))
        for name in row.get("annotators") or ():
            self.annotators[name] += 1


def _language_and_dialect(prompt: Any) -> dict[str, str | None]:
    """The prompt's script and, for Arabic, its dialect (the classifier loads only when Arabic appears)."""
    text = text_of(prompt)
    language = language_of(text)
    return {"language": language, "dialect": dialect_classifier().predict([text])[0] if language == "ar" else None}


def audit_file(path: str | os.PathLike, fmt: str = "pairwise", *, split: str | None = None,
               max_examples: int = 10, **limits: Any) -> dict:
    """Audit a file in one streaming pass; see the module docstring for the keys of the result."""
    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; choose one of {', '.join(FORMATS)}")
    checker = RowChecker(fmt, **limits)
    audit = _Audit(fmt, max_examples)
    for line, row in iter_rows(path, split=split):
        audit.rows += 1
        problems = checker.check_fields(row)
        # An exact duplicate (same id too) counts as a duplicate; only an id reused on new content is invalid.
        if not problems and not audit.duplicate(line, row):
            problems = checker.check_id(row, line)
            if not problems:
                audit.add(row)
        if problems:
            audit.invalid(str(path), line, problems)
    from alignlab.data.audit_summary import build_report

    return build_report(audit, str(path))


def write_audit(report: dict, out_dir: str | os.PathLike) -> dict[str, str]:
    """Write `audit.json` and `audit.html` into `out_dir` (atomically); return their paths."""
    from alignlab.data.audit_html import write_audit_files

    return write_audit_files(report, out_dir)

