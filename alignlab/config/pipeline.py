"""Pipeline config (`alignlab pipeline run`, `alignlab.pipeline.run`): declared stages and the feedback loop.

    run:    {name: demo, output_dir: runs, seed: 0, threads: 1}
    rounds: 2                          # feedback rounds; per-round stages run once per round
    rule:   sentiment                  # the hidden preference rule of simulated annotators and rule win rates
    stages:
      - {name: base, kind: tiny_model, config: {size: micro}}
      - {name: sft, kind: sft, inputs: {model: base}, config: {...}}
      - {name: generate, kind: generate, inputs: {policy: [dpo@previous, sft], selector: rm@previous}}
      - {name: annotate, kind: annotate, inputs: {candidates: generate, previous: annotate@previous}}
      - {name: rm, kind: rm, inputs: {data: annotate}}
      - {name: dpo, kind: dpo, inputs: {policy: sft, data: annotate}}
      - {name: eval, kind: eval, inputs: {model: dpo, baseline: sft, judge: rm}}
      - {name: report, kind: report, needs: [eval]}

A stage's `inputs` bind the roles its kind takes (`alignlab pipeline kinds` lists them) to other stages: a
stage name, `name@previous` (the previous round's instance; nothing in round 1) or a list, of which the first
that exists is used. `needs` adds ordering without binding a role. Stage kinds `generate`, `annotate`, `rm`,
`dpo`, `kto`, `ppo`, `grpo` and `eval` run once per round unless `per_round: false`; the others run once. A
once-stage whose inputs are per-round stages (a report) sees every round.

`config` is the stage kind's own settings: for trainers it is that kind's config (`alignlab config schema
dpo`) without the paths the pipeline fills in (run name and folder, model path, data path), checked when the
pipeline loads. The graph (unknown stages, missing inputs, cycles) is checked by `alignlab.pipeline.graph`,
with errors naming the stage and its line in the file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alignlab.config.base import RunSection, StrictModel
from alignlab.methods import METHODS

STAGE_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"
# Stage kinds: the feedback loop's own kinds plus every training method of the registry (alignlab.methods).
_LOOP_KINDS = ("tiny_model", "generate", "annotate", "eval", "report")
StageKindName = Literal[tuple(sorted({*_LOOP_KINDS, *METHODS}))]  # type: ignore[valid-type]
PER_ROUND_KINDS = frozenset({"generate", "annotate", "eval",
                             *(name for name in METHODS if METHODS.get(name).family != "lifecycle")})


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("alignlab", message.replace("{", "{{").replace("}", "}}"))


class StageSpec(StrictModel):
    """One declared stage."""

    name: str = Field(..., pattern=STAGE_NAME, description="Unique stage name (also its run folder).")
    kind: StageKindName = Field(..., description="What the stage does (`alignlab pipeline kinds`).")
    inputs: dict[str, str | list[str]] = Field(
        default_factory=dict, description="role -> stage, stage@previous, or a list (first that exists).")
    needs: list[str] = Field(default_factory=list, description="Stages that must finish first (no role bound).")
    per_round: bool | None = Field(None, description="Run once per feedback round (default: by kind).")
    config: dict[str, Any] = Field(default_factory=dict, description="The stage kind's settings.")

    def runs_per_round(self) -> bool:
        return self.kind in PER_ROUND_KINDS if self.per_round is None else self.per_round

    def references(self) -> list[tuple[str, str]]:
        """(role or 'needs', reference text) for every stage this one names."""
        out = []
        for role, value in self.inputs.items():
            for ref in [value] if isinstance(value, str) else value:
                out.append((role, ref))
        out += [("needs", ref) for ref in self.needs]
        return out


class PipelineConfig(StrictModel):
    """A pipeline of lifecycle stages with a feedback loop (`alignlab pipeline run`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="pipeline"))
    rounds: int = Field(1, description="Feedback rounds (>= 1): per-round stages run once per round.")
    rule: str = Field("sentiment", description="Hidden preference rule of simulated annotators and of the rule "
                      "win rate: keyword, sentiment or longer (alignlab.annotation.simulated).")
    stages: list[StageSpec] = Field(..., min_length=1)
    report_to: list[str] = Field(default_factory=list, description="Trackers for every training stage (a stage's "
                                 "own train.report_to wins); each stage is one tracker run, grouped by run.name.")

    @field_validator("rounds")
    @classmethod
    def _rounds(cls, value: int) -> int:
        if value < 1:
            raise _invalid(f"rounds {value}: a pipeline runs at least one round (rounds: 1 runs every stage once)")
        return value

    @field_validator("rule")
    @classmethod
    def _rule(cls, value: str) -> str:
        from alignlab.registry import UnknownNameError, registry_at

        try:
            return registry_at("alignlab.annotation.simulated:RULE_SCORES").check(value)
        except UnknownNameError as err:
            raise _invalid(str(err)) from None

    @model_validator(mode="after")
    def _unique(self) -> PipelineConfig:
        seen: set[str] = set()
        for stage in self.stages:
            if stage.name in seen:
                raise _invalid(f"stage name {stage.name!r} is used twice; stage names are unique")
            seen.add(stage.name)
        return self

    def stage(self, name: str) -> StageSpec:
        return next(s for s in self.stages if s.name == name)
