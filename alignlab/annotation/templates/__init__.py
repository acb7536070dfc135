"""Dataset templates for preference data: what annotators see and answer, and what the pull turns it into.

| template   | annotators answer                              | pull writes (canonical format)          |
|------------|------------------------------------------------|-----------------------------------------|
| pairwise   | which of two responses is better (or a tie)    | pairwise; human win rate of two models  |
| ranking    | a ranking of N responses                       | ranking (TRL export: expanded pairs)    |
| ratings    | 0-4 ratings of HelpSteer's five attributes     | ratings (mean per attribute)            |
| binary     | good / bad (KTO)                               | unpaired                                |
| safety     | safe / refusal / over-refusal / harmful        | unpaired (good = safe or refusal)       |
| arabic_pairwise | pairwise, in Arabic, shown right to left  | pairwise                                |

    template = TEMPLATES.get("pairwise")()
    settings = template.settings(dataset_section, items)     # fields, questions, metadata, guidelines
    payloads = template.records(item, dataset_section, seed)  # Argilla records for one input item
    record = template.output(judged, dataset_section)        # canonical record from the answers, or None
    units = template.units(judged)                           # measure -> unit -> {annotator: value}

Agreement is measured per `Measure`: a question (or a rated attribute) with its level of measurement.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from alignlab.annotation.templates.base import Item, Judged
from alignlab.registry import Registry


@dataclass(frozen=True)
class Measure:
    """One thing annotators judged, compared across annotators: `levels` name the Krippendorff levels that
    fit it (the first is the headline), `labels` fix the category order for kappa and ordinal alpha."""

    name: str
    levels: tuple[str, ...]
    labels: tuple[Any, ...]


class Template(ABC):
    """One annotation task; subclasses are stateless (configuration comes in as arguments)."""

    name: str = ""
    inputs: tuple[str, ...] = ()  # input formats it accepts
    output_format: str = ""

    @abstractmethod
    def settings(self, dataset, items: list[Item]) -> dict[str, Any]:
        """{"fields": [...], "questions": [...], "metadata": [...], "guidelines": str} as Argilla payloads."""

    @abstractmethod
    def records(self, item: Item, dataset, seed: int) -> list[dict[str, Any]]:
        """Argilla record payloads for one item: external_id, fields, metadata, suggestions (by question name)."""

    @abstractmethod
    def measures(self, dataset) -> list[Measure]:
        """What agreement is computed on."""

    @abstractmethod
    def units(self, judged: Judged) -> dict[str, dict[Any, dict[str, Any]]]:
        """measure name -> unit key -> {annotator: value}, from submitted answers, in original-response terms."""

    @abstractmethod
    def output(self, judged: Judged, dataset) -> dict[str, Any] | None:
        """The canonical record the submitted answers make, or None when they settle nothing (a tie)."""

    def check_input(self, item: Item, where: str) -> None:
        """Raise `DataError` when the item does not fit the template (e.g. three responses for pairwise)."""
        if not item.responses:
            from alignlab.errors import DataError

            raise DataError(f"{where}: responses: nothing to annotate")


TEMPLATES: Registry[type[Template]] = Registry("annotation template")
TEMPLATES.register("pairwise", "alignlab.annotation.templates.pairwise:PairwiseTemplate")
TEMPLATES.register("ranking", "alignlab.annotation.templates.ranking:RankingTemplate")
TEMPLATES.register("ratings", "alignlab.annotation.templates.ratings:RatingsTemplate")
TEMPLATES.register("binary", "alignlab.annotation.templates.binary:BinaryTemplate")
TEMPLATES.register("safety", "alignlab.annotation.templates.binary:SafetyTemplate")
TEMPLATES.register("arabic_pairwise", "alignlab.annotation.templates.arabic_pairwise:ArabicPairwiseTemplate")

__all__ = ["TEMPLATES", "Item", "Judged", "Measure", "Template"]
