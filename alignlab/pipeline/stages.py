"""Stage kinds: what each stage takes (roles), makes (outputs), how its settings are checked and how it runs.

    STAGE_KINDS.get("dpo").run(context)  -> {"model": ".../dpo-r1-.../run/model", "metrics": {...}}

Trainer kinds (pretrain, cpt, sft, external, rm, dpo, kto, ppo, grpo) wrap the same functions as `alignlab
train ...` / `alignlab rm train`: the stage's `config` is that trainer's config without the paths the pipeline
fills in (run folder, model path, data path), and the trainer's own run directory lives inside the stage
folder, so an interrupted stage resumes from the trainer's last checkpoint. The feedback-loop kinds live in
their own modules: `generate` (`candidates.py`), `annotate` (`annotate.py`), `eval` (`evaluate.py`), `report`
(`report.py`). Every `run` returns JSON-able outputs keyed by output type (model, reward_model, candidates,
preferences, eval, report) plus `metrics` for the report.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from alignlab.config.pipeline import PipelineConfig, StageSpec
from alignlab.errors import AlignlabError, ConfigError
from alignlab.methods import METHODS
from alignlab.registry import Registry

Echo = Callable[[str], None]
PLACEHOLDER = "pipeline-input"  # stands in for paths only known once upstream stages ran


@dataclass
class StageContext:
    """What a running stage sees: its node, its folder, its inputs' outputs (role -> list, each with its
    `stage` and `round`), the pipeline config and where to print."""

    key: str
    spec: StageSpec
    round: int | None
    dir: Path
    pipeline: PipelineConfig
    inputs: dict[str, list[dict[str, Any]]]
    echo: Echo = print
    finished: list[dict[str, Any]] = field(default_factory=list)  # records of the stages done before this one

    def one(self, role: str, output: str) -> str | None:
        """The `output` of the (first) stage bound to `role`, None when unbound."""
        found = self.inputs.get(role) or []
        return found[0].get(output) if found else None

    @property
    def seed(self) -> int:
        return self.pipeline.run.seed + (self.round or 0)


@dataclass(frozen=True)
class Role:
    """An input a stage kind takes: the output type it reads, whether it is required, whether it gathers
    every round's instance (reports) or binds one."""

    produces: tuple[str, ...]
    required: bool = True
    gather: bool = False
    description: str = ""


@dataclass
class StageKind:
    """A stage kind: its roles, its output types, a settings check and a runner."""

    roles: dict[str, Role]
    produces: tuple[str, ...]
    runner: Callable[[StageContext], dict[str, Any]]
    options: type[BaseModel] | None = None  # schema of `config` for non-trainer kinds
    trainer: str | None = None  # CONFIGS kind of trainer stages
    fill: Callable[[dict, dict[str, str]], None] = field(default=lambda data, paths: None)

    def check(self, spec: StageSpec, pipeline: PipelineConfig) -> None:
        """Validate the stage's settings now (before anything runs), with input paths as placeholders."""
        if self.options is not None:
            _validate(self.options, spec.config)
        elif self.trainer is not None:
            _validate(_trainer_schema(self.trainer), trainer_data(self, spec, pipeline, Path(PLACEHOLDER),
                                                                  {role: PLACEHOLDER for role in self.roles}))

    def resolved(self, spec: StageSpec, pipeline: PipelineConfig) -> dict[str, Any]:
        """The settings that make the stage's hash: the validated config with defaults filled in."""
        if self.options is not None:
            return self.options.model_validate(spec.config).model_dump(mode="json")
        return copy.deepcopy(spec.config)

    def run(self, context: StageContext) -> dict[str, Any]:
        return self.runner(context)


def _trainer_schema(kind: str) -> type[BaseModel]:
    from alignlab.config import CONFIGS

    return CONFIGS.get(kind)


def _validate(schema: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif first["type"] == "missing":
            message = "required key is missing"
        raise ConfigError(f"config.{key}: {message}") from None


def _section(data: dict, name: str) -> dict:
    value = data.get(name)
    if not isinstance(value, dict):
        value = data[name] = {}
    return value


def trainer_data(kind: StageKind, spec: StageSpec, pipeline: PipelineConfig, run_dir: Path,
                 paths: dict[str, str]) -> dict[str, Any]:
    """The trainer config dict: the stage's config plus run folder, seed, threads and the bound input paths."""
    data = copy.deepcopy(spec.config)
    run = _section(data, "run")
    run.setdefault("seed", pipeline.run.seed)
    if pipeline.run.threads and "threads" not in run:
        run["threads"] = pipeline.run.threads
    run["name"], run["output_dir"] = run_dir.name, str(run_dir.parent)
    if pipeline.report_to or "report_to" in data.get("train", {}):  # one tracker run per stage, one group
        train = _section(data, "train")
        train.setdefault("report_to", list(pipeline.report_to))
        train.setdefault("run_group", pipeline.run.name)
    kind.fill(data, paths)
    return data


def build_trainer_config(kind: StageKind, context: StageContext) -> BaseModel:
    paths = {}
    for role, spec in kind.roles.items():
        found = [context.one(role, output) for output in spec.produces]
        if any(found):
            paths[role] = next(path for path in found if path)
    data = trainer_data(kind, context.spec, context.pipeline, context.dir / "run", paths)
    try:
        return _validate(_trainer_schema(kind.trainer or ""), data)
    except ConfigError as err:
        raise ConfigError(f"stage {context.key!r}: {err}") from None


# -- filling input paths into trainer configs ---------------------------------------------------------------


def _fill_model(data: dict, path: str | None) -> None:
    if path is not None:
        _section(data, "model")["name_or_path"] = path


def _fill_pretrain(data: dict, paths: dict[str, str]) -> None:
    if "model" in paths:  # an upstream model gives the architecture and tokenizer instead of model.tiny
        model = _section(data, "model")
        model.pop("tiny", None)
        model["name_or_path"] = paths["model"]


def _fill_policy_data(data: dict, paths: dict[str, str]) -> None:
    _fill_model(data, paths.get("policy"))
    if "data" in paths:
        _section(data, "data")["path"] = paths["data"]


def _fill_rm(data: dict, paths: dict[str, str]) -> None:
    _fill_model(data, paths.get("model"))
    if "data" in paths:
        section = _section(data, "data")
        section["path"] = paths["data"]
        section.setdefault("format", "pairwise")
    rm = _section(data, "rm")
    rm["output_dir"] = str(Path(data["run"]["output_dir"]) / "reward_model")


def _fill_external(data: dict, paths: dict[str, str]) -> None:
    for role in ("model", "data"):
        if role in paths:
            data[role] = paths[role]


def _fill_online(data: dict, paths: dict[str, str]) -> None:
    """PPO/GRPO: the policy path, the prompts, and the bound reward model as the first of `rewards`."""
    _fill_model(data, paths.get("policy"))
    if "data" in paths:
        _section(data, "data")["path"] = paths["data"]
    if "reward" in paths:
        rewards = data.get("rewards") if isinstance(data.get("rewards"), list) else []
        data["rewards"] = [{"model": paths["reward"]}, *rewards]


# -- runners --------------------------------------------------------------------------------------------------


def _summary_model(run: Any, key: str) -> dict[str, Any]:
    summary = run.summary() or {}
    model = summary.get("model")
    if not model:
        raise AlignlabError(f"stage {key!r}: the trainer finished without a model in {run.summary_path}")
    scalars = {k: v for k, v in (summary.get("eval") or {}).items() if isinstance(v, int | float)}
    return {"model": str(model), "run": str(run.dir), "metrics": scalars}


def _trainer_runner(method: str) -> Callable[[StageContext], dict[str, Any]]:
    """Runs the training method registered as `method` (alignlab.methods) on the stage's filled config."""

    def run(context: StageContext) -> dict[str, Any]:
        kind = STAGE_KINDS.get(context.spec.kind)
        config = build_trainer_config(kind, context)
        train = METHODS.get(method).train_function()
        return _summary_model(train(config, echo=context.echo), context.key)

    return run


def _run_rm(context: StageContext) -> dict[str, Any]:
    config = build_trainer_config(STAGE_KINDS.get("rm"), context)
    result = METHODS.get("rm").train_function()(config, echo=context.echo)
    headline = (result.summary.get("eval") or {})
    return {"reward_model": str(result.model_dir), "run": str(result.run_dir),
            "metrics": {k: v for k, v in headline.items() if isinstance(v, int | float)}}


def _run_tiny(context: StageContext) -> dict[str, Any]:
    import json
    import shutil

    from alignlab.config.schemas import TinyModelConfig
    from alignlab.models.tiny import build_tiny_models
    from alignlab.paths import shipped_path
    from alignlab.utils.io import atomic_dir

    tiny = TinyModelConfig.model_validate(context.spec.config)
    out = context.dir / "models"
    if not (out / "alignlab_tiny.json").is_file():
        shutil.rmtree(out, ignore_errors=True)
        with atomic_dir(out) as tmp:
            shutil.rmtree(tmp)
            build_tiny_models(tmp, size=tiny.size, vocab_size=tiny.vocab_size,
                              corpus=[shipped_path(p) for p in tiny.corpus] or None,
                              max_position_embeddings=tiny.max_position_embeddings, seed=tiny.seed)
    info = json.loads((out / "alignlab_tiny.json").read_text(encoding="utf-8"))
    return {"model": str(out / "policy"), "reward_base": str(out / "reward"),
            "metrics": {k: v for k, v in info.items() if isinstance(v, int | float)}}


def _lazy(module: str, function: str) -> Callable[[StageContext], dict[str, Any]]:
    def run(context: StageContext) -> dict[str, Any]:
        import importlib

        return getattr(importlib.import_module(module), function)(context)

    return run


def _options(module: str, name: str) -> type[BaseModel]:
    import importlib

    return getattr(importlib.import_module(module), name)


MODEL = ("model",)
STAGE_KINDS: Registry[StageKind] = Registry("pipeline stage kind")


def _register() -> None:
    from alignlab.config.schemas import TinyModelConfig

    model = Role(MODEL, description="a causal LM, e.g. from a pretrain, sft or dpo stage")
    optional_model = Role(MODEL, required=False, description="a causal LM to start from")
    prefs = Role(("preferences",), description="preference records, e.g. from an annotate stage")
    reward = Role(("reward_model",), required=False,
                  description="a reward model from an rm stage (or rule rewards in the stage's config)")
    STAGE_KINDS.register("tiny_model", StageKind({}, ("model", "reward_base"), _run_tiny, options=TinyModelConfig))
    STAGE_KINDS.register("pretrain", StageKind(
        {"model": Role(MODEL, required=False, description="architecture and tokenizer (default: model.tiny)")},
        MODEL, _trainer_runner("pretrain"), trainer="pretrain",
        fill=_fill_pretrain))
    for name in ("cpt", "sft"):
        STAGE_KINDS.register(name, StageKind({"model": model}, MODEL, _trainer_runner(name), trainer=name,
                                             fill=lambda d, p: _fill_model(d, p.get("model"))))
    STAGE_KINDS.register("external", StageKind(
        {"model": optional_model, "data": Role(("preferences", "candidates"), required=False,
                                               description="data substituted for {data}")},
        MODEL, _trainer_runner("external"), trainer="external",
        fill=_fill_external))
    STAGE_KINDS.register("generate", StageKind(
        {"policy": Role(MODEL, description="the policy that writes the candidates"),
         "selector": Role(("reward_model",), required=False, description="reward model (ensemble) that picks "
                          "the batch by uncertainty or disagreement; round 1 has none")},
        ("candidates",), _lazy("alignlab.pipeline.candidates", "run_generate"),
        options=_options("alignlab.pipeline.candidates", "GenerateOptions")))
    STAGE_KINDS.register("annotate", StageKind(
        {"candidates": Role(("candidates",), description="candidate pairs from a generate stage"),
         "previous": Role(("preferences",), required=False, description="earlier rounds' records (accumulate)")},
        ("preferences",), _lazy("alignlab.pipeline.annotate", "run_annotate"),
        options=_options("alignlab.pipeline.annotate", "AnnotateOptions")))
    STAGE_KINDS.register("rm", StageKind({"data": prefs, "model": Role(MODEL, required=False, description="base "
                                          "model of the reward model")}, ("reward_model",), _run_rm, trainer="rm",
                                         fill=_fill_rm))
    # Every offline and online method of the registry is a stage kind (rloo included).
    for name in METHODS:
        family = METHODS.get(name).family
        if family == "offline":
            STAGE_KINDS.register(name, StageKind({"policy": model, "data": prefs}, MODEL, _trainer_runner(name),
                                                 trainer=name, fill=_fill_policy_data))
        elif family == "online":
            STAGE_KINDS.register(name, StageKind(
                {"policy": model, "reward": reward,
                 "data": Role(("preferences", "candidates"), required=False, description="prompts")},
                MODEL, _trainer_runner(name), trainer=name, fill=_fill_online))
    STAGE_KINDS.register("eval", StageKind(
        {"model": model, "baseline": Role(MODEL, required=False, description="the policy to beat (e.g. sft)"),
         "judge": Role(("reward_model",), required=False, description="reward model judging answers"),
         "reference": Role(MODEL, required=False, description="model whose perplexity and KL measure the "
                           "answers (default: the baseline)")},
        ("eval",), _lazy("alignlab.pipeline.evaluate", "run_eval_stage"),
        options=_options("alignlab.pipeline.evaluate", "EvalOptions")))
    STAGE_KINDS.register("report", StageKind(
        {"evals": Role(("eval",), gather=True, description="eval stages (every round)"),
         "annotations": Role(("preferences",), required=False, gather=True, description="annotate stages"),
         "reward_models": Role(("reward_model",), required=False, gather=True, description="rm stages"),
         "baseline_eval": Role(("eval",), required=False, description="the starting policy's eval (deltas)")},
        ("report",), _lazy("alignlab.pipeline.report", "run_report"),
        options=_options("alignlab.pipeline.report", "ReportOptions")))


_register()
