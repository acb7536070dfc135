"""`alignlab train dpo`: direct preference optimisation and its variants, on TRL's DPOTrainer.

    from alignlab.algorithms.dpo import train_dpo
    from alignlab.config import load_config
    from alignlab.config.dpo import DPOConfig
    run = train_dpo(load_config("configs/dpo/tiny.yaml", DPOConfig))
    run.summary()["eval"]["rewards/accuracies"]       # held-out reward accuracy

One run, in order (KTO, `alignlab.algorithms.kto`, reuses every step but the encoding):
1. `read_split`, `Encoder` (`alignlab.algorithms.preference_data`): records to token ids, a stable held-out
   split, the truncation policy, per-example trust (agreement-aware training).
2. `load_policy`, `load_reference`: the policy (first built at model.name_or_path when `tiny_policy` asks,
   `alignlab.algorithms.tiny_policy`) and an optional separate reference sharing its tokenizer.
3. `plan_reference` (before the run directory exists: a cache file made for another model is refused) and
   `fill_reference`: reference log-probs from the cache (`alignlab.refcache`), computed on a miss; or a
   reference model beside the policy when `reference.cache` is off.
4. `open_run`, once everything a user can get wrong has been checked: the run directory (a finished run
   returns at once, an interrupted one resumes).
5. `run_trainer`: the trainer adapter (`alignlab.backends.train.preference`), resume from the last complete
   checkpoint, held-out evaluation at every checkpoint and at the end, checkpoint hooks, the final model in
   `<run>/model/` and `summary.json` last.

Checkpoint hooks are where evaluation suites attach: `CHECKPOINT_HOOKS.register("name", fn)` with
`fn(HookContext) -> dict[str, float]`, then `eval.hooks: [name]` in a config (or `hooks=` in the API).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.algorithms.preference_data import Encoder, Split, as_pairs, encode_pairs, read_split
from alignlab.config.dpo import DPOConfig, LoraSection
from alignlab.errors import ModelLoadError
from alignlab.registry import Registry
from alignlab.runs import Run, open_run

Echo = Callable[[str], None]


@dataclass
class HookContext:
    """What a checkpoint hook sees: the policy being trained, its tokenizer, the step and the run."""

    model: Any
    tokenizer: Any
    step: int
    run: Run
    final: bool


CheckpointHook = Callable[[HookContext], dict[str, float]]
CHECKPOINT_HOOKS: Registry[CheckpointHook] = Registry("checkpoint hook")


# -- 4. models ---------------------------------------------------------------------------------------------


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
    from alignlab.models import load_causal_lm, load_tokenizer
    from alignlab.refcache import tokenizer_hash

    name = config.reference.model
    if name is None:
        return None
    if tokenizer_hash(load_tokenizer(name)) != tokenizer_hash(tokenizer):
        raise ModelLoadError(f"reference.model {name}: its tokenizer differs from the policy's "
                             f"({config.model.name_or_path}); DPO and KTO compare log-probs of the same token ids, "
                             "so use a reference with the same tokenizer")
    return load_causal_lm(name, dtype=config.model.dtype, trust_remote_code=config.model.trust_remote_code)


def lora_config(section: LoraSection | None) -> Any:
    if section is None:
        return None
    from peft import LoraConfig

    return LoraConfig(r=section.r, lora_alpha=section.alpha, lora_dropout=section.dropout,
                      target_modules=section.target_modules, task_type="CAUSAL_LM")


# -- 5. reference log-probs --------------------------------------------------------------------------------


Sequences = dict[str, dict[str, tuple[list, list]]]  # split -> column -> (prompt ids, completion ids)


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


def plan_reference(config: Any, kind: str, policy: Any, separate: Any, tokenizer: Any, encoding: str,
                   sequences: Sequences) -> ReferencePlan:
    """Before the run directory exists: the cached log-probs (a file made for another key is an error), or,
    with `reference.cache` off, the model TRL runs beside the policy: `separate`, else a copy of the initial
    policy for full fine-tuning, else none for LoRA (the adapter-disabled base is the reference)."""
    import copy

    from alignlab.config.dpo import reference_cache_dir
    from alignlab.refcache import CacheKey, cache_path, load_cache, model_hash, token_hash, tokenizer_hash

    if not config.reference.cache:
        if separate is None and config.lora is None:
            separate = copy.deepcopy(policy)  # TRL would reload the policy from disk, failing for an unsaved one
        return ReferencePlan({}, ref_model=separate)
    reference = separate if separate is not None else policy
    tokens = {f"{split}/{column}/{part}": ids for split, cols in sequences.items()
              for column, pair in cols.items() for part, ids in zip(("prompt", "completion"), pair, strict=True)}
    key = CacheKey(kind, model_hash(reference), tokenizer_hash(tokenizer), token_hash(tokens),
                   config.data.max_length, encoding)
    path = config.reference.cache_file or cache_path(
        reference_cache_dir(config.reference, config.data.path, config.run.output_dir),
        Path(config.data.path.split("?")[0]).stem, key)
    stored = load_cache(path, key)
    plan = ReferencePlan({}, cache_path=Path(path), cache_hit=stored is not None, key=key, compute_with=reference)
    if stored is not None:
        plan.columns = _columns(stored)
    return plan


def fill_reference(plan: ReferencePlan, config: Any, tokenizer: Any, sequences: Sequences,
                   echo: Echo) -> ReferencePlan:
    """Compute and store the reference log-probs the cache lacked (no-op on a hit or without the cache).
    Under a launcher rank 0 computes and writes the file; the other ranks wait, then read the same file."""
    from alignlab.launch.topology import main_process_first
    from alignlab.refcache import load_cache

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
    from alignlab.backends.train.preference import reference_logps
    from alignlab.refcache import save_cache

    if plan.cache_path is None or plan.cache_hit:
        if plan.cache_hit:
            echo(f"reference log-probs from cache {plan.cache_path}")
        plan.compute_with = None
        return plan
    total = sum(len(pair[0]) for cols in sequences.values() for pair in cols.values())
    echo(f"computing reference log-probs ({total} sequences) -> {plan.cache_path}")
    batch_size = config.reference.batch_size or 2 * config.train.batch_size
    stored = {f"{split}/{column}": reference_logps(plan.compute_with, prompts, completions, batch_size=batch_size,
                                                    pad_id=tokenizer.pad_token_id)
              for split, cols in sequences.items() for column, (prompts, completions) in cols.items()}
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


# -- 6. training -------------------------------------------------------------------------------------------


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

    use_progress_lines(trainer, echo, keys=("loss", "rewards/accuracies", "rewards/margins", "kl_estimate"))
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
    echo(f"held-out reward accuracy {held_out.get('rewards/accuracies', float('nan')):.3f}, "
         f"margin {held_out.get('rewards/margins', float('nan')):.3f} ({run.dir})")
    return run


def trainer_args(config: Any, run: Run, trl_config_cls: type, *, has_eval: bool, gradient_checkpointing: bool,
                 **method: Any) -> Any:
    from alignlab.backends.train.hf import trainer_arguments

    eval_steps = config.train.save_steps if has_eval and config.eval.at_checkpoints else None
    return trainer_arguments(
        trl_config_cls, run=run, train=config.train, seed=config.run.seed, max_length=config.data.max_length,
        eval_steps=eval_steps, gradient_checkpointing=gradient_checkpointing, disable_dropout=True, **method,
    )


def finished_run(config: Any, force: bool, echo: Echo) -> Run | None:
    """The run when it already finished (and `force` is off); also sets threads and seeds the process."""
    from alignlab.utils.seed import seed_everything

    if config.run.threads:
        import torch

        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    if force or not (Path(config.run.output_dir) / config.run.name / "summary.json").is_file():
        return None
    run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed)
    echo(f"already finished: {run.summary_path} (pass --force to train again)")
    return run


def open_training_run(config: Any, force: bool) -> Run:
    return open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed, force=force)


def train_dpo(config: DPOConfig, *, force: bool = False, echo: Echo = print,
              hooks: Iterable[CheckpointHook] = ()) -> Run:
    """Train a policy with DPO (or a variant) as `config` says; returns the finished run."""
    done = finished_run(config, force, echo)
    if done is not None:
        return done
    split = read_split(config.data, as_pairs)
    policy, tokenizer = load_policy(config, split)
    encoder = Encoder.for_data(tokenizer, config.data)
    columns = {"train": encode_pairs(split.train, encoder, config.data.weighting),
               "eval": encode_pairs(split.eval, encoder, None)}
    dpo = config.dpo
    plan, sequences = ReferencePlan({}), {}
    if dpo.uses_reference():
        sequences = {name: {"ref_chosen_logps": (cols["prompt_ids"], cols["chosen_ids"]),
                            "ref_rejected_logps": (cols["prompt_ids"], cols["rejected_ids"])}
                     for name, cols in columns.items() if cols["prompt_ids"]}
        plan = plan_reference(config, "dpo", policy, load_reference(config, tokenizer), tokenizer,
                              encoder.description, sequences)
    run = open_training_run(config, force)  # everything a user can get wrong has been checked by now
    plan = fill_reference(plan, config, tokenizer, sequences, echo)

    from trl import DPOConfig as TRLDPOConfig

    from alignlab.backends.train.hf import run_callback
    from alignlab.backends.train.preference import AlignlabDPOTrainer, PreferenceCollator, PreferenceObjective

    datasets = {name: make_dataset(cols, plan.columns.get(name))
                for name, cols in columns.items() if cols["prompt_ids"]}
    args = trainer_args(config, run, TRLDPOConfig, has_eval="eval" in datasets,
                        gradient_checkpointing=dpo.gradient_checkpointing, beta=dpo.beta,
                        precompute_ref_log_probs=bool(plan.columns) or not dpo.uses_reference(),
                        train_sampling_strategy="group_by_length" if config.data.group_by_length else "random")
    objective = PreferenceObjective(tuple(dpo.loss_type), tuple(dpo.loss_weights) if dpo.loss_weights else None,
                                    dpo.beta, dpo.label_smoothing, dpo.simpo_gamma, dpo.discopop_tau,
                                    dpo.uses_reference())
    trainer = AlignlabDPOTrainer(
        model=policy, ref_model=plan.ref_model, args=args, train_dataset=datasets["train"],
        eval_dataset=datasets.get("eval"), processing_class=tokenizer, peft_config=lora_config(config.lora),
        data_collator=PreferenceCollator(pad_token_id=tokenizer.pad_token_id), objective=objective,
        callbacks=[run_callback(run), hook_callback(list(hooks), config.eval.hooks, tokenizer, run)],
    )
    summary = data_summary("dpo", split, columns, encoder, plan)
    return run_trainer(trainer, run, tokenizer, list(hooks), config.eval.hooks, summary, echo)


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
