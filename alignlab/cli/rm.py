"""Placeholder sub-app until its commands land."""

from alignlab.cli._common import planned_app

app = planned_app("rm", "Train, evaluate and score reward models")
