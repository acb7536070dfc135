"""Reward-model training (`alignlab rm train`): Bradley-Terry, multi-attribute regression, ensembles.

    from alignlab.algorithms.rm import train_rm   # `train` is the same function (earlier name)
    from alignlab.config import load_config
    from alignlab.config.rm import RMConfig

    result = train_rm(load_config("configs/rm/tiny_bt.yaml", RMConfig, ["train.lr=1e-4"]))
    result.model_dir      # reward_models/tiny_bt: safetensors, tokenizer, alignlab_rm.json, README.md
    result.summary        # eval headline, throughput, peak RSS

How a run flows: the data is read and validated and the base model checked *before* the run directory is
created (a typo never leaves a folder behind); then `runs/<name>/` records the config and environment, each
member trains with TRL's RewardTrainer (or our regression Trainer, `alignlab.backends.train.reward`) writing
`checkpoints/step_N` folders and `metrics.jsonl`, the model is saved into a temporary folder, loaded back through
`RewardModel.load` exactly as a user would, evaluated on held-out data, given its model card, and renamed into
place; `summary.json` comes last. Re-running the same command resumes from the last checkpoint (ensemble
members that finished are not retrained); a finished run is returned as it is unless `force=True`.

Variants come from registries: `RM_TYPES` (how the whole model is trained: one member or K) and
`MEMBER_KINDS` (how one member is built: outputs, trainer rows, trainer).
"""

from __future__ import annotations

import resource
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.algorithms.rm_data import RMData, bootstrap_sample, load_rm_data, pairwise_rows, ratings_rows
from alignlab.config.rm import RMConfig
from alignlab.registry import Registry
from alignlab.runs import Run, open_run
from alignlab.utils.io import atomic_dir, atomic_write_json, atomic_write_text
from alignlab.utils.seed import seed_everything

DEFAULT_MODELS_DIR = Path("reward_models")
TINY_CACHE = "_tiny"  # under run.output_dir: tiny:<size> base models built on first use


class Summary(dict):
    """summary.json as a dict that can also be called: `result.summary()["eval"]` reads like `Run.summary()`,
    and `result.summary["eval"]` (this field's first spelling) keeps working."""

    def __call__(self) -> dict[str, Any]:
        return self


@dataclass
class RMResult:
    """What `train_rm` returns: the run folder, the model folder and the run's summary (`summary()` as on a
    `Run`)."""

    run_dir: Path
    model_dir: Path
    summary: dict[str, Any]

    def __post_init__(self) -> None:
        self.summary = Summary(self.summary)


@dataclass
class TrainContext:
    """What every member trainer needs; built once per run."""

    config: RMConfig
    run: Run
    data: RMData
    base_model: str
    tokenizer: Any
    input_format: Any
    echo: Callable[[str], None] = print
    stats: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Member:
    """A trained member: in memory (`model`) or already saved (`path`)."""

    model: Any = None
    path: Path | None = None


@dataclass(frozen=True)
class MemberKind:
    """How one member is built: its output names (None: one unnamed reward), trainer rows, trainer."""

    labels: Callable[[RMConfig], list[str] | None]
    rows: Callable[[TrainContext, list[dict]], Any]
    trainer: Callable[..., Any]


def _pairwise_rows(ctx: TrainContext, records: list[dict]) -> Any:
    rm = ctx.config.rm
    return pairwise_rows(records, ctx.tokenizer, ctx.input_format, use_margin=rm.use_margin,
                         example_weight=rm.example_weight, single_annotator_weight=rm.single_annotator_weight)


def _ratings_rows(ctx: TrainContext, records: list[dict]) -> Any:
    return ratings_rows(records, ctx.tokenizer, ctx.input_format, attributes=ctx.config.rm.attributes,
                        scale=tuple(ctx.config.data.scale))


def _pairwise_trainer(ctx: TrainContext, model: Any, rows: Any, run: Run, seed: int) -> Any:
    from alignlab.backends.train.reward import pairwise_trainer

    rm = ctx.config.rm
    return pairwise_trainer(model, ctx.tokenizer, rows, run=run, train=ctx.config.train, seed=seed,
                            batching=rm.batching_for("bradley_terry"),
                            center_rewards_coefficient=rm.center_rewards_coefficient,
                            echo=ctx.echo)


def _regression_trainer(ctx: TrainContext, model: Any, rows: Any, run: Run, seed: int) -> Any:
    from alignlab.backends.train.reward import regression_trainer

    rm = ctx.config.rm
    weights = rm.weights()
    return regression_trainer(model, ctx.tokenizer, rows, run=run, train=ctx.config.train, seed=seed,
                              attribute_weights=[weights[a] for a in rm.attributes],
                              bt_coefficient=rm.regression_bt_coefficient,
                              batching=rm.batching_for("multi_attribute"), echo=ctx.echo)


MEMBER_KINDS: Registry[MemberKind] = Registry("reward model member kind")
MEMBER_KINDS.register("bradley_terry", MemberKind(lambda config: None, _pairwise_rows, _pairwise_trainer))
MEMBER_KINDS.register("multi_attribute", MemberKind(lambda config: list(config.rm.attributes), _ratings_rows,
                                                    _regression_trainer))


def _fit(ctx: TrainContext, kind_name: str, records: list[dict], run: Run, seed: int) -> Any:
    """Train one member inside `run` (resuming from its last checkpoint); return the merged model."""
    from alignlab.backends.train.hf import resume_checkpoint
    from alignlab.backends.train.reward import lora_model
    from alignlab.models.reward import load_for_training

    config, kind = ctx.config, MEMBER_KINDS.get(kind_name)
    labels = kind.labels(config)
    seed_everything(seed)
    model = load_for_training(ctx.base_model, num_labels=len(labels) if labels else 1, seed=seed,
                              dtype=config.model.dtype, pad_token_id=ctx.tokenizer.pad_token_id,
                              revision=config.model.revision, trust_remote_code=config.model.trust_remote_code)
    if labels:  # plain transformers users see the attribute names in config.json
        model.config.id2label = dict(enumerate(labels))
        model.config.label2id = {name: i for i, name in enumerate(labels)}
    if config.rm.lora is not None:
        model = lora_model(model, config.rm.lora.model_dump())
    trainer = kind.trainer(ctx, model, kind.rows(ctx, records), run, seed)
    output = trainer.train(resume_from_checkpoint=resume_checkpoint(run))
    ctx.stats.append({**output.metrics, "tokens": _trained_tokens(trainer), "steps": trainer.state.global_step})
    model = trainer.model
    if config.rm.lora is not None:
        model = model.merge_and_unload()
    return model.eval()


def _trained_tokens(trainer: Any) -> int | None:
    return getattr(trainer, "_total_train_tokens", None) or None


def train_single(ctx: TrainContext) -> list[Member]:
    """One model (bradley_terry or multi_attribute) trained in the run directory itself."""
    return [Member(model=_fit(ctx, ctx.config.rm.type, ctx.data.train, ctx.run, ctx.config.run.seed))]


def train_ensemble(ctx: TrainContext) -> list[Member]:
    """K members with seeds seed, seed+1, ... (and bootstrap resamples when asked), each in its own run
    directory under members/ so that a finished member survives an interrupted ensemble."""
    config, members = ctx.config, []
    for index in range(config.rm.ensemble_size):
        seed = config.run.seed + index
        member_config = {"member": index, "seed": seed, "kind": config.rm.ensemble_member,
                         "bootstrap": config.rm.ensemble_bootstrap}
        member_run = open_run(member_config, ctx.run.dir / "members", f"member_{index}", seed=seed)
        model_dir = member_run.dir / "model"
        if not member_run.finished:
            records = bootstrap_sample(ctx.data.train, seed) if config.rm.ensemble_bootstrap else ctx.data.train
            model = _fit(ctx, config.rm.ensemble_member, records, member_run, seed)
            if member_run.writer:  # rank 0 of a multi-process run
                with atomic_dir(model_dir) as tmp:
                    model.save_pretrained(tmp)
            del model
            member_run.finish({"seed": seed, **(ctx.stats[-1] if ctx.stats else {})})
        members.append(Member(path=model_dir))
    return members


RM_TYPES: Registry[Callable[[TrainContext], list[Member]]] = Registry("reward model type")
RM_TYPES.register("bradley_terry", train_single)
RM_TYPES.register("multi_attribute", train_single)
RM_TYPES.register("ensemble", train_ensemble)


def output_dir(config: RMConfig) -> Path:
    return config.rm.output_dir or DEFAULT_MODELS_DIR / config.run.name


def _prepare(config: RMConfig) -> tuple[str, Any]:
    """What can fail on the model before a run directory exists: the base model and its tokenizer."""
    from alignlab.launch.topology import main_process_first
    from alignlab.models.loading import load_model_config, load_tokenizer
    from alignlab.models.reward import check_can_classify, resolve_base_model

    with main_process_first():  # under a launcher rank 0 builds a tiny base model, the others find it
        base = resolve_base_model(config.model.name_or_path, config.run.output_dir / TINY_CACHE)
    check_can_classify(base, load_model_config(base, revision=config.model.revision,
                                               trust_remote_code=config.model.trust_remote_code))
    tokenizer = load_tokenizer(base, revision=config.model.revision, trust_remote_code=config.model.trust_remote_code)
    return base, tokenizer


def train_rm(config: RMConfig, *, force: bool = False, echo: Callable[[str], None] = print,
             data: RMData | None = None) -> RMResult:
    """Train, save, evaluate and describe a reward model as `config` says; resume an interrupted run.

    Args:
        config: the validated `RMConfig` (`load_config("configs/rm/tiny_bt.yaml", RMConfig)`).
        force: start over in a run folder that holds an earlier run.
        echo: where progress lines go (`print`; the CLI passes typer.echo).
        data: the result of `load_rm_data(config)` when the caller checked the data already (the CLI does,
            so that a data error is reported before torch is imported).

    Returns:
        `RMResult` with the run folder, the model folder and the summary (`result.summary()["eval"]`, as on a `Run`).
    `train` is the same function under its earlier name."""
    from alignlab.models.reward import InputFormat

    data = data if data is not None else load_rm_data(config)
    base, tokenizer = _prepare(config)
    run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed, force=force)
    model_dir = output_dir(config)
    if run.finished and model_dir.is_dir():
        echo(f"already trained: {model_dir} (run {run.dir}; pass --force to train again)")
        return RMResult(run.dir, model_dir, run.summary() or {})
    _set_threads(config.run.threads)
    for note in data.notes:
        echo(f"note: {note}")
    fmt = InputFormat.for_tokenizer(tokenizer, config.rm.chat_template, config.data.max_length)
    ctx = TrainContext(config, run, data, base, tokenizer, fmt, echo)
    echo(f"training {config.rm.type} reward model on {len(data.train)} {data.format} rows "
         f"({'resuming ' if run.resumed else ''}run {run.dir})")
    members = RM_TYPES.get(config.rm.type)(ctx)
    # Rank 0 alone saves, evaluates and describes the model; the other ranks are done once training is.
    summary = _save_and_evaluate(ctx, members, model_dir, echo) if run.writer else {}
    run.finish(summary)
    return RMResult(run.dir, model_dir, (run.summary() or {}) if run.writer else summary)  # summary.json as written


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def _save_and_evaluate(ctx: TrainContext, members: list[Member], model_dir: Path,
                       echo: Callable[[str], None]) -> dict[str, Any]:
    """Save into a temp folder, load it back as a user would, evaluate, write the cards, rename into place."""
    from alignlab.algorithms.rm_card import card_json, model_card
    from alignlab.algorithms.rm_eval import evaluate, format_report, headline
    from alignlab.models.reward import CARD_NAME, RewardModel

    card = card_json(ctx, len(members))
    with atomic_dir(model_dir) as tmp:
        for index, member in enumerate(members):
            target = tmp if len(members) == 1 else tmp / "members" / str(index)
            if member.model is not None:
                member.model.save_pretrained(target)
            else:
                shutil.copytree(member.path, target)
        ctx.tokenizer.save_pretrained(tmp)
        atomic_write_json(tmp / CARD_NAME, card)
        metrics: dict[str, Any] = {}
        if ctx.data.eval:
            loaded = RewardModel.load(tmp)
            metrics = evaluate(loaded, ctx.data.eval, fmt=ctx.data.format,
                               batch_size=ctx.config.train.batch_size, seed=ctx.config.run.seed)
            echo(format_report(metrics))
            del loaded
        card["eval"] = {"data": ctx.data.eval_source, **headline(metrics)} if metrics else None
        atomic_write_json(tmp / CARD_NAME, card)
        atomic_write_json(tmp / "eval.json", metrics)
        atomic_write_text(tmp / "README.md", model_card(card, metrics))
    echo(f"saved {model_dir}")
    return {"model_dir": str(model_dir), "eval": card["eval"], "train": _train_stats(ctx.stats),
            "data": card["training_data"]}


def _train_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    runtime = sum(s.get("train_runtime", 0.0) for s in stats)
    samples = sum(s.get("train_samples_per_second", 0.0) * s.get("train_runtime", 0.0) for s in stats)
    tokens = sum(s.get("tokens") or 0 for s in stats)
    return {"members": len(stats), "steps": sum(s.get("steps", 0) for s in stats), "tokens": tokens,
            "train_runtime_s": round(runtime, 3),
            "samples_per_second": round(samples / runtime, 3) if runtime else None,
            "tokens_per_second": round(tokens / runtime, 1) if runtime and tokens else None,
            "final_loss": stats[-1].get("train_loss") if stats else None, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


__all__ = ["MEMBER_KINDS", "RM_TYPES", "RMResult", "output_dir", "peak_rss_mb", "train"]


train = train_rm  # the earlier name, kept as an alias
