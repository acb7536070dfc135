"""The whole lifecycle as one pipeline of stages, round after round of feedback.

    import alignlab.pipeline as pipeline
    result = pipeline.run("configs/pipelines/demo.yaml", ["rounds=1"])   # or a PipelineConfig
    result.report                        # the HTML report
    result.stage("dpo@r1")["outputs"]     # {"model": ".../run/model", ...}

Modules: `graph` (stages unrolled over rounds, checks, content hashes), `runner` (run, reuse, resume),
`stages` (the stage kinds and trainer adapters), `candidates` (generate + batch selection), `annotate`
(simulated annotators or Argilla), `evaluate` (rule win rate, suites), `report` (every round side by side).
The stage functions are importable on their own for experiments: `run_generate`, `run_annotate`,
`run_eval_stage`, `run_report` take a `StageContext`; `select`, `uncertainty`, `disagreement`,
`rule_win_rate` are plain functions. Importing this package imports no torch.
"""

from __future__ import annotations

from typing import Any

from alignlab.pipeline.graph import Graph, Node, build_graph
from alignlab.pipeline.runner import PipelineResult, load_pipeline, run, run_stage

_LAZY = {
    "run_generate": "alignlab.pipeline.candidates", "select": "alignlab.pipeline.candidates",
    "uncertainty": "alignlab.pipeline.candidates", "disagreement": "alignlab.pipeline.candidates",
    "synthetic_prompts": "alignlab.pipeline.candidates", "run_annotate": "alignlab.pipeline.annotate",
    "run_eval_stage": "alignlab.pipeline.evaluate", "rule_win_rate": "alignlab.pipeline.evaluate",
    "run_report": "alignlab.pipeline.report", "STAGE_KINDS": "alignlab.pipeline.stages",
    "StageContext": "alignlab.pipeline.stages",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alignlab.pipeline' has no attribute {name!r}")


__all__ = ["Graph", "Node", "PipelineResult", "build_graph", "load_pipeline", "run", "run_stage", *_LAZY]
