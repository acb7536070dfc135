"""Reward-model data: read and validate for the method, split by prompt, pair up, tokenize into trainer rows.

    data = load_rm_data(config)                       # RMData: train/eval records, format, sha256
    rows = pairwise_rows(pairs, tokenizer, fmt, use_margin=False, example_weight="weight")

Every check a user can fail is a one-line `DataError` naming the file and line (or the synthetic spec) and
the config key to change: no usable pairs, a ratings row missing an attribute the config asks for, a rating
outside `data.scale`. `data.path` may be a file or a `synthetic:...` spec (`alignlab.data.synthetic`).

Held-out data is `data.eval_path` when given, else a `data.test_size` share of the prompts (every pair or
rating of one prompt lands on the same side, so a held-out score never rewards memorised prompts).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alignlab.data.pairs import expand_ranking_to_pairs, ratings_to_pairs
from alignlab.data.records import DEFAULT_ATTRIBUTES
from alignlab.data.synthetic import is_synthetic, load_synthetic
from alignlab.errors import DataError
from alignlab.models.reward import shared_prefix_length


@dataclass
class RMData:
    """What a reward model trains and is evaluated on; `format` is "pairwise" or "ratings"."""

    format: str
    train: list[dict]
    eval: list[dict]
    path: str
    eval_source: str
    sha256: str
    rows: int
    notes: list[str] = field(default_factory=list)


def read_records(path: str, fmt: str, *, attributes: Iterable[str] = (),
                 scale: tuple[float, float] | None = None) -> list[tuple[int, dict]]:
    """(line, record) of a file or synthetic spec, validated; ratings are checked against the config's
    attributes (every row must rate each) and scale."""
    from alignlab.data.validation import RowChecker, iter_records

    attributes = tuple(attributes)
    if is_synthetic(path):
        synthetic_format, records = load_synthetic(path)
        if synthetic_format != fmt:
            raise DataError(f"{path}: a synthetic {synthetic_format} set, but data.format is {fmt}; "
                            f"set data.format: {synthetic_format}")
        checker = RowChecker(fmt, attributes=set(DEFAULT_ATTRIBUTES) | set(attributes), scale=(-math.inf, math.inf))
        numbered = list(enumerate(records, start=1))
        for line, record in numbered:
            if problems := checker.check(record, line):
                raise DataError(f"{path}:{line}: {problems[0][0]}: {problems[0][1]}")
    else:
        numbered = list(iter_records(path, fmt, attributes=set(DEFAULT_ATTRIBUTES) | set(attributes),
                                     scale=(-math.inf, math.inf)))
    if fmt == "ratings":
        for line, record in numbered:
            _check_ratings(path, line, record["ratings"], attributes, scale)
    return numbered


def _check_ratings(path: str, line: int, ratings: dict, attributes: tuple[str, ...],
                   scale: tuple[float, float] | None) -> None:
    for name in attributes:
        if name not in ratings:
            raise DataError(f"{path}:{line}: ratings.{name}: missing; rm.attributes asks every row to rate "
                            f"{', '.join(attributes)} (fill it in, drop the row, or remove {name!r} from "
                            "rm.attributes)")
    if scale is None:
        return
    low, high = scale
    for name, value in ratings.items():
        if not low <= value <= high:
            raise DataError(f"{path}:{line}: ratings.{name}: rating {value:g} is outside data.scale "
                            f"{low:g}..{high:g}; set data.scale to the scale of this data (e.g. data.scale=[1,10])")


def prompt_key(prompt: Any) -> str:
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def split_by_prompt(records: list[dict], test_size: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, test): a seeded `test_size` share of the distinct prompts, with all their records, is test."""
    keys = sorted({prompt_key(r["prompt"]) for r in records})
    random.Random(seed).shuffle(keys)
    held_out = set(keys[: round(test_size * len(keys))])
    train = [r for r in records if prompt_key(r["prompt"]) not in held_out]
    test = [r for r in records if prompt_key(r["prompt"]) in held_out]
    return train, test


def to_pairs(records: list[dict], fmt: str, weights: dict[str, float]) -> list[dict]:
    """Pairwise records from any format: rankings expand, ratings pair up by their weighted score."""
    if fmt == "ranking":
        return [pair for record in records for pair in expand_ranking_to_pairs(record)]
    if fmt == "ratings":
        return list(ratings_to_pairs(records, weights))
    return records


def _no_pairs(path: str, fmt: str, rows: int) -> DataError:
    why = {
        "pairwise": "the file holds no rows",
        "ranking": "every ranking ties all its responses",
        "ratings": "no prompt has two responses with different weighted ratings (rm.attribute_weights)",
    }[fmt]
    return DataError(f"{path}: no usable pairs in {rows} {fmt} rows ({why}); a reward model needs pairs of "
                     "responses to one prompt where one is preferred - check data.path and data.format")


def load_rm_data(config: Any) -> RMData:
    """Read, validate and split the data a `RMConfig` names (training data is the config's `data`)."""
    data, rm = config.data, config.rm
    regression = rm.regression()
    attributes = rm.attributes if regression else [a for a in rm.weights() if data.format == "ratings"]
    scale = tuple(data.scale) if data.format == "ratings" else None
    records = [r for _, r in read_records(data.path, data.format, attributes=attributes, scale=scale)]
    notes: list[str] = []
    if data.eval_path:
        eval_records = [r for _, r in read_records(data.eval_path, data.format, attributes=attributes, scale=scale)]
        train_records, eval_source = records, data.eval_path
    else:
        train_records, eval_records = split_by_prompt(records, data.test_size, config.run.seed)
        eval_source = f"{data.test_size:g} of the prompts of {data.path} (seed {config.run.seed})"
    if not regression:
        train_records = to_pairs(train_records, data.format, rm.weights())
        eval_records = to_pairs(eval_records, data.format, rm.weights())
        if not train_records:
            raise _no_pairs(data.path, data.format, len(records))
    elif not train_records:
        raise DataError(f"{data.path}: no training rows left after holding out data.test_size={data.test_size}; "
                        "add rows or lower data.test_size")
    if not eval_records:
        notes.append("no held-out data: the model card has no evaluation (set data.eval_path or data.test_size)")
    fmt = "ratings" if regression else "pairwise"
    return RMData(format=fmt, train=train_records, eval=eval_records, path=data.path, eval_source=eval_source,
                  sha256=records_sha256(train_records), rows=len(records), notes=notes)


def records_sha256(records: Iterable[dict]) -> str:
    """SHA-256 of the records as sorted-key JSON lines: the same training data gives the same hash anywhere."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def bootstrap_sample(records: list[dict], seed: int) -> list[dict]:
    """A same-size resample with replacement (an ensemble member's data)."""
    rng = random.Random(seed)
    return [records[rng.randrange(len(records))] for _ in records]


def example_weights(pairs: list[dict], source: str, single_annotator_weight: float = 0.5) -> list[float] | None:
    """Per-pair loss weights from the record's `weight` or `agreement` (1 when absent); None for "none".

    A record one annotator labelled has agreement null (nothing to agree with): it weighs
    `single_annotator_weight`, not the 1.0 of a unanimous panel."""
    if source == "none":
        return None
    if source == "agreement":
        return [single_annotator_weight if single_annotated(pair) else float(pair.get("agreement") or 1.0)
                for pair in pairs]
    return [float(pair.get(source, 1.0)) for pair in pairs]


def single_annotated(record: dict) -> bool:
    """Labelled by exactly one annotator, so its agreement is undefined (null)."""
    return record.get("agreement") is None and len(record.get("annotators") or ()) == 1


def pairwise_rows(pairs: list[dict], tokenizer: Any, fmt: Any, *, use_margin: bool, example_weight: str,
                  single_annotator_weight: float = 0.5) -> Any:
    """A `datasets.Dataset` of tokenized pairs for `PairwiseRewardTrainer`."""
    from datasets import Dataset

    prompts = [p["prompt"] for p in pairs]
    chosen = fmt.encode(tokenizer, prompts, [p["chosen"] for p in pairs])
    rejected = fmt.encode(tokenizer, prompts, [p["rejected"] for p in pairs])
    both = list(zip(chosen, rejected, strict=True))
    columns: dict[str, list] = {"chosen_ids": chosen, "rejected_ids": rejected,
                                "length": [max(len(c), len(r)) for c, r in both],
                                "packed_length": [len(c) + len(r) - shared_prefix_length(c, r) for c, r in both]}
    if use_margin:
        columns["margin"] = [float(p.get("margin", 0.0)) for p in pairs]
    weights = example_weights(pairs, example_weight, single_annotator_weight)
    if weights is not None:
        columns["weight"] = weights
    return Dataset.from_dict(columns)


def scaled_targets(ratings: dict, attributes: list[str], scale: tuple[float, float]) -> list[float]:
    """Ratings mapped from [low, high] to [-1, 1] (the regression targets)."""
    low, high = scale
    return [2.0 * (ratings[name] - low) / (high - low) - 1.0 for name in attributes]


def ratings_rows(records: list[dict], tokenizer: Any, fmt: Any, *, attributes: list[str],
                 scale: tuple[float, float]) -> Any:
    """A `datasets.Dataset` of prompt groups for `MultiAttributeTrainer`: each row holds every rated response
    to one prompt (pairs for the Bradley-Terry term are formed inside a group)."""
    from datasets import Dataset

    ids = fmt.encode(tokenizer, [r["prompt"] for r in records], [r["response"] for r in records])
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        groups.setdefault(prompt_key(record["prompt"]), []).append(index)
    rows: dict[str, list] = {"ids": [], "targets": [], "length": []}
    for members in groups.values():
        rows["ids"].append([ids[i] for i in members])
        rows["targets"].append([scaled_targets(records[i]["ratings"], attributes, scale) for i in members])
        rows["length"].append(max(len(ids[i]) for i in members))
    return Dataset.from_dict(rows)
