"""Row validation for the four record formats: every problem as `PATH:LINE: field: reason`.

    report = validate_file("prefs.jsonl", "pairwise")     # streams; a 1 GB file is never loaded whole
    for line in report.lines(): print(line)               # problems, then "N problems in M rows"

    for line, record in iter_records("prefs.jsonl"):      # strict: stops at the first problem (DataError)
        ...

What is checked (the reason texts are what a user reads, so they say how to fix the row):
undecodable lines (invalid UTF-8, invalid JSON), rows that are not objects, missing required fields, wrong
types, empty or whitespace-only text, over-long text (`max_chars`), message roles outside system/user/assistant
(and non-assistant messages in a response), chosen identical to rejected, ranks/responses length mismatch and
ranks below 1, ratings outside the scale or for unknown attributes, a label that is not true/false, malformed
optional fields (margin, weight, agreement, annotators, metadata...), and duplicate ids (naming the first line).

A row's checks cost a few dict lookups and `str` tests, the hot path of `alignlab data convert`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from alignlab.data.io import RowError, iter_rows
from alignlab.data.records import DEFAULT_ATTRIBUTES, DEFAULT_MAX_CHARS, DEFAULT_SCALE, FORMATS, ROLES
from alignlab.errors import DataError

_MISSING: Any = object()
_ROLE_LIST = ", ".join(ROLES)
# How many problems a report keeps in memory (all are counted): a file broken on every line would
# otherwise print and hold millions of lines.
DEFAULT_MAX_PROBLEMS = 1000


class Problem(NamedTuple):
    path: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.reason}"


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


class RowChecker:
    """Checks rows of one format and remembers ids, to report duplicates.

    `attributes` and `scale` (inclusive min, max) apply to the ratings format (and to ratings carried by
    other formats); `max_chars` bounds every text field and message content.
    """

    def __init__(self, fmt: str = "pairwise", *, max_chars: int | None = DEFAULT_MAX_CHARS,
                 attributes: Iterable[str] | None = None, scale: tuple[float, float] | None = None) -> None:
        if fmt not in FORMATS:
            raise DataError(f"unknown data format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.format = fmt
        self.max_chars = max_chars if max_chars else float("inf")
        self.attributes = tuple(attributes) if attributes else DEFAULT_ATTRIBUTES
        self.scale = tuple(scale) if scale else DEFAULT_SCALE
        self._fields = getattr(self, f"_check_{fmt}")
        self._seen_ids: dict[str, int] = {}

    def check(self, row: Any, line: int) -> list[tuple[str, str]]:
        """`(field, reason)` for every problem of `row` (read at `line`); empty when it is valid."""
        problems = self.check_fields(row)
        if type(row) is dict:
            problems += self.check_id(row, line)
        return problems

    def check_fields(self, row: Any) -> list[tuple[str, str]]:
        """Every problem of the row on its own, without the duplicate-id check (which needs history)."""
        if type(row) is not dict:
            if isinstance(row, RowError):
                return [(row.field, row.reason)]
            return [("<row>", f"expected a JSON object, got {_type_name(row)}")]
        problems: list[tuple[str, str]] = []
        self._fields(row, problems)
        for name in row:
            check = _OPTIONAL_CHECKS.get(name)
            if check is not None and row[name] is not None:
                check(self, row[name], problems)
        return problems

    def check_id(self, row: dict, line: int) -> list[tuple[str, str]]:
        """A duplicate-id problem if an earlier line (checked through this checker) had the same id.

        Callers that drop exact duplicates call this after dropping them, so that a row repeated whole
        (same id, same content) is a duplicate to drop, and only a reused id on other content is an error.
        """
        row_id = row.get("id")
        if type(row_id) is str and row_id:
            first = self._seen_ids.setdefault(row_id, line)
            if first != line:
                return [("id", f"duplicate id {row_id!r} (first seen on line {first})")]
        return []

    # -------------------------------------------------------------------------------- text and messages

    def _string(self, value: Any, name: str, out: list) -> None:
        if type(value) is not str:
            out.append((name, "missing required field" if value is _MISSING
                        else f"expected a string, got {_type_name(value)}"))
        elif not value or value.isspace():
            out.append((name, "empty text"))
        elif len(value) > self.max_chars:
            out.append((name, f"{len(value):,} characters, over the limit of {self.max_chars:,} "
                              "(raise --max-chars if this is intended)"))
        # Lone surrogates (text that cannot be written as UTF-8) are caught by the readers, which can
        # tell from the raw line whether a row may hold one; a check per string here would cost more
        # than the rest of the row's checks together.

    def _text(self, value: Any, name: str, out: list, response: bool) -> None:
        """A string, or a non-empty list of messages (assistant-only when `response`)."""
        if type(value) is list:
            self._messages(value, name, out, response)
        elif type(value) is str or value is _MISSING:
            self._string(value, name, out)
        else:
            out.append((name, f"expected a string or a list of chat messages, got {_type_name(value)}"))

    def _messages(self, messages: list, name: str, out: list, response: bool) -> None:
        if not messages:
            out.append((name, "empty message list"))
        for index, message in enumerate(messages):
            where = f"{name}[{index}]"
            if type(message) is not dict:
                out.append((where, f"expected a message object with role and content, got {_type_name(message)}"))
                continue
            role = message.get("role", _MISSING)
            if role is _MISSING:
                out.append((f"{where}.role", "missing required field"))
            elif role not in ROLES:
                out.append((f"{where}.role", f"bad message role {role!r}; use one of {_ROLE_LIST}"))
            elif response and role != "assistant":
                out.append((f"{where}.role", f"bad message role {role!r}; a response holds assistant messages"))
            self._string(message.get("content", _MISSING), f"{where}.content", out)

    # ------------------------------------------------------------------------------------- per format

    def _check_pairwise(self, row: dict, out: list) -> None:
        get = row.get
        prompt, chosen, rejected = get("prompt"), get("chosen", _MISSING), get("rejected", _MISSING)
        # Fast path for the common all-string pair: one expression instead of three _text calls.
        if (type(prompt) is str and type(chosen) is str and type(rejected) is str
                and prompt and chosen and rejected and chosen != rejected
                and len(prompt) <= self.max_chars and len(chosen) <= self.max_chars
                and len(rejected) <= self.max_chars
                and not prompt.isspace() and not chosen.isspace() and not rejected.isspace()):
            return
        self._text(get("prompt", _MISSING), "prompt", out, False)
        before = len(out)
        self._text(chosen, "chosen", out, True)
        self._text(rejected, "rejected", out, True)
        if len(out) > before:
            return  # two empty or missing responses are not worth a third "identical" line
        if chosen == rejected:
            out.append(("rejected", "identical to chosen; a pair needs two different responses"))
        elif type(chosen) is not type(rejected) and {type(chosen), type(rejected)} == {str, list}:
            out.append(("rejected", "chosen and rejected must both be strings or both be message lists"))

    def _check_ranking(self, row: dict, out: list) -> None:
        self._text(row.get("prompt", _MISSING), "prompt", out, False)
        responses, ranks = row.get("responses", _MISSING), row.get("ranks", _MISSING)
        if type(responses) is not list:
            out.append(("responses", "missing required field" if responses is _MISSING
                        else f"expected a list of responses, got {_type_name(responses)}"))
        else:
            if len(responses) < 2:
                out.append(("responses", f"{len(responses)} response(s); a ranking needs at least 2"))
            for index, response in enumerate(responses):
                self._text(response, f"responses[{index}]", out, True)
        if type(ranks) is not list:
            out.append(("ranks", "missing required field" if ranks is _MISSING
                        else f"expected a list of integers, got {_type_name(ranks)}"))
            return
        for index, rank in enumerate(ranks):
            if type(rank) is not int or rank < 1:
                out.append((f"ranks[{index}]", f"expected an integer >= 1 (1 = best), got {rank!r}"))
        if type(responses) is list and len(ranks) != len(responses):
            out.append(("ranks", f"{len(ranks)} ranks for {len(responses)} responses; give one rank each"))

    def _check_ratings(self, row: dict, out: list) -> None:
        self._text(row.get("prompt", _MISSING), "prompt", out, False)
        self._text(row.get("response", _MISSING), "response", out, True)
        ratings = row.get("ratings", _MISSING)
        if ratings is _MISSING:
            out.append(("ratings", "missing required field"))
        elif ratings is None:
            out.append(("ratings", "expected an object of attribute: score, got null"))
        elif type(ratings) is dict and not ratings:
            out.append(("ratings", "empty ratings; rate at least one attribute"))
        # a present non-dict, and each rating, is checked by _OPTIONAL_CHECKS["ratings"]

    def _check_unpaired(self, row: dict, out: list) -> None:
        self._text(row.get("prompt", _MISSING), "prompt", out, False)
        self._text(row.get("completion", _MISSING), "completion", out, True)
        label = row.get("label", _MISSING)
        if label is _MISSING:
            out.append(("label", "missing required field"))
        elif type(label) is not bool:
            out.append(("label", f"label must be true or false, got {_type_name(label)} {label!r:.40}"))

    # -------------------------------------------------------------------------------- optional fields

    def _check_ratings_field(self, ratings: Any, out: list) -> None:
        if type(ratings) is not dict:
            out.append(("ratings", f"expected an object of attribute: score, got {_type_name(ratings)}"))
            return
        low, high = self.scale
        for attribute, score in ratings.items():
            where = f"ratings.{attribute}"
            if attribute not in self.attributes:
                out.append((where, f"unknown attribute; known: {', '.join(self.attributes)}"))
            elif not _is_number(score):
                out.append((where, f"expected a number, got {_type_name(score)}"))
            elif not low <= score <= high:
                out.append((where, f"rating {score} out of range {low:g}..{high:g}"))


def _number(name: str, low: float = -math.inf, high: float = math.inf, hint: str = "") -> Any:
    def check(_checker: RowChecker, value: Any, out: list) -> None:
        if not _is_number(value):
            out.append((name, f"expected a finite number, got {_type_name(value)}"))
        elif not low <= value <= high:
            bounds = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
            out.append((name, f"{value} is out of range: must be {bounds}{hint}"))
    return check


def _typed(name: str, kind: type, what: str) -> Any:
    def check(_checker: RowChecker, value: Any, out: list) -> None:
        if type(value) is not kind:
            out.append((name, f"expected {what}, got {_type_name(value)}"))
        elif kind is str and not value:
            out.append((name, "empty text"))
    return check


def _check_annotators(_checker: RowChecker, value: Any, out: list) -> None:
    if type(value) is not list or not all(type(item) is str for item in value):
        out.append(("annotators", f"expected a list of annotator names, got {_type_name(value)}"))


_OPTIONAL_CHECKS = {
    "id": _typed("id", str, "a string"),
    "margin": _number("margin", 0, hint=" (a margin says how much better chosen is; swap the pair if negative)"),
    "weight": _number("weight", 0),
    "agreement": _number("agreement", 0, 1, " (the share of annotators who agreed)"),
    "source": _typed("source", str, "a string"),
    "category": _typed("category", str, "a string"),
    "annotators": _check_annotators,
    "metadata": _typed("metadata", dict, "an object"),
    "ratings": RowChecker._check_ratings_field,
}


@dataclass
class ValidationReport:
    """What `validate_file` found: rows read, problems (the first `max_problems` kept), a summary line."""

    path: str
    format: str
    rows: int = 0
    problem_count: int = 0
    bad_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    max_problems: int | None = DEFAULT_MAX_PROBLEMS

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def summary(self) -> str:
        if self.ok:
            return f"OK {self.path}: {self.rows:,} {self.format} rows, no problems"
        return (f"{_plural(self.problem_count, 'problem')} in {_plural(self.rows, 'row')} "
                f"({_plural(self.bad_rows, 'row')} affected)")

    groups: dict[tuple[str, str], ProblemGroup] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        """Count a problem: kept (up to max_problems) and grouped with others of its kind."""
        self.problem_count += 1
        if self.max_problems is None or len(self.problems) < self.max_problems:
            self.problems.append(problem)
        key = (problem.field, _DETAILS.sub("#", problem.reason))
        group = self.groups.get(key)
        if group is None:
            self.groups[key] = ProblemGroup(problem)
        else:
            group.count += 1
            if len(group.lines) < GROUP_LINES:
                group.lines.append(problem.line)

    def lines(self) -> Iterator[str]:
        """One line per kind of problem (a repeated mistake is one line: count, first lines, the fix), a note
        for kinds not shown, then the summary line. `problems` keeps every problem for the Python API."""
        shown = list(self.groups.values())
        if self.max_problems is not None:
            shown = shown[:self.max_problems]
        for group in shown:
            yield group.describe()
        hidden = len(self.groups) - len(shown)
        if hidden:
            yield f"... and {hidden:,} more kinds of problem not shown (raise --max-problems)"
        yield self.summary()


GROUP_LINES = 5  # line numbers listed per kind of problem
_DETAILS = re.compile(r"'[^']*'|\d+(?:\.\d+)?")  # quoted values and numbers differ between rows of one kind


@dataclass
class ProblemGroup:
    """Problems of one kind: the first one (its reason says how to fix it), how many, their first lines."""

    first: Problem
    count: int = 1
    lines: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = [self.first.line]

    def describe(self) -> str:
        if self.count == 1:
            return str(self.first)
        more = ", ..." if self.count > len(self.lines) else ""
        where = ", ".join(str(line) for line in self.lines)
        return (f"{self.first.path}: {self.first.field}: {self.first.reason} "
                f"({self.count:,} rows, lines {where}{more})")


def validate_rows(rows: Iterable[tuple[int, Any]], path: str, fmt: str = "pairwise", *,
                  max_problems: int | None = DEFAULT_MAX_PROBLEMS, **limits: Any) -> ValidationReport:
    """Validate `(line, row)` pairs (from any reader) into a report; `limits` go to `RowChecker`."""
    checker = RowChecker(fmt, **limits)
    report = ValidationReport(path=path, format=fmt, max_problems=max_problems)
    check = checker.check
    for line, row in rows:
        report.rows += 1
        found = check(row, line)
        if found:
            report.bad_rows += 1
            for name, reason in found:
                report.add(Problem(path, line, name, reason))
    return report


def source_rows(path: str | os.PathLike, fmt: str, *, split: str | None = None,
                origin: str = "auto") -> Iterator[tuple[int, Any]]:
    """`iter_rows`, with TRL-shaped preference rows converted (`alignlab.data.trl_format.trl_rows`): `origin`
    auto detects them row by row, trl converts every row it can, alignlab reads rows as they are."""
    from alignlab.data.trl_format import SOURCES, trl_rows

    if origin not in SOURCES:
        raise DataError(f"--from {origin!r}: choose one of {', '.join(SOURCES)}")
    rows = iter_rows(path, split=split)
    return trl_rows(rows, origin) if fmt == "pairwise" and origin != "alignlab" else rows


def validate_file(path: str | os.PathLike, fmt: str = "pairwise", *, split: str | None = None,
                  max_problems: int | None = DEFAULT_MAX_PROBLEMS, origin: str = "auto",
                  **limits: Any) -> ValidationReport:
    """Stream-validate a file (JSONL, CSV, Parquet, datasets folder); a missing file raises `DataError`.

    `limits`: `max_chars`, `attributes`, `scale` (see `RowChecker`); `origin`: see `source_rows`.
    """
    RowChecker(fmt, **limits)  # a bad format or limit fails before the file is opened
    return validate_rows(source_rows(path, fmt, split=split, origin=origin), str(path), fmt,
                         max_problems=max_problems, **limits)


def iter_records(path: str | os.PathLike, fmt: str = "pairwise", *, split: str | None = None,
                 origin: str = "auto", **limits: Any) -> Iterator[tuple[int, dict]]:
    """Stream `(line, record)` of valid rows; the first invalid row raises `DataError` naming its line.
    TRL-shaped rows are converted first (`source_rows`)."""
    checker = RowChecker(fmt, **limits)
    for line, row in source_rows(path, fmt, split=split, origin=origin):
        found = checker.check(row, line)
        if found:
            name, reason = found[0]
            more = f" (and {len(found) - 1} more in this row)" if len(found) > 1 else ""
            raise DataError(f"{path}:{line}: {name}: {reason}{more}; "
                            f"`alignlab data validate {path}` lists every problem")
        yield line, row


def load_records(path: str | os.PathLike, fmt: str = "pairwise", **options: Any) -> list[dict]:
    """Every record of a file, validated, in memory (what training code calls)."""
    return [record for _line, record in iter_records(path, fmt, **options)]
