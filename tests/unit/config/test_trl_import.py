"""TRL / alignment-handbook recipes become alignlab configs; every key without a home is named.

The fixtures are written after the handbook's zephyr-7b-beta DPO and SFT `config_full.yaml` recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.config.trl_import import check, import_recipe
from alignlab.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"


def test_zephyr_dpo_recipe_keeps_every_training_key():
    result = import_recipe(FIXTURES / "zephyr_dpo_config_full.yaml")
    assert result.kind == "dpo"
    config = result.config
    assert config["model"] == {"name_or_path": "alignment-handbook/zephyr-7b-sft-full", "dtype": "auto"}
    assert config["run"] == {"name": "zephyr-7b-dpo-full", "seed": 42}
    assert config["dpo"] == {"beta": 0.01} and config["data"]["max_length"] == 1024
    train = config["train"]
    assert (train["lr"], train["grad_accum"], train["batch_size"], train["epochs"]) == (5e-7, 2, 8, 1)
    assert (train["lr_scheduler_type"], train["optim"], train["warmup_ratio"]) == ("cosine", "adamw_torch", 0.1)
    assert (train["bf16"], train["gradient_checkpointing"], train["eval_steps"], train["save_total_limit"]) == \
        (True, True, 100, 1)
    assert (train["push_to_hub"], train["hub_model_id"]) == (True, "zephyr-7b-dpo-full")
    assert train["trainer_args"] == {"gradient_checkpointing_kwargs": {"use_reentrant": False}, "log_level": "info"}
    unmapped = dict(result.unmapped)
    assert set(unmapped) == {"dataset_mixture.test_split_size", "dataset_num_proc", "do_eval", "eval_strategy",
                             "max_prompt_length", "per_device_eval_batch_size", "save_strategy"}
    sources = result.mixture["mixture"]["sources"]
    assert [(s["split"], s["fraction"], s["columns"]) for s in sources] == \
        [("train_prefs", 1.0, ["chosen", "rejected"]), ("test_prefs", 1.0, ["chosen", "rejected"])]
    config["data"]["path"] = "mix.mixture.yaml"
    validated = check(result)
    assert validated.train.lr == 5e-7 and validated.train.trainer_args["log_level"] == "info"


def test_zephyr_sft_recipe():
    result = import_recipe(FIXTURES / "zephyr_sft_config_full.yaml")
    assert result.kind == "sft"
    assert result.config["data"]["max_length"] == 2048 and result.config["model"]["dtype"] == "bfloat16"
    assert result.config["train"]["report_to"] == ["wandb"]
    assert result.config["train"]["trainer_args"]["hub_strategy"] == "every_save"
    assert {"attn_implementation", "chat_template", "overwrite_output_dir", "logging_strategy"} <= \
        {key for key, _ in result.unmapped}
    result.config["data"]["path"] = "mix.mixture.yaml"
    assert check(result).train.lr == 2e-5


def test_unknown_recipe_keys_are_named_not_dropped(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model_name_or_path: m\nbeta: 0.2\nadam_beta2: 0.98\nmy_own_flag: 3\n")
    result = import_recipe(recipe)
    assert result.config["train"]["trainer_args"] == {"adam_beta2": 0.98}
    assert [key for key, _ in result.unmapped] == ["my_own_flag"]


def test_a_recipe_without_method_keys_needs_kind(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model_name_or_path: m\nlearning_rate: 1.0e-5\n")
    with pytest.raises(ConfigError, match="--kind"):
        import_recipe(recipe)
    assert import_recipe(recipe, "rm").config["train"]["lr"] == 1e-5


def test_loading_a_recipe_as_a_config_says_how_to_convert_it():
    from alignlab.config import DPOConfig, load_config

    with pytest.raises(ConfigError, match=r"a TRL / alignment-handbook recipe, not an alignlab config; convert it "
                                          r"with `alignlab config import-trl .*zephyr_dpo_config_full.yaml"):
        load_config(FIXTURES / "zephyr_dpo_config_full.yaml", DPOConfig)
