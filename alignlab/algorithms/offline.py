"""The offline-training core DPO and KTO share: one recipe (`train_offline`) and the steps it runs.

    from alignlab.algorithms.offline import OfflineMethod, train_offline

A method (`alignlab.algorithms.dpo`, `alignlab.algorithms.kto`) says only what is particular to it, as an
`OfflineMethod`: how records become its columns of token ids, which reference log-probs it needs, and which TRL
trainer it runs with which objective. The recipe, in order:

1. `read_split`, `Encoder` (`alignlab.algorithms.preference_data`): records to token ids, a stable held-out
   split, the truncation policy, per-example trust (agreement-aware training).
2. `load_policy`, `load_reference`: the policy (first built at model.name_or_path when `tiny_policy` asks,
   `alignlab.algorithms.tiny_policy`) and an optional separate reference sharing its tokenizer.
3. `plan_reference` (before the run directory exists: a cache file made for another model is refused) and
   `fill_reference`: reference log-probs from the cache (`alignlab.backends.train.refcache`), computed on a miss; or a
   reference model beside the policy when `reference.cache` is off.
4. `open_training_run`, once everything a user can get wrong has been checked: the run directory (a finished
   run returns at once, an interrupted one resumes).
5. `run_trainer`: the trainer adapter (`alignlab.backends.train.preference`), resume from the last complete
   checkpoint, held-out evaluation at every checkpoint and at the end, checkpoint hooks (`alignlab.hooks`), the
   final model in `<run>/model/` and `summary.json` last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.algorithms.preference_data import Encoder, Item, Split, read_split
from alignlab.errors import ModelLoadError
from alignlab.hooks import CHECKPOINT_HOOKS, CheckpointHook, HookContext
from alignlab.runs import Run, finished_run, open_training_run

Echo = Callable[[str], None]
Columns = dict[str, dict[str, list]]  # split -> column -> values
Sequences = dict[str, dict[str, tuple[list, list]]]  # split -> column -> (prompt ids, completion ids)


@dataclass(frozen=True)
class OfflineMethod:
    """What is particular to an offline method; `train_offline` runs the rest."""

    name: str  # "dpo" | "kto": the reference cache's kind and the summary's method
    convert: Callable[[str, list[Item]], list[Item]]  # records of a format -> the records the method trains on
    encode: Callable[[Split, Encoder], Columns]  # {"train": columns, "eval": columns}
    sequences: Callable[[Columns], Sequences]  # the reference log-probs it needs; {} for none
    build_trainer: Callable[..., Any]  # (config, run, policy, tokenizer, plan, datasets, callbacks) -> trainer
    encoding: Callable[[Encoder], str] = lambda encoder: encoder.description  # the cache key's encoding
    shuffle: bool = False  # shuffle the training split once with the run seed (KTO: mixes its KL pairs)
    summary: Callable[[Columns], dict[str, Any]] = lambda columns: {}  # extra summary["data"] entries


def train_offline(config: Any, method: OfflineMethod, *, force: bool = False, echo: Echo = print,
                  hooks: Iterable[CheckpointHook] = ()) -> Run:
    """Train `config`'s policy with `method`; returns the finished run (at once when it already finished)."""
    import random

    done = finished_run(config, force, echo)
    if done is not None:
        return done
    split = read_split(config.data, method.convert)
    if method.shuffle:
        random.Random(config.run.seed).shuffle(split.train)
    policy, tokenizer = load_policy(config, split)
    encoder = Encoder.for_data(tokenizer, config.data)
    columns = method.encode(split, encoder)
    sequences = method.sequences(columns)
    plan = ReferencePlan({})
    if sequences:
        from alignlab.backends.train.hf import training_precision

        plan = plan_reference(config, method.name, policy, load_reference(config, tokenizer), tokenizer,
                              method.encoding(encoder), sequences,
                              bf16=training_precision(policy, config.train).name == "bf16")
    run = open_training_run(config, force)  # everything a user can get wrong has been checked by now
    plan = fill_reference(plan, config, tokenizer, sequences, echo)

    from alignlab.backends.train.hf import run_callback

    hooks = list(hooks)
    datasets = {name: make_dataset(cols, plan.columns.get(name))
                for name, cols in columns.items() if cols["prompt_ids"]}
    callbacks = [run_callback(run), hook_callback(hooks, config.eval.hooks, tokenizer, run)]
    trainer = method.build_trainer(config, run, policy, tokenizer, plan, datasets, callbacks)
    summary = data_summary(method.name, split, columns, encoder, plan)
    summary["data"].update(method.summary(columns))
    return run_trainer(trainer, run, tokenizer, hooks, config.eval.hooks, summary, echo)


# -- models ------------------------------------------------------------------------------------------------


def load_policy(config: Any, split: Split) -> tuple[Any, Any]:
    """(policy, tokenizer); builds the tiny policy first when the config asks for one and none exists."""
    from alignlab.models import load_causal_lm, load_tokenizer

    model = config.model
    if config.tiny_policy is not None:
        from alignlab.algorithms.tiny_policy import ensure_tiny_policy
        from alignlab.launch.topology import main_process_first

        with main_process_first():  # under a launcher rank 0 builds it, the others find it
            ensure_tiny_policy(config.tiny_policy, Path(model.name_or_path), [record for _w, record in split.train])
    tokenizer = load_tokenizer(model.name_or_path, revision=model.revision, trust_remote_code=model.trust_remote_code)
    policy = load_causal_lm(model.name_or_path, revision=model.revision, trust_remote_code=model.trust_remote_code,
                            dtype=model.dtype)
    return policy, tokenizer


def load_reference(config: Any, tokenizer: Any) -> Any | None:
    """The separate reference model of `reference.model`, after checking it shares the policy's tokenizer."""
    from alignlab.backends.train.refcache import tokenizer_hash
    from alignlab.models import load_causal_lm, load_tokenizer

    name = config.reference.model
    if name is None:
        return None
    if tokenizer_hash(load_tokenizer(name)) != tokenizer_hash(tokenizer):
        raise ModelLoadError(f"reference.model {name}: its tokenizer differs from the policy's "
                             f"({config.model.name_or_path}); DPO and KTO compare log-probs of the same token ids, "
                             "so use a reference with the same tokenizer")
    return load_causal_lm(name, dtype=config.model.dtype, trust_remote_code=config.model.trust_remote_code)


# -- reference log-probs --------------------------------------------------------------------------------


@dataclass
class ReferencePlan:
    """Where reference log-probs come from: cached columns (filled by `fill_reference` on a miss), or a
    reference model running beside the policy."""

    columns: dict[str, dict[str, list[float]]]  # split -> column -> values (empty without the cache)
    ref_model: Any = None
    cache_path: Path | None = None
    cache_hit: bool = False
    key: Any = None
    compute_with: Any = None  # the model that computes a missing cache
    bf16: bool = False  # compute it under bf16 autocast: the precision the trainer runs the policy at


def plan_reference(config: Any, kind: str, policy: Any, separate: Any, tokenizer: Any, encoding: str,
                   sequences: Sequences, *, bf16: bool = False) -> ReferencePlan:
    """Before the run directory exists: the cached log-probs (a file made for another key is an error), or,
    with `reference.cache` off, the model TRL runs beside the policy: `separate`, else a copy of the initial
    policy for full fine-tuning, else none for LoRA (the adapter-disabled base is the reference).

    `bf16`: the trainer runs the policy under bf16 autocast, so the reference pass does too, as TRL's inline
    reference forward does under its autocast (at the first step the policy's log-probs then equal the cached
    ones exactly, and the pass runs at bf16 speed). A bf16 cache has its own key (`encoding` says so): fp32
    and bf16 runs never read each other's values."""
    import copy

    from alignlab.backends.train.refcache import (
        CacheKey,
        cache_path,
        load_cache,
        model_hash,
        token_hash,
        tokenizer_hash,
    )
    from alignlab.config.dpo import reference_cache_dir

    if not config.reference.cache:
        if separate is None and config.lora is None:
            separate = copy.deepcopy(policy)  # TRL would reload the policy from disk, failing for an unsaved one
        return ReferencePlan({}, ref_model=separate)
    reference = separate if separate is not None else policy
    tokens = {f"{split}/{column}/{part}": ids for split, cols in sequences.items()
              for column, pair in cols.items() for part, ids in zip(("prompt", "completion"), pair, strict=True)}
    key = CacheKey(kind, model_hash(reference), tokenizer_hash(tokenizer), token_hash(tokens),
                   config.data.max_length, f"{encoding}; reference pass in bf16 autocast" if bf16 else encoding)
    path = config.reference.cache_file or cache_path(
        reference_cache_dir(config.reference, config.data.path, config.run.output_dir),
        Path(config.data.path.split("?")[0]).stem, key)
    stored = load_cache(path, key)
    plan = ReferencePlan({}, cache_path=Path(path), cache_hit=stored is not None, key=key, compute_with=reference,
                         bf16=bf16)
    if stored is not None:
        plan.columns = _columns(stored)
    return plan


def fill_reference(plan: ReferencePlan, config: Any, tokenizer: Any, sequences: Sequences,
                   echo: Echo) -> ReferencePlan:
    """Compute and store the reference log-probs the cache lacked (no-op on a hit or without the cache).
    Under a launcher rank 0 computes and writes the file; the other ranks wait, then read the same file."""
    from alignlab.backends.train.refcache import load_cache
    from alignlab.launch.topology import main_process_first

    if plan.cache_path is not None:
        with main_process_first() as main:
            if not main:  # rank 0 has filled the cache by now: every rank trains on the same values
                plan.columns, plan.cache_hit = _columns(load_cache(plan.cache_path, plan.key)), True
                plan.compute_with = None
                return plan
            return _fill_reference(plan, config, tokenizer, sequences, echo)
    return _fill_reference(plan, config, tokenizer, sequences, echo)


def _fill_reference(plan: ReferencePlan, config: Any, tokenizer: Any, sequences: Sequences,
                    echo: Echo) -> ReferencePlan:
    import torch

    from alignlab.backends.train.preference import reference_column_logps
    from alignlab.backends.train.refcache import save_cache

    if plan.cache_path is None or plan.cache_hit:
        if plan.cache_hit:
            echo(f"reference log-probs from cache {plan.cache_path}")
        plan.compute_with = None
        return plan
    total = sum(len(pair[0]) for cols in sequences.values() for pair in cols.values())
    echo(f"computing reference log-probs ({total} sequences{', bf16 autocast' if plan.bf16 else ''}) -> "
         f"{plan.cache_path}")
    batch_size = config.reference.batch_size or 2 * config.train.batch_size
    device = next(plan.compute_with.parameters()).device
    # Columns that share their prompts (chosen/rejected, completion/KL completion) run with the prompt once.
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=plan.bf16):
        stored = {f"{split}/{column}": logps for split, cols in sequences.items()
                  for column, logps in reference_column_logps(plan.compute_with, cols, batch_size=batch_size,
                                                              pad_id=tokenizer.pad_token_id).items()}
    save_cache(plan.cache_path, plan.key, stored)
    plan.columns, plan.compute_with = _columns(stored), None  # no reference model stays in memory
    return plan


def _columns(stored: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    import torch

    columns: dict[str, dict[str, list[float]]] = {}
    for name, values in stored.items():
        split, column = name.split("/", 1)
        columns.setdefault(split, {})[column] = values.to(torch.float32).tolist()
    return columns


# -- training -------------------------------------------------------------------------------------------


def make_dataset(columns: dict[str, list], extra: dict[str, list] | None = None) -> Any:
    from datasets import Dataset

    return Dataset.from_dict({**columns, **(extra or {})})


def hook_callback(hooks: Sequence[CheckpointHook], names: Sequence[str], tokenizer: Any, run: Run) -> Any:
    """A TrainerCallback running checkpoint hooks after every held-out evaluation."""
    from transformers import TrainerCallback

    class _Hooks(TrainerCallback):
        def on_evaluate(self, args, state, control, model=None, **kwargs):  # noqa: ANN001 - transformers'
            run_hooks(hooks, names, HookContext(model, tokenizer, state.global_step, run, final=False))

    return _Hooks()


def run_hooks(hooks: Sequence[CheckpointHook], names: Sequence[str], context: HookContext) -> dict[str, float]:
    results: dict[str, float] = {}
    named = [(name, CHECKPOINT_HOOKS.get(name)) for name in names]
    for label, hook in [*named, *((getattr(h, "__name__", "hook"), h) for h in hooks)]:
        results.update({f"hook/{label}/{key}": value for key, value in hook(context).items()})
    if results:
        context.run.log(context.step, **results)
    return results


def run_trainer(trainer: Any, run: Run, tokenizer: Any, hooks: Sequence[CheckpointHook], hook_names: Sequence[str],
                summary: dict[str, Any], echo: Echo) -> Run:
    """Train (resuming from the last complete checkpoint), evaluate, save the model, then summary.json."""
    from alignlab.backends.train.hf import resume_checkpoint, save_final_model, use_progress_lines

    is_dpo = type(trainer).__name__ == "AlignlabDPOTrainer"  # KTO logs no offline_log_ratio
    use_progress_lines(trainer, echo, keys=("loss", "rewards/accuracies", "rewards/margins",
                                            "offline_log_ratio" if is_dpo else "kl_estimate"))
    if is_dpo:
        echo("offline_log_ratio (old name kl_estimate): mean log pi/pi_ref on the dataset's chosen and rejected "
             "answers, not a KL; DPO lowers both, so it goes negative (see alignlab.backends.train.preference)")
    resume = resume_checkpoint(run)
    if resume:
        echo(f"resuming from {resume}")
    result = trainer.train(resume_from_checkpoint=resume)
    step = trainer.state.global_step
    held_out: dict[str, Any] = {}
    if trainer.eval_dataset is not None and len(trainer.eval_dataset):
        last = trainer.state.log_history[-2:] if trainer.state.log_history else []
        scheduled = next((e for e in last if "eval_loss" in e and e.get("step") == step), None)
        metrics = scheduled if scheduled is not None else trainer.evaluate()
        held_out = {k.removeprefix("eval_"): v for k, v in metrics.items() if k.startswith("eval_")}
    hook_results = run_hooks(hooks, hook_names, HookContext(trainer.model, tokenizer, step, run, final=True))
    save_final_model(trainer, tokenizer, run.dir / "model")  # rank 0 writes; sharded weights gathered first
    last_train = next((dict(entry) for entry in reversed(trainer.state.log_history) if "loss" in entry), {})
    run.finish({**summary, "steps": step, "train": last_train, "eval": held_out, "hooks": hook_results,
                "train_runtime_s": round(result.metrics.get("train_runtime", 0.0), 3),
                "model": str(run.dir / "model")})
    from alignlab.models.card import hand_off

    hand_off(run, run.dir / "model", echo)  # model card, adapter base path, train.push_to_hub
    echo(f"held-out reward accuracy {held_out.get('rewards/accuracies', float('nan')):.3f}, "
         f"margin {held_out.get('rewards/margins', float('nan')):.3f} ({run.dir})")
    return run


def trainer_args(config: Any, run: Run, trl_config_cls: type, *, has_eval: bool, gradient_checkpointing: bool,
                 model: Any = None, **method: Any) -> Any:
    from alignlab.backends.train.hf import trainer_arguments

    eval_steps = config.train.save_steps if has_eval and config.eval.at_checkpoints else None
    return trainer_arguments(
        trl_config_cls, run=run, train=config.train, seed=config.run.seed, max_length=config.data.max_length,
        eval_steps=eval_steps, gradient_checkpointing=gradient_checkpointing, disable_dropout=True, model=model,
        **method,
    )


def data_summary(method: str, split: Split, columns: dict[str, dict[str, list]], encoder: Encoder,
                 plan: ReferencePlan) -> dict[str, Any]:
    train = columns["train"]
    trust = train.get("weight") or train.get("label_smoothing")
    return {
        "method": method,
        "data": {"format": split.fmt, "train_examples": len(train["prompt_ids"]),
                 "eval_examples": len(columns["eval"]["prompt_ids"]), "encoding": encoder.description, **encoder.counts,
                 "weighted": "weight" in train, "label_smoothing": "label_smoothing" in train,
                 "mean_trust": round(sum(trust) / len(trust), 6) if trust else None},
        "reference": {"cache": str(plan.cache_path) if plan.cache_path else None, "cache_hit": plan.cache_hit},
    }
