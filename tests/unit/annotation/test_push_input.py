"""Push input: validation errors name file, line and field before anything is sent."""

from __future__ import annotations

import json

import pytest

from alignlab.annotation.push import read_items, record_digest
from alignlab.annotation.templates import TEMPLATES
from alignlab.config.annotate import AnnotateConfig
from alignlab.errors import ConfigError, DataError


def config(path, template="pairwise", **push):
    return AnnotateConfig.model_validate({"dataset": {"name": "d", "template": template},
                                          "push": {"path": str(path), **push}})


def write(tmp_path, rows, name="in.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_missing_field_names_file_line_and_field(tmp_path):
    path = write(tmp_path, [{"prompt": "p", "chosen": "a", "rejected": "b"}, {"prompt": "p", "chosen": "a"}])
    with pytest.raises(DataError, match=r"in.jsonl:2: rejected: missing required field"):
        read_items(config(path), TEMPLATES.get("pairwise")())


def test_candidates_rows_are_checked(tmp_path):
    path = write(tmp_path, [{"prompt": "p", "responses": ["a", ""]}])
    with pytest.raises(DataError, match=r"in.jsonl:1: responses\[1\]: expected non-empty text"):
        read_items(config(path), TEMPLATES.get("pairwise")())
    path = write(tmp_path, [{"prompt": "p", "responses": ["a", "b", "c"]}])
    with pytest.raises(DataError, match=r"in.jsonl:1: responses: the pairwise template needs exactly 2"):
        read_items(config(path), TEMPLATES.get("pairwise")())


def test_format_must_fit_the_template(tmp_path):
    path = write(tmp_path, [{"prompt": "p", "completion": "c", "label": True}])
    with pytest.raises(DataError, match="the pairwise template takes pairwise, candidates, ranking rows, not unpaired"):
        read_items(config(path), TEMPLATES.get("pairwise")())


def test_repeats_are_dropped_and_limit_applies(tmp_path):
    row = {"prompt": "p", "chosen": "a", "rejected": "b"}
    path = write(tmp_path, [row, row, {**row, "chosen": "c"}, {**row, "chosen": "d"}])
    items = read_items(config(path), TEMPLATES.get("pairwise")())
    assert len(items) == 3
    assert len(read_items(config(path, limit=2), TEMPLATES.get("pairwise")())) == 2


def test_missing_path_is_a_config_error():
    with pytest.raises(ConfigError, match="push.path"):
        read_items(AnnotateConfig.model_validate({"dataset": {"name": "d"}}), TEMPLATES.get("pairwise")())


def test_record_digest_changes_with_content():
    payload = {"external_id": "x", "fields": {"prompt": "p"}}
    assert record_digest(payload) == record_digest(dict(payload))
    assert record_digest(payload) != record_digest({**payload, "fields": {"prompt": "q"}})
