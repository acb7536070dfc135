"""Evaluation config (`alignlab eval run`, `alignlab.evaluate`).

    run:        name, output_dir, seed, threads (the eval folder is output_dir/name, or --out)
    model:      the policy under test (optional in a YAML: --model sets it)
    judge:      reward model or causal LM judge (optional; suites that need one say so)
    baseline:   second policy for win rates (optional)
    eval:       suites, limit (examples per suite, deterministic subsample), batch size, device, bootstrap,
                options.<suite> (each suite's own settings, validated by that suite)
    generation: rollout engine, max_new_tokens, temperature, top_p, chat template on/off, system prompt
    refusal:    which refusal classifier (string_match, judge)

Suite names, suite options, the rollout engine and the refusal classifier are checked against their
registries when the config loads, so a typo fails before any model is read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from alignlab.config.base import ModelSection, RunSection, StrictModel, refuse_renamed
from alignlab.data.prompts import CHAT_TEMPLATE_HELP, ChatTemplateMode
from alignlab.errors import AlignlabError


def _check(registry_path: str, name: str) -> str:
    from alignlab.registry import registry_at

    try:
        return registry_at(registry_path).check(name)
    except AlignlabError as err:  # UnknownNameError: reported by pydantic with the key and the file line
        raise ValueError(str(err)) from None


class EvalSection(StrictModel):
    suites: list[str] = Field(default_factory=lambda: ["bbq", "crows_pairs", "xstest"], min_length=1,
                              description="Suites to run, in order (`alignlab eval list`).")
    limit: int | None = Field(None, ge=1, description="At most this many examples per suite: a deterministic, "
                              "stratified subsample (None: everything shipped).")
    batch_size: int = Field(16, ge=1)
    max_length: int | None = Field(None, ge=8, description="Longest scored sequence (default: the model's).")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    share_prefixes: bool = Field(True, description="Compute shared token prefixes once when scoring.")
    bootstrap_resamples: int = Field(1000, ge=10)
    confidence: float = Field(0.95, gt=0.0, lt=1.0)
    options: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                               description="Per-suite settings, e.g. {winrate: {tie_margin: 0.1}}.")

    @field_validator("suites")
    @classmethod
    def _known_suites(cls, suites: list[str]) -> list[str]:
        for name in suites:
            _check("alignlab.eval.suite:SUITES", name)
        if len(set(suites)) != len(suites):
            raise ValueError(f"a suite is listed twice: {suites}")
        return suites

    @field_validator("options")
    @classmethod
    def _valid_options(cls, options: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from pydantic import ValidationError

        from alignlab.registry import registry_at

        for name, settings in options.items():
            _check("alignlab.eval.suite:SUITES", name)
            try:
                registry_at("alignlab.eval.suite:SUITES").get(name).Options.model_validate(settings or {})
            except ValidationError as err:
                first = err.errors()[0]
                key = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"options.{name}.{key}: {first['msg']}") from None
        return options


class GenerationSection(StrictModel):
    engine: str = Field("hf", description="Rollout engine: hf (transformers generate); vllm in a later release.")
    max_new_tokens: int = Field(64, ge=1)
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy (deterministic).")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    chat_template: ChatTemplateMode = Field(
        "always", description="How prompts are formatted (alignlab.data.prompts): " + CHAT_TEMPLATE_HELP)
    system_prompt: str | None = None
    judge_max_new_tokens: int = Field(256, ge=1, description="Answer length of a causal-LM judge.")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return refuse_renamed(data, {"use_chat_template": "chat_template: always | auto | never (true was always, "
                                                           "false was never)"})

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, name: str) -> str:
        return _check("alignlab.backends.rollout:ROLLOUT_ENGINES", name)


class RefusalSection(StrictModel):
    classifier: str = Field("refusal", description="refusal (the trained, language-aware judge), string_match "
                                                   "(phrase lists) or judge (the --judge model).")

    @field_validator("classifier")
    @classmethod
    def _known_classifier(cls, name: str) -> str:
        return _check("alignlab.eval.refusal:REFUSAL_CLASSIFIERS", name)


class EvalConfig(StrictModel):
    """Evaluation suites on a model (`alignlab eval run`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="eval"))
    model: ModelSection | None = None
    judge: ModelSection | None = None
    baseline: ModelSection | None = None
    eval: EvalSection = Field(default_factory=EvalSection)
    generation: GenerationSection = Field(default_factory=GenerationSection)
    refusal: RefusalSection = Field(default_factory=RefusalSection)
