"""The stage graph: unrolling over rounds, input binding, one-line errors, content hashes and reuse."""

from __future__ import annotations

import json

import pytest

from alignlab.config import load_config
from alignlab.config.pipeline import PipelineConfig
from alignlab.errors import ConfigError
from alignlab.pipeline import build_graph, load_pipeline, run


def loop(rounds: int = 2, **changes) -> dict:
    stages = [
        {"name": "base", "kind": "tiny_model", "config": {"size": "nano"}},
        {"name": "generate", "kind": "generate", "inputs": {"policy": ["dpo@previous", "base"],
                                                             "selector": "rm@previous"}},
        {"name": "annotate", "kind": "annotate", "inputs": {"candidates": "generate",
                                                             "previous": "annotate@previous"}},
        {"name": "rm", "kind": "rm", "inputs": {"data": "annotate"},
         "config": {"model": {"name_or_path": "tiny:nano"}}},
        {"name": "dpo", "kind": "dpo", "inputs": {"policy": "base", "data": "annotate"}},
        {"name": "eval", "kind": "eval", "inputs": {"model": "dpo", "baseline": "base", "judge": "rm"}},
        {"name": "report", "kind": "report", "inputs": {"evals": "eval", "annotations": "annotate"}},
    ]
    return {"run": {"name": "p"}, "rounds": rounds, "stages": stages, **changes}


def graph_of(data: dict, **kwargs):
    return build_graph(PipelineConfig.model_validate(data), **kwargs)


def test_rounds_unroll_and_bind_previous_round():
    graph = graph_of(loop())
    keys = [n.key for n in graph.order]
    assert keys == ["base", "generate@r1", "annotate@r1", "rm@r1", "dpo@r1", "eval@r1",
                    "generate@r2", "annotate@r2", "rm@r2", "dpo@r2", "eval@r2", "report"]
    nodes = graph.nodes
    assert [n.key for n in nodes["generate@r1"].inputs["policy"]] == ["base"]  # no dpo@r0: falls back
    assert "selector" not in nodes["generate@r1"].inputs
    assert [n.key for n in nodes["generate@r2"].inputs["policy"]] == ["dpo@r1"]
    assert [n.key for n in nodes["generate@r2"].inputs["selector"]] == ["rm@r1"]
    assert [n.key for n in nodes["annotate@r2"].inputs["previous"]] == ["annotate@r1"]
    assert [n.key for n in nodes["report"].inputs["evals"]] == ["eval@r1", "eval@r2"]  # a report gathers rounds


def test_hashes_are_merkle_a_change_reruns_downstream_only():
    before = {n.key: n.hash for n in graph_of(loop()).order}
    changed = loop()
    changed["stages"][4]["config"] = {"dpo": {"beta": 0.2}}
    after = {n.key: n.hash for n in graph_of(changed).order}
    same = {k for k in before if before[k] == after[k]}
    assert same == {"base", "generate@r1", "annotate@r1", "rm@r1"}
    assert graph_of(loop()).order[3].hash == graph_of(loop()).order[3].hash  # deterministic
    # more rounds keep the earlier rounds' stages
    three = {n.key: n.hash for n in graph_of(loop(rounds=3)).order}
    assert all(three[k] == before[k] for k in before if k != "report")


def test_rounds_zero_is_one_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("run: {name: p}\nrounds: 0\nstages:\n  - {name: base, kind: tiny_model}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, PipelineConfig)
    message = str(err.value)
    assert message == f"{path}:2: rounds: rounds 0: a pipeline runs at least one round (rounds: 1 runs every " \
                      "stage once)"


def _write(tmp_path, stages_yaml: str):
    path = tmp_path / "p.yaml"
    path.write_text("run: {name: p}\nrounds: 1\nstages:\n" + stages_yaml)
    return path


def test_missing_input_stage_names_stage_line_and_suggestion(tmp_path):
    path = _write(tmp_path, "  - {name: base, kind: tiny_model}\n"
                            "  - name: dpo\n    kind: dpo\n    inputs: {policy: base, data: annotat}\n"
                            "  - {name: annotate, kind: annotate, inputs: {candidates: gen}}\n"
                            "  - {name: gen, kind: generate, inputs: {policy: base}}\n")
    with pytest.raises(ConfigError) as err:
        load_pipeline(path)
    assert str(err.value) == (f"{path}:7: stage 'dpo': input 'data' names stage 'annotat', which is not in the "
                              "pipeline; did you mean 'annotate'?")


def test_required_input_left_out_and_wrong_output_type(tmp_path):
    path = _write(tmp_path, "  - {name: base, kind: tiny_model}\n  - {name: dpo, kind: dpo, inputs: {policy: base}}\n")
    with pytest.raises(ConfigError, match=r"p.yaml:5: stage 'dpo': kind dpo needs input 'data' \(preference"):
        load_pipeline(path)
    path = _write(tmp_path, "  - {name: base, kind: tiny_model}\n"
                            "  - {name: dpo, kind: dpo, inputs: {policy: base, data: base}}\n")
    with pytest.raises(ConfigError, match="input 'data' wants preferences, but stage 'base' \\(tiny_model\\) makes"):
        load_pipeline(path)


def test_cycle_is_one_line_naming_the_cycle(tmp_path):
    path = _write(tmp_path, "  - {name: gen, kind: generate, inputs: {policy: dpo}}\n"
                            "  - {name: ann, kind: annotate, inputs: {candidates: gen}}\n"
                            "  - {name: dpo, kind: dpo, inputs: {policy: dpo, data: ann}}\n")
    with pytest.raises(ConfigError) as err:
        load_pipeline(path)
    message = str(err.value)
    assert "\n" not in message and "form a cycle" in message and message.startswith(f"{path}:")
    path = _write(tmp_path, "  - {name: gen, kind: generate, inputs: {policy: dpo}}\n"
                            "  - {name: ann, kind: annotate, inputs: {candidates: gen}}\n"
                            "  - {name: base, kind: tiny_model}\n"
                            "  - {name: dpo, kind: dpo, inputs: {policy: base, data: ann}}\n")
    with pytest.raises(ConfigError, match=r"\(gen -> ann -> dpo -> gen\)|\(dpo -> gen -> ann -> dpo\)"):
        load_pipeline(path)


def test_stage_settings_checked_at_load_with_line(tmp_path):
    path = _write(tmp_path, "  - {name: base, kind: tiny_model}\n"
                            "  - name: gen\n    kind: generate\n    inputs: {policy: base}\n    config: {pool: 0}\n")
    with pytest.raises(ConfigError, match=r"p.yaml:8: stage 'gen': config.pool: Input should be greater than"):
        load_pipeline(path)
    path = _write(tmp_path, "  - {name: base, kind: tiny_model}\n  - {name: ann, kind: annotate, inputs: "
                            "{candidates: base}}\n")
    with pytest.raises(ConfigError, match="wants candidates"):
        load_pipeline(path)


def test_finished_stage_is_reused_and_interrupted_one_reruns(tmp_path):
    """Runs a real (cheap) stage: tiny_model builds a tokenizer and two tiny models."""
    data = {"run": {"name": "p", "output_dir": str(tmp_path), "threads": 1}, "rounds": 1,
            "stages": [{"name": "base", "kind": "tiny_model", "config": {"size": "nano", "vocab_size": 512}}]}
    lines: list[str] = []
    first = run(PipelineConfig.model_validate(data), echo=lines.append)
    record = first.stage("base")
    weights = tmp_path / "p" / "stages" / record["folder"].split("/")[-1] / "models" / "policy" / "model.safetensors"
    built = weights.stat().st_mtime_ns
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["status"] == "finished"
    again = run(PipelineConfig.model_validate(data), echo=lines.append)
    assert again.stage("base")["reused"] and weights.stat().st_mtime_ns == built
    assert any("finished earlier, reused" in line for line in lines)
    # an interrupted stage (no stage.json) runs again in the same folder
    (weights.parents[2] / "stage.json").unlink()
    resumed = run(PipelineConfig.model_validate(data), echo=lines.append)
    assert not resumed.stage("base")["reused"] and (weights.parents[2] / "stage.json").is_file()


def test_online_stage_gets_policy_prompts_and_reward_model_filled_in(tmp_path):
    from alignlab.pipeline.stages import STAGE_KINDS, trainer_data

    data = loop()
    data["stages"].append({"name": "grpo", "kind": "grpo", "inputs": {"policy": "dpo", "reward": "rm",
                                                                        "data": "generate"},
                           "config": {"rewards": [{"rule": "sentiment", "weight": 0.5}]}})
    graph = graph_of(data)
    assert [n.key for n in graph.nodes["grpo@r2"].inputs["reward"]] == ["rm@r2"]
    spec = graph.nodes["grpo@r2"].spec
    filled = trainer_data(STAGE_KINDS.get("grpo"), spec, graph.config, tmp_path / "run",
                          {"policy": "P", "reward": "R", "data": "D"})
    assert filled["model"]["name_or_path"] == "P" and filled["data"]["path"] == "D"
    assert filled["rewards"] == [{"model": "R"}, {"rule": "sentiment", "weight": 0.5}]
    assert filled["run"]["name"] == "run" and filled["run"]["output_dir"] == str(tmp_path)
