"""DPO/KTO configs: invalid choices fail when the config loads, as one line naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.config import load_config
from alignlab.config.dpo import DPOConfig, KTOConfig, reference_cache_dir
from alignlab.errors import ConfigError

BASE = "model:\n  name_or_path: some/model\ndata:\n  path: prefs.jsonl\n"


def _load(tmp_path: Path, text: str, schema=DPOConfig, overrides=()):
    path = tmp_path / "config.yaml"
    path.write_text(BASE + text)
    return load_config(path, schema, list(overrides))


def test_defaults_and_a_single_loss_name_become_a_list(tmp_path):
    config = _load(tmp_path, "dpo:\n  loss_type: ipo\n")
    assert config.dpo.loss_type == ["ipo"]
    assert config.reference.cache is True and config.data.truncation == "truncate_response"


def test_unknown_loss_type_lists_the_valid_names_at_load(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "dpo:\n  loss_type: sigmoidd\n")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'config.yaml'}:6: dpo.loss_type: unknown DPO loss_type 'sigmoidd'")
    assert "Did you mean 'sigmoid'?" in message and "ipo" in message and "simpo" in message


def test_override_with_unknown_loss_names_the_override(tmp_path):
    with pytest.raises(ConfigError, match=r"override 'dpo.loss_type=dpo'.*Valid: "):
        _load(tmp_path, "", overrides=["dpo.loss_type=dpo"])


@pytest.mark.parametrize(("text", "needle"), [
    ("dpo:\n  loss_type: [simpo, sft]\n", "reference-free objective and cannot be combined"),
    ("dpo:\n  loss_type: [sigmoid, sft]\n  loss_weights: [1.0]\n", "loss_weights has 1 values for 2"),
    ("dpo:\n  loss_type: hinge\n  label_smoothing: 0.1\n", "label_smoothing is ignored by ['hinge']"),
    ("dpo:\n  loss_type: exo_pair\n", "exo_pair needs label_smoothing > 0"),
    ("dpo:\n  label_smoothing: 0.5\n", "less than 0.5"),
    ("data:\n  path: p.jsonl\n  format: unpaired\n", "train thumbs-up/down data with `alignlab train kto`"),
    ("data:\n  path: p.jsonl\n  weighting: {source: agreement, mode: label_smoothing}\ndpo:\n  loss_type: ipo\n",
     "label_smoothing needs a loss that reads it"),
    ("data:\n  path: p.jsonl\n  truncation: left\n", "truncate_response"),
])
def test_invalid_dpo_settings_are_one_line(tmp_path, text, needle):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert "Value error" not in str(err.value)


def test_kto_batch_size_one_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"train.batch_size 1: KTO estimates its KL reference point"):
        _load(tmp_path, "train:\n  batch_size: 1\n", KTOConfig)
    assert _load(tmp_path, "train:\n  batch_size: 1\nkto:\n  loss_type: apo_zero_unpaired\n", KTOConfig)


def test_kto_paired_data_needs_the_unpair_flag(tmp_path):
    with pytest.raises(ConfigError, match=r"set data.unpair: true"):
        _load(tmp_path, "", KTOConfig, ["data.format=pairwise"])
    config = _load(tmp_path, "", KTOConfig, ["data.format=pairwise", "data.unpair=true"])
    assert config.data.unpair


def test_kto_unknown_loss_and_length_grouping(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown KTO loss_type 'ktoo'.*Valid: apo_zero_unpaired, kto"):
        _load(tmp_path, "kto:\n  loss_type: ktoo\n", KTOConfig)
    with pytest.raises(ConfigError, match=r"KTO keeps the data order"):
        _load(tmp_path, "", KTOConfig, ["data.group_by_length=true"])


def test_unknown_checkpoint_hook_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown checkpoint hook 'winrate'"):
        _load(tmp_path, "eval:\n  hooks: [winrate]\n")


def test_reference_cache_sits_beside_a_data_file(tmp_path):
    data = tmp_path / "prefs.jsonl"
    data.write_text("")
    config = _load(tmp_path, "")
    assert reference_cache_dir(config.reference, str(data), Path("runs")) == tmp_path / ".alignlab_refcache"
    assert reference_cache_dir(config.reference, "synthetic:keyword", Path("out")) == Path("out/.alignlab_refcache")
