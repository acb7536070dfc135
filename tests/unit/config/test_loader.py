"""The YAML loader: overrides, strictness, and error messages that name key, file, line and allowed values."""

from __future__ import annotations

import json

import pytest

from alignlab.config import CONFIGS, load_config, parse_yaml_value
from alignlab.config.rm import RMConfig
from alignlab.config.schemas import DemoConfig
from alignlab.errors import ConfigError

RM_YAML = """\
run:
  name: exp
model:
  name_or_path: out/tiny/reward
data:
  path: preference_data/hh_rlhf_harmless/train.jsonl
train:
  lr: 1e-4
  batch_size: 4
"""


def write(tmp_path, text, name="c.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_and_overrides_resolve(tmp_path):
    config = load_config(write(tmp_path, RM_YAML), RMConfig, ["train.lr=3e-5", "run.seed=7", "rm.type=ensemble"])
    assert config.train.lr == pytest.approx(3e-5)
    assert config.train.batch_size == 4
    assert config.run.seed == 7
    assert config.rm.type == "ensemble"
    assert config.model.trust_remote_code is False


def test_scientific_notation_is_a_float_not_a_string():
    assert parse_yaml_value("1e-4") == pytest.approx(1e-4)
    assert isinstance(parse_yaml_value("1e-4"), float)
    assert parse_yaml_value("3") == 3
    assert parse_yaml_value("[a, b]") == ["a", "b"]
    assert parse_yaml_value("true") is True


def test_unknown_key_names_file_line_and_valid_keys(tmp_path):
    path = write(tmp_path, RM_YAML.replace("  batch_size: 4", "  batch_sise: 4"))
    with pytest.raises(ConfigError) as err:
        load_config(path, RMConfig)
    message = str(err.value)
    assert f"{path}:9: train.batch_sise: unknown key" in message
    assert "batch_size" in message and "lr" in message


def test_wrong_literal_lists_allowed_values(tmp_path):
    path = write(tmp_path, RM_YAML + "rm:\n  type: bradley\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, RMConfig)
    message = str(err.value)
    assert f"{path}:11: rm.type:" in message
    assert "'bradley_terry'" in message and "'multi_attribute'" in message and "'ensemble'" in message


def test_override_errors_name_the_override(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, RM_YAML), RMConfig, ["train.lr=-1"])
    assert "override 'train.lr=-1': train.lr:" in str(err.value)
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(write(tmp_path, RM_YAML), RMConfig, ["train.lr"])
    with pytest.raises(ConfigError, match="train.lr is a value, not a section"):
        load_config(write(tmp_path, RM_YAML), RMConfig, ["train.lr.x=1"])


def test_missing_required_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"c.yaml: model: required key is missing"):
        load_config(write(tmp_path, "data:\n  path: x.jsonl\n"), RMConfig)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run: [unclosed\n", r"c.yaml:\d+: invalid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
    ],
)
def test_malformed_yaml_is_one_line(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected) as err:
        load_config(write(tmp_path, text), DemoConfig)
    assert "\n" not in str(err.value)


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", DemoConfig)
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"run:\n  name: caf\xe9\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config(bad, DemoConfig)


def test_model_validator_errors_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="multi_attribute needs `attributes`"):
        load_config(write(tmp_path, RM_YAML), RMConfig, ["rm.type=multi_attribute"])


def test_defaults_without_a_file():
    config = load_config(None, DemoConfig, ["tiny_model.size=micro"])
    assert config.tiny_model.size == "micro"
    assert config.run.name == "demo"


def test_every_registered_kind_exports_a_json_schema():
    for kind in CONFIGS:
        schema = CONFIGS.get(kind).model_json_schema()
        json.dumps(schema)
        assert schema["additionalProperties"] is False


def test_override_into_an_omitted_section_keeps_that_sections_defaults():
    config = load_config(None, DemoConfig, ["run.output_dir=elsewhere"])
    assert config.run.name == "demo"
    assert str(config.run.output_dir) == "elsewhere"
