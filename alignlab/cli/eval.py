"""Placeholder sub-app until its commands land."""

from alignlab.cli._common import planned_app

app = planned_app("eval", "Run evaluation suites: bias, safety, multilingual, win rate")
