"""A five-minute walk through the pipeline API: the feedback loop, one stage at a time, then all at once.

    .venv/bin/python examples/pipeline_walkthrough.py          # a few minutes on 2 CPU cores

Read it top to bottom; each block is what you would type into a notebook cell. Everything runs offline on a
tiny model, with simulated annotators standing in for people.
"""

# ruff: noqa: E402 - a notebook-style script: each cell imports what it uses
# %% 1. Simulated annotators: noisy raters with a hidden preference
# Three raters prefer the answer with more positive than negative words ("sentiment"), answer at random 10%
# of the time, and one of them picks whatever is shown first half the time. Their records are canonical
# alignlab preference records with per-rater votes, so agreement statistics have something real to measure.
from alignlab.annotation.simulated import SimulatedAnnotators, panel_agreement

candidates = [
    {"prompt": "Tell me a story about Tom and a dog.", "responses": ["Tom saw the sad dog.", "Tom saw the happy dog."]},
    {"prompt": "Write about a red ball.", "responses": ["Lily had a nice fun ball.", "Lily had a bad ball."]},
] * 50  # the same two pairs again and again: enough votes to see each rater's habits
panel = SimulatedAnnotators(rule="sentiment", annotators=3, noise=0.1, position_bias=[0.0, 0.0, 0.5], seed=0)
records = panel.annotate([{**c, "id": str(i)} for i, c in enumerate(candidates)])
print(records[0]["chosen"], "| agreement", records[0]["agreement"])
stats = panel_agreement(records)
print("Krippendorff alpha", stats["krippendorff_alpha"])
print("first-position share per rater", {k: v["first_position_share"] for k, v in stats["per_annotator"].items()})

# %% 2. Choosing the next batch: where the reward-model ensemble disagrees
# Each column is one candidate pair (scores of answer a and b interleaved), each row one ensemble member.
import numpy as np

from alignlab.pipeline import uncertainty

members = np.array([[1.0, 0.0, 0.2, 0.1],
                    [0.9, 0.1, -1.0, 1.0],
                    [1.1, 0.0, 1.0, -1.0]])
print("spread per pair:", uncertainty(members).round(3))  # the second pair is the one worth annotating

# %% 3. A whole pipeline from Python: pretrain -> SFT -> 2 feedback rounds -> report
# The config is the same data a YAML under configs/pipelines/ holds. Stages name their inputs; per-round
# stages (generate, annotate, rm, dpo, eval) run once per round; `dpo@previous` is last round's policy.
from alignlab.config.pipeline import PipelineConfig
from alignlab.pipeline import run

tiny = {"lr": 2e-3, "batch_size": 16, "max_steps": 20, "logging_steps": 10, "save_steps": 20}
config = PipelineConfig.model_validate({
    "run": {"name": "walkthrough", "output_dir": "runs", "seed": 0, "threads": 1},
    "rounds": 2,
    "rule": "sentiment",
    "stages": [
        {"name": "pretrain", "kind": "pretrain",
         "config": {"model": {"tiny": {"size": "nano"}}, "data": {"block_size": 64}, "train": tiny}},
        {"name": "sft", "kind": "sft", "inputs": {"model": "pretrain"},
         "config": {"data": {"path": "synthetic:sentiment?n=300&seed=0", "max_length": 96}, "train": tiny}},
        {"name": "generate", "kind": "generate",
         "inputs": {"policy": ["dpo@previous", "sft"], "selector": "rm@previous"},
         "config": {"pool": 96, "batch": 64, "selection": "uncertainty"}},
        {"name": "annotate", "kind": "annotate", "inputs": {"candidates": "generate", "previous": "annotate@previous"},
         "config": {"annotators": 3, "noise": 0.1}},
        {"name": "rm", "kind": "rm", "inputs": {"data": "annotate", "model": "pretrain"},
         "config": {"data": {"max_length": 96}, "train": {"lr": 1e-3, "batch_size": 16},
                    "rm": {"type": "ensemble", "ensemble_size": 3}}},
        {"name": "dpo", "kind": "dpo", "inputs": {"policy": "sft", "data": "annotate"},
         "config": {"data": {"max_length": 96}, "train": {"lr": 5e-4, "batch_size": 8}}},
        {"name": "eval", "kind": "eval", "inputs": {"model": "dpo", "baseline": "sft", "judge": "rm"},
         "config": {"rule_winrate": {"prompts": 64}}},
        {"name": "report", "kind": "report", "inputs": {"evals": "eval", "annotations": "annotate",
                                                        "reward_models": "rm"}},
    ],
})
result = run(config, echo=lambda line: None)  # run it again: every finished stage is reused at once

# %% 4. What came out
# With these toy sizes (20 training steps) the win rate stays near 50%; the demo's sizes (configs/demo.yaml:
# 150 pretrain and SFT steps, 224 pairs a round, 2 epochs) reach about 0.82 after round 1 and 0.96 after round 2.
for key in ("eval@r1", "eval@r2"):
    win = result.stage(key)["metrics"]["rule"]["win_rate"]
    print(f"{key}: DPO policy vs SFT, judged by the hidden rule: "
          f"{win['value']:.2f} [{win['low']:.2f}, {win['high']:.2f}]")
print("round 2 batch chosen by:", result.stage("generate@r2")["metrics"]["strategy"])
print("pairs annotated so far:", result.stage("annotate@r2")["metrics"]["total_pairs"])
print("report:", result.report)
