"""Shipped evaluation data: where it lives, readers with one-line errors, deterministic subsamples.

    rows = read_jsonl(suite_file("bbq", "bbq_subset.jsonl"))
    rows = subsample(rows, limit=100, seed=0, key="id", strata="category")

The data sits in `eval_data/<suite>/` at the top of the repository, beside `preference_data/`, each folder with
its upstream license and a SOURCE.md (origin, commit, terms, what was cut); `eval_data/build.py` regenerates
every file from the upstream copies. `ALIGNLAB_HOME` moves the root, as for the other shipped folders.

A missing, empty or unreadable file is a `DataError` naming the file (and line), with the fix.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alignlab.errors import DataError
from alignlab.paths import eval_data_dir

RESTORE_HINT = "restore it with `git checkout -- eval_data` or rebuild with `python eval_data/build.py SOURCE_DIR`"


def suite_file(folder: str, name: str, data_dir: Path | None = None) -> Path:
    """A shipped data file, checked to exist."""
    path = (data_dir or eval_data_dir()) / folder / name
    if not path.is_file():
        raise DataError(f"{path}: shipped evaluation data is missing; {RESTORE_HINT}")
    return path


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (bad byte at offset {err.start}); {RESTORE_HINT}") from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty; {RESTORE_HINT}")
    return text


def read_jsonl(path: Path, required: Sequence[str] = ()) -> list[dict[str, Any]]:
    """JSON objects, one per line; every object must hold the `required` fields."""
    rows = []
    for number, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: invalid JSON ({err.msg}); {RESTORE_HINT}") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}; {RESTORE_HINT}")
        _check_fields(row, required, path, number)
        rows.append(row)
    return rows


def read_csv(path: Path, required: Sequence[str] = ()) -> list[dict[str, str]]:
    """CSV rows with a header (a UTF-8 BOM is dropped); every row must have the `required` columns filled."""
    text = _text(path)
    try:
        rows = list(csv.DictReader(text.splitlines(keepends=True)))
    except csv.Error as err:
        raise DataError(f"{path}: malformed CSV ({err}); {RESTORE_HINT}") from None
    if not rows:
        raise DataError(f"{path}: no data rows under the header; {RESTORE_HINT}")
    for number, row in enumerate(rows, start=2):
        _check_fields(row, required, path, number)
    return rows


def _check_fields(row: dict, required: Sequence[str], path: Path, number: int) -> None:
    missing = [field for field in required if row.get(field) in (None, "")]
    if missing:
        raise DataError(f"{path}:{number}: missing field {missing[0]!r}; {RESTORE_HINT}")


def proportional_quotas(sizes: dict[Any, int], limit: int) -> dict[Any, int]:
    """Rows per stratum for a sample of `limit`: each stratum's share of the whole, rounded by largest remainder
    (Hamilton's method): floors first, then one more row to the strata with the largest fractional parts (ties
    by stratum name). Quotas sum to `limit` and never exceed a stratum's size."""
    total = sum(sizes.values())
    exact = {name: limit * size / total for name, size in sizes.items()}
    quotas = {name: min(sizes[name], int(value)) for name, value in exact.items()}
    order = sorted(sizes, key=lambda name: (-(exact[name] - int(exact[name])), str(name)))
    while sum(quotas.values()) < limit:
        grew = False
        for name in order:
            if sum(quotas.values()) < limit and quotas[name] < sizes[name]:
                quotas[name] += 1
                grew = True
        if not grew:
            break
    return quotas


def subsample(rows: list[dict[str, Any]], limit: int | None, *, seed: int = 0, key: str = "id",
              strata: str | Callable[[dict], Any] | None = None) -> list[dict[str, Any]]:
    """At most `limit` rows, chosen by a SHA-256 of (seed, row key): stable, and independent of row order.

    With `strata` (a field name or a function), each stratum gets its proportional share of `limit`, rounded by
    largest remainder (`proportional_quotas`), so the sample keeps the set's mix (HarmBench at 100: copyright is
    25 of 100 as it is 25% of the set). The result keeps the input order. `limit=None` returns the rows unchanged.
    """
    if limit is None or limit >= len(rows):
        return list(rows)

    def rank(row: dict) -> str:
        return hashlib.sha256(f"{seed}:{row[key]}".encode()).hexdigest()

    if strata is None:
        chosen = sorted(rows, key=rank)[:limit]
    else:
        stratum = strata if callable(strata) else (lambda row: row[strata])
        groups: dict[Any, list[dict]] = defaultdict(list)
        for row in rows:
            groups[str(stratum(row))].append(row)
        quotas = proportional_quotas({name: len(group) for name, group in groups.items()}, limit)
        chosen = [row for name in sorted(groups) for row in sorted(groups[name], key=rank)[:quotas[name]]]
    keep = {id(row) for row in chosen}
    return [row for row in rows if id(row) in keep]
