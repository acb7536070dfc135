"""Placeholder sub-app until its commands land."""

from alignlab.cli._common import planned_app

app = planned_app("train", "Policy optimisation and lifecycle training: dpo, kto, ppo, grpo, sft")
