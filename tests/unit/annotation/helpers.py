"""Builders for annotation unit tests: dataset sections and pulled records without a server."""

from __future__ import annotations

from typing import Any

from alignlab.annotation.templates.base import Annotation, Judged
from alignlab.config.annotate import DatasetSection


def section(**changes: Any) -> DatasetSection:
    return DatasetSection(**{"name": "test", **changes})


def judged(external_id: str, answers: dict[str, dict[str, Any]], *, order: list[int] | None = None,
           fields: dict[str, Any] | None = None, info: dict[str, Any] | None = None,
           status: dict[str, str] | None = None) -> Judged:
    """A pulled record: `answers` maps annotator -> {question: value}."""
    annotations = [Annotation(user, (status or {}).get(user, "submitted"),
                              {q: {"value": v} for q, v in values.items()}) for user, values in answers.items()]
    hidden = {"id": external_id, "order": order or [0, 1], **(info or {})}
    return Judged(external_id, hidden, fields or {}, annotations, {})
