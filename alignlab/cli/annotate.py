"""Placeholder sub-app until its commands land."""

from alignlab.cli._common import planned_app

app = planned_app("annotate", "Run the Argilla annotation workspace and sync preference data")
