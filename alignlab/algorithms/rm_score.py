"""Batch scoring (`alignlab rm score`): add rewards to every row of a prompt/response file.

    summary = score_file("reward_models/tiny_bt", "candidates.jsonl", "scored.jsonl")

Rows are kept as they are, with fields added:
- a row with `prompt` and `response` (or `completion`): `reward`, plus `reward_std` for ensembles and
  `attributes` (rating units) for multi-attribute models;
- a pairwise row (`prompt`, `chosen`, `rejected`): `reward_chosen`, `reward_rejected` (and their `_std`);
- a candidates row (`prompt` and a list of `responses`, as the pipeline's generate stage writes them, or the
  samples of best-of-n): `rewards`, one per response in order (and `rewards_std`, `attributes` as lists).
Scoring goes through the model's stored input format (template, eos, truncation), so a score here equals
the score the response would have had in training. The output is written atomically (JSONL, CSV or Parquet
by its name).
"""

from __future__ import annotations

import os
from typing import Any

from alignlab.errors import DataError

RESPONSE_FIELDS = ("response", "completion")


def _kind(path: str, line: int, row: Any) -> str:
    if not isinstance(row, dict):
        raise DataError(f"{path}:{line}: expected an object with prompt and response, got {type(row).__name__}")
    if "prompt" not in row:
        raise DataError(f"{path}:{line}: prompt: missing required field (rows need prompt and response)")
    if "chosen" in row and "rejected" in row:
        return "pairwise"
    if any(name in row for name in RESPONSE_FIELDS):
        return "single"
    if "responses" in row:
        responses = row["responses"]
        if not isinstance(responses, list) or not responses or not all(isinstance(r, str) for r in responses):
            raise DataError(f"{path}:{line}: responses: expected a non-empty list of strings, got "
                            f"{_shown(responses)}")
        return "candidates"
    raise DataError(f"{path}:{line}: no response to score: give `response` (or `completion`), `chosen` and "
                    "`rejected`, or a list of `responses`")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read(path: str) -> list[tuple[int, dict, str]]:
    from alignlab.data.io import RowError, iter_rows

    rows = []
    for line, row in iter_rows(path):
        if isinstance(row, RowError):
            raise DataError(f"{path}:{line}: {row.field}: {row.reason}")
        rows.append((line, row, _kind(path, line, row)))
    if not rows:
        raise DataError(f"{path}: no rows to score")
    return rows


def _add(rows: list[dict], field: str, scores: Any, names: tuple[str, ...]) -> None:
    for index, row in enumerate(rows):
        row[field] = float(scores.reward[index])
        if scores.std is not None:
            row[f"{field}_std"] = float(scores.std[index])
        if scores.attributes is not None:
            suffix = "" if field == "reward" else field.removeprefix("reward")
            row[f"attributes{suffix}"] = {n: float(v) for n, v in zip(names, scores.attributes[index], strict=True)}


def score_file(model: Any, data: str | os.PathLike, out: str | os.PathLike, *, batch_size: int = 16) -> dict:
    """Score every row of `data` with a reward model (a `RewardModel` or a folder) into `out`."""
    from alignlab.data.io import write_rows
    from alignlab.models.reward import RewardModel, check_reward_folder

    if not isinstance(model, RewardModel):
        check_reward_folder(model)  # a wrong folder fails before the data is read
    rows = _read(str(data))
    rm = model if isinstance(model, RewardModel) else RewardModel.load(model)
    singles = [row for _, row, kind in rows if kind == "single"]
    pairs = [row for _, row, kind in rows if kind == "pairwise"]
    if singles:
        responses = [next(row[f] for f in RESPONSE_FIELDS if f in row) for row in singles]
        scores = rm.score([row["prompt"] for row in singles], responses, batch_size=batch_size)
        _add(singles, "reward", scores, rm.attributes)
    for side in ("chosen", "rejected"):
        if pairs:
            scores = rm.score([row["prompt"] for row in pairs], [row[side] for row in pairs], batch_size=batch_size)
            _add(pairs, f"reward_{side}", scores, rm.attributes)
    candidates = [row for _, row, kind in rows if kind == "candidates"]
    if candidates:
        _score_candidates(rm, candidates, batch_size)
    written = write_rows(out, (row for _, row, _ in rows))
    return {"rows": written, "responses": len(singles) + sum(len(row["responses"]) for row in candidates),
            "pairs": len(pairs), "candidate_rows": len(candidates), "out": str(out)}


def _score_candidates(rm: Any, rows: list[dict], batch_size: int) -> None:
    """Every response of every row in one scoring pass; `rewards` (and `rewards_std`, `attributes`) per row."""
    prompts = [row["prompt"] for row in rows for _ in row["responses"]]
    scores = rm.score(prompts, [r for row in rows for r in row["responses"]], batch_size=batch_size)
    flat: list[dict] = [{} for _ in prompts]
    _add(flat, "reward", scores, rm.attributes)
    start = 0
    for row in rows:
        mine, start = flat[start:start + len(row["responses"])], start + len(row["responses"])
        for field, key in (("rewards", "reward"), ("rewards_std", "reward_std"), ("attributes", "attributes")):
            if key in mine[0]:
                row[field] = [scored[key] for scored in mine]
