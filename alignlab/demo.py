"""The main job on embedded defaults (`alignlab demo`, `make demo`): the whole lifecycle as one pipeline.

    from alignlab.config.schemas import DemoConfig
    from alignlab.demo import demo_pipeline, run_demo
    result = run_demo(DemoConfig())          # same as `alignlab demo`
    result.report                            # runs/demo/stages/report-.../report.html

`demo_pipeline` turns the few demo knobs (`DemoConfig`: rounds, hidden rule, tiny model, annotator panel,
sizes) into a `PipelineConfig`: pretrain a tiny model on the shipped corpus, SFT it, then `rounds` feedback
rounds (generate candidates, simulated annotators following the hidden rule, also pushed to Argilla when a
server is reachable, a reward-model ensemble, DPO from the SFT policy on all data so far, evaluation against
the SFT policy), the SFT policy's own evaluation, and one report. configs/pipelines/demo.yaml is the same
pipeline written out (a test keeps them equal), so `alignlab pipeline run --config configs/pipelines/demo.yaml`
reuses the demo's finished stages and vice versa. Finished stages are reused and an interrupted demo resumes
where it stopped (`alignlab.pipeline.runner`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alignlab.config.pipeline import PipelineConfig
from alignlab.config.schemas import DemoConfig
from alignlab.paths import shipped_path

STANDARD_BUNDLE = "configs/eval/standard.yaml"


def resolve_shipped_path(path: str | Path) -> Path:
    """A path as given, or relative to the shipped data root (so the demo runs from any working directory)."""
    return shipped_path(path)


def _eval_config(sizes: Any, rule_prompts: int) -> dict[str, Any]:
    config: dict[str, Any] = {"rule_winrate": {"prompts": rule_prompts, "samples": 2, "max_new_tokens": 40}}
    if sizes.eval_limit:
        config |= {"suites_config": STANDARD_BUNDLE, "limit": sizes.eval_limit}
    return config


def demo_stages(config: DemoConfig) -> list[dict[str, Any]]:
    from alignlab.annotation.simulated import RULE_DATA

    tiny, sizes, panel = config.tiny_model, config.sizes, config.annotation
    sft_data = RULE_DATA.get(config.rule, config.rule)  # the stories the rule judges; SFT learns both sides
    pretrain_model = {"tiny": {"size": tiny.size, "vocab_size": tiny.vocab_size,
                               "max_position_embeddings": tiny.max_position_embeddings, "seed": tiny.seed}}
    stages: list[dict[str, Any]] = [
        {"name": "pretrain", "kind": "pretrain", "config": {
            "model": pretrain_model,
            "data": {"block_size": 128, **({"paths": [str(p) for p in tiny.corpus]} if tiny.corpus else {})},
            "train": {"lr": 2e-3, "batch_size": 16, "max_steps": sizes.pretrain_steps, "warmup_ratio": 0.05,
                      "logging_steps": 25, "save_steps": 75}}},
        {"name": "sft", "kind": "sft", "inputs": {"model": "pretrain"}, "config": {
            "data": {"path": f"synthetic:{sft_data}?n={sizes.sft_examples}&seed={config.run.seed}",
                     "max_length": 128},
            "train": {"lr": 1e-3, "batch_size": 16, "max_steps": sizes.sft_steps, "logging_steps": 25,
                      "save_steps": 75}}},
        {"name": "generate", "kind": "generate",
         "inputs": {"policy": ["dpo@previous", "sft"], "selector": "rm@previous"},
         "config": {"pool": sizes.pool, "batch": sizes.batch, "selection": "uncertainty", "max_new_tokens": 40,
                    "temperature": 1.0}},
        {"name": "annotate", "kind": "annotate", "inputs": {"candidates": "generate", "previous": "annotate@previous"},
         "config": {"annotators": panel.annotators, "noise": panel.noise, "position_bias": panel.position_bias,
                    "mirror": "auto"}},
        {"name": "rm", "kind": "rm", "inputs": {"data": "annotate", "model": "pretrain"}, "config": {
            "data": {"test_size": 0.15, "max_length": 128},
            "train": {"lr": 1e-3, "epochs": sizes.rm_epochs, "batch_size": 16, "warmup_ratio": 0.05,
                      "logging_steps": 10, "save_steps": 100},
            "rm": {"type": "ensemble", "ensemble_size": 3, "ensemble_bootstrap": True,
                   "example_weight": "agreement"}}},
        {"name": "dpo", "kind": "dpo", "inputs": {"policy": "sft", "data": "annotate"}, "config": {
            "data": {"test_size": 0.1, "max_length": 128},
            "train": {"lr": 5e-4, "epochs": sizes.dpo_epochs, "batch_size": 8, "logging_steps": 10,
                      "save_steps": 100},
            # RPO (Pang et al. 2024): DPO plus an SFT term on the chosen answers keeps the text fluent; beta 2.0
            # keeps the policy near SFT (distinct-2 >= 0.9x SFT's; benchmarks/results/demo.md has the sweep)
            "dpo": {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, 0.2], "beta": 2.0}}},
        {"name": "eval", "kind": "eval", "inputs": {"model": "dpo", "baseline": "sft", "judge": "rm"},
         "config": _eval_config(sizes, sizes.heldout_prompts)},
    ]
    inputs = {"evals": "eval", "annotations": "annotate", "reward_models": "rm"}
    if sizes.eval_limit:
        stages.append({"name": "eval_sft", "kind": "eval", "per_round": False, "inputs": {"model": "sft"},
                       "config": _eval_config(sizes, 0)})
        inputs["baseline_eval"] = "eval_sft"
    stages.append({"name": "report", "kind": "report", "inputs": inputs,
                   "config": {"title": "alignlab demo: pretrain, SFT, feedback rounds, DPO"}})
    return stages


def demo_pipeline(config: DemoConfig) -> PipelineConfig:
    return PipelineConfig.model_validate({"run": config.run.model_dump(mode="json"), "rounds": config.rounds,
                                          "rule": config.rule, "stages": demo_stages(config)})


def run_demo(config: DemoConfig, *, force: bool = False, echo: Callable[[str], None] = print) -> Any:
    """Run (or resume) the demo pipeline; returns its `PipelineResult`."""
    from alignlab.pipeline import run

    return run(demo_pipeline(config), force=force, echo=echo)
