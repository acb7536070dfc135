"""Judge a user's JSONL file: rows with `prompt` and `response` in, each row back with `label` and `score`.

    n = judge_file("refusal", Path("mine.jsonl"), Path("judged.jsonl"))     # `alignlab eval judge refusal ...`
    rows_of_cards()                                                        # `alignlab eval judges` table rows

Every row is checked before any judging: a row that is not a JSON object, or lacks a string `prompt` or
`response`, stops with one line naming file:line; nothing is written then. The output keeps each row's own
fields (a human `gold` label, say, to compare with) and adds `label`, `score` and `judge`; it is written
atomically, so an interrupted run leaves no half file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alignlab.errors import DataError
from alignlab.eval.judges.base import get_judge, list_judges

HUB_JUDGES = ("harmbench_cls", "llama_guard", "wildguard")


def read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise DataError(f"{path}: no such file; pass a JSONL file with one {{\"prompt\", \"response\"}} object a line")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (bad byte at offset {err.start}); save it as UTF-8") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: invalid JSON ({err.msg}); one JSON object per line") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object with prompt and response, got "
                            f"{type(row).__name__}")
        for field in ("prompt", "response"):
            if not isinstance(row.get(field), str):
                problem = "missing" if field not in row else f"not a string ({type(row[field]).__name__})"
                raise DataError(f"{path}:{number}: field {field!r} is {problem}; every row needs string "
                                "'prompt' and 'response' fields")
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no rows; pass a JSONL file with one {{\"prompt\", \"response\"}} object a line")
    return rows


def judge_file(name: str, data: Path, out: Path, *, batch_size: int = 64, **options: Any) -> int:
    """Judge every row of `data` with judge `name`; write `out`; return the number of rows."""
    from alignlab.eval.judges.base import JUDGES
    from alignlab.utils.io import atomic_write_text

    JUDGES.check(name)  # an unknown name fails before the file is read
    rows = read_rows(data)
    judge = get_judge(name, **{k: v for k, v in options.items() if v is not None})
    lines = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        results = judge.judge([r["prompt"] for r in batch], [r["response"] for r in batch])
        lines += [json.dumps({**row, "label": result.label, "score": result.score, "judge": name},
                             ensure_ascii=False) + "\n" for row, result in zip(batch, results, strict=True)]
    atomic_write_text(out, "".join(lines))
    return len(rows)


def rows_of_cards() -> list[tuple[str, str, str, str]]:
    """(name, task, measured accuracy, where) per judge, without loading any hub model."""
    from alignlab.eval.judges.base import JUDGES

    out = []
    for name in list_judges():
        if name in HUB_JUDGES:
            cls = JUDGES.get(name)
            measured, task = dict(cls.measured), cls.task
        else:
            try:
                card = get_judge(name).card
                measured, task = card["measured"], card["task"]
            except Exception as err:  # noqa: BLE001 - one judge's missing file must not hide the table
                measured, task = {"accuracy": None, "where": f"unavailable: {err}"}, "?"
        accuracy = measured.get("accuracy")
        shown = f"{accuracy:.3f}" if isinstance(accuracy, float) else "-"
        out.append((name, task, shown, str(measured.get("where", ""))))
    return out
