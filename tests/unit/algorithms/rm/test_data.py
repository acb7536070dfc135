"""Reward-model data: splits without prompt leakage, pairs from every format, and one-line errors that name
the file, the line and the config key to change."""

from __future__ import annotations

import json

import pytest

from alignlab.algorithms.rm_data import (
    bootstrap_sample,
    load_rm_data,
    pairwise_rows,
    prompt_key,
    ratings_rows,
    records_sha256,
    scaled_targets,
    split_by_prompt,
    to_pairs,
)
from alignlab.config.rm import RMConfig
from alignlab.data.synthetic import make_pairwise, make_ratings
from alignlab.errors import DataError
from alignlab.models.reward import InputFormat


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def config(path, **rm):
    data = {"path": str(path), "format": rm.pop("format", "pairwise"), "test_size": 0.25}
    return RMConfig.model_validate({"model": {"name_or_path": "unused"}, "data": data, "rm": rm})


def test_split_keeps_each_prompt_on_one_side():
    records = make_pairwise(200, seed=0)
    records += [{**r, "id": r["id"] + "-again"} for r in records[:50]]  # second pair for some prompts
    train, test = split_by_prompt(records, 0.25, seed=0)
    assert len(train) + len(test) == len(records)
    assert not {prompt_key(r["prompt"]) for r in train} & {prompt_key(r["prompt"]) for r in test}
    assert split_by_prompt(records, 0.25, seed=0) == (train, test)


def test_rankings_and_ratings_become_pairs():
    ranking = {"prompt": "p", "responses": ["a", "b", "c"], "ranks": [1, 2, 2]}
    assert [(p["chosen"], p["rejected"]) for p in to_pairs([ranking], "ranking", {})] == [("a", "b"), ("a", "c")]
    ratings = [{"prompt": "p", "response": "x", "ratings": {"helpfulness": 4}},
               {"prompt": "p", "response": "y", "ratings": {"helpfulness": 1}}]
    (pair,) = to_pairs(ratings, "ratings", {"helpfulness": 1.0})
    assert (pair["chosen"], pair["rejected"], pair["margin"]) == ("x", "y", 3)


def test_no_usable_pairs_is_one_line(tmp_path):
    single = write_jsonl(tmp_path / "single.jsonl", make_ratings(5, responses_per_prompt=1))
    with pytest.raises(DataError) as err:
        load_rm_data(config(single, format="ratings"))
    message = str(err.value)
    assert message.startswith(f"{single}: no usable pairs in 5 ratings rows") and "\n" not in message
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    with pytest.raises(DataError, match="no usable pairs in 0 pairwise rows .the file holds no rows"):
        load_rm_data(config(empty))


def test_missing_attribute_names_file_line_and_config_key(tmp_path):
    rows = make_ratings(3, attributes=("helpfulness", "correctness"))
    del rows[4]["ratings"]["correctness"]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    cfg = config(path, format="ratings", type="multi_attribute", attributes=["helpfulness", "correctness"])
    with pytest.raises(DataError, match=rf"^{path}:5: ratings.correctness: missing; rm.attributes asks"):
        load_rm_data(cfg)


def test_rating_scale_mismatch_names_data_scale(tmp_path):
    rows = make_ratings(3, attributes=("helpfulness",), scale=(1, 10))
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    cfg = config(path, format="ratings", type="multi_attribute", attributes=["helpfulness"])
    bad_line = next(i for i, r in enumerate(rows, 1) if r["ratings"]["helpfulness"] > 4)
    with pytest.raises(DataError, match=rf"^{path}:{bad_line}: ratings.helpfulness: rating \d+ is outside "
                                        r"data.scale 0..4; set data.scale"):
        load_rm_data(cfg)


def test_bad_rows_and_synthetic_format_mismatch(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "p", "chosen": "a"}])
    with pytest.raises(DataError, match=rf"^{path}:1: rejected: missing required field"):
        load_rm_data(config(path))
    with pytest.raises(DataError, match="a synthetic ratings set, but data.format is pairwise"):
        load_rm_data(config("synthetic:ratings?n=4"))


def test_eval_path_and_hash(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", make_pairwise(20, seed=0))
    test = write_jsonl(tmp_path / "test.jsonl", make_pairwise(6, seed=1))
    cfg = RMConfig.model_validate({"model": {"name_or_path": "x"},
                                   "data": {"path": str(train), "eval_path": str(test)}})
    data = load_rm_data(cfg)
    assert (len(data.train), len(data.eval), data.eval_source) == (20, 6, str(test))
    assert data.sha256 == records_sha256(make_pairwise(20, seed=0))
    assert len(bootstrap_sample(data.train, 3)) == 20 and bootstrap_sample(data.train, 3) != data.train


def test_trainer_rows(tokenizer):
    fmt = InputFormat.for_tokenizer(tokenizer, "auto", 64)
    pairs = make_pairwise(4, seed=0, annotators=3, label_noise=0.3, margins=True)
    rows = pairwise_rows(pairs, tokenizer, fmt, use_margin=True, example_weight="agreement")
    assert rows.column_names == ["chosen_ids", "rejected_ids", "length", "packed_length", "margin", "weight"]
    assert rows["weight"] == [p["agreement"] for p in pairs]
    assert rows["length"][0] == max(len(rows["chosen_ids"][0]), len(rows["rejected_ids"][0]))
    assert "weight" not in pairwise_rows(pairs, tokenizer, fmt, use_margin=False, example_weight="none").column_names
    rated = make_ratings(3, attributes=("helpfulness", "correctness"))
    groups = ratings_rows(rated, tokenizer, fmt, attributes=["helpfulness", "correctness"], scale=(0, 4))
    assert len(groups) == 3 and all(len(ids) == 2 for ids in groups["ids"])
    assert scaled_targets({"a": 0, "b": 4, "c": 2}, ["a", "b", "c"], (0, 4)) == [-1.0, 1.0, 0.0]
