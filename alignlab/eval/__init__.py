"""Evaluation suites: bias, safety and over-refusal, toxicity, multilingual parity, generation quality,
reward-model accuracy and win rate against a baseline, each with bootstrap CIs and a per-example log.

    from alignlab.eval import evaluate
    result = evaluate("runs/tiny/policy", ["bbq", "crows_pairs", "xstest"], out="runs/eval", limit=100)
    result["bbq"]["accuracy"]     # {"value": ..., "low": ..., "high": ..., "n": ..., "description": ...}

Layout: `suite.py` (the protocol and the registry), `suites/` (one file per suite), `scoring.py` (batched
log-likelihood), `lm.py` (the model interface), `judges.py`, `refusal.py`, `toxicity.py`, `bradley_terry.py`,
`stats.py` (bootstrap metrics), `data.py` (shipped data in eval_data/), `context.py` and `runner.py`.
Importing this package is cheap; names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evaluate": "alignlab.eval.runner",
    "run_eval": "alignlab.eval.runner",
    "build_config": "alignlab.eval.runner",
    "EvalResult": "alignlab.eval.runner",
    "SUITES": "alignlab.eval.suite",
    "Suite": "alignlab.eval.suite",
    "DataSource": "alignlab.eval.suite",
    "build_suite": "alignlab.eval.suite",
    "EvalContext": "alignlab.eval.context",
    "LanguageModel": "alignlab.eval.lm",
    "Stats": "alignlab.eval.stats",
    "REFUSAL_CLASSIFIERS": "alignlab.eval.refusal",
    "toxicity_classifier": "alignlab.eval.toxicity",
    "loglikelihood": "alignlab.eval.scoring",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'alignlab.eval' has no attribute {name!r}")
