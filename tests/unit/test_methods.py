"""The method registry: one table the CLI, the pipeline and `config schema` read; rloo runs as a pipeline stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli import app
from alignlab.config import CONFIGS
from alignlab.methods import FAMILIES, METHODS
from alignlab.pipeline import run
from alignlab.pipeline.stages import STAGE_KINDS
from alignlab.registry import UnknownNameError


def test_every_method_resolves_to_its_config_and_train_function():
    for name in METHODS:
        method = METHODS.get(name)
        assert method.family in FAMILIES
        assert CONFIGS.get(name) is method.config_class()
        assert callable(method.train_function())


def test_every_method_is_a_pipeline_stage_kind_and_listed_by_the_cli():
    for name in METHODS:
        assert name in STAGE_KINDS
    listed = CliRunner().invoke(app, ["pipeline", "kinds"])
    assert listed.exit_code == 0
    for name in METHODS:
        assert name in listed.output


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="rloo") as info:
        METHODS.get("rlooo")
    assert "Did you mean 'rloo'" in str(info.value)


@pytest.mark.slow
def test_pipeline_with_an_rloo_stage_trains_and_records_its_model(tmp_path):
    rloo = {"data": {"path": "synthetic:sentiment?n=24&seed=0&chat=1", "test_size": 0.25, "max_prompt_length": 32},
            "rollout": {"engine": "hf", "max_new_tokens": 8}, "rewards": [{"rule": "sentiment"}],
            "train": {"steps": 2, "prompts_per_step": 2, "minibatch_size": 4, "eval_steps": 2, "eval_prompts": 4,
                      "save_steps": 2},
            "rloo": {"num_generations": 2}}
    config = {"run": {"name": "rloo_stage", "output_dir": str(tmp_path), "threads": 1}, "rounds": 1,
              "stages": [{"name": "base", "kind": "tiny_model", "config": {"size": "nano"}},
                         {"name": "rloo", "kind": "rloo", "inputs": {"policy": "base"}, "config": rloo}]}
    path = tmp_path / "pipeline.yaml"
    path.write_text(json.dumps(config))
    result = run(path, echo=lambda _line: None)
    record = result.stage("rloo@r1")
    model = Path(record["outputs"]["model"])
    assert json.loads((model / "config.json").read_text())["model_type"] == "llama"
    assert "eval/reward" in record["metrics"]  # the online trainer's held-out reward reached the stage record
