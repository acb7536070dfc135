"""The lifecycle backend interface and the training steps its Trainer-based backends share.

    class LifecycleBackend(Protocol):
        name: str
        def prepare(self, config, *, echo) -> Any: ...        # everything a user can get wrong, checked
        def run(self, config, run, *, echo, prepared=None) -> Path: ...   # the saved model folder

`run_backend(name, config)` is the whole run as the `alignlab.algorithms` entry points do it: a finished run is
returned as is (unless `force`), `prepare` checks the data and the model before the run directory exists (so
a bad input leaves nothing behind), then the run directory is opened (an interrupted run resumes) and the
backend trains.

`train_and_save` is what the pretrain, CPT and SFT backends share: the held-out loss before training (logged at
step 0, kept across resumes), training resumed from the last complete checkpoint, the held-out loss and
perplexity after it, the model and tokenizer saved together (safetensors, atomically) to `<run>/model/`, and
`summary.json` last.

Under a launcher (`alignlab launch`, DDP) every rank runs the same steps, so every collective (evaluation,
training, the final save) is joined by all; rank 0 alone writes: the run directory (`Run.writer`), metrics
(the Trainer's log callback), checkpoints (the Trainer) and the final model (`save_final_model`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from alignlab.registry import Registry
from alignlab.runs import Run, open_run

Echo = Callable[[str], None]
# Below this many parameters a model counts as tiny: one torch thread is then fastest on a shared CPU.
TINY_PARAMETERS = 50_000_000


class LifecycleBackend(Protocol):
    name: str

    def prepare(self, config: Any, *, echo: Echo = print) -> Any:
        """Read and check data and model; raise an `AlignlabError` for anything a user can fix."""

    def run(self, config: Any, run: Run, *, echo: Echo = print, prepared: Any = None) -> Path:
        """Train (resuming where `run` stopped), save, finish `run`; return the saved model folder."""


# The backends by name (targets resolve on first use, so listing them imports no trainer).
LIFECYCLE_BACKENDS: Registry[LifecycleBackend] = Registry("lifecycle backend")
LIFECYCLE_BACKENDS.register("pretrain", "alignlab.backends.lifecycle.causal_lm:PRETRAIN")
LIFECYCLE_BACKENDS.register("cpt", "alignlab.backends.lifecycle.causal_lm:CPT")
LIFECYCLE_BACKENDS.register("sft", "alignlab.backends.lifecycle.sft:SFT")
LIFECYCLE_BACKENDS.register("external", "alignlab.backends.lifecycle.external:EXTERNAL")


def run_backend(name: str, config: Any, *, force: bool = False, echo: Echo = print) -> Run:
    """Run lifecycle backend `name` on `config`; returns the finished run (`run.summary()["model"]`)."""
    from alignlab.utils.seed import seed_everything

    backend = LIFECYCLE_BACKENDS.get(name)
    if config.run.threads:
        import torch

        torch.set_num_threads(config.run.threads)
    seed_everything(config.run.seed)
    summary_path = Path(config.run.output_dir) / config.run.name / "summary.json"
    if not force and summary_path.is_file():
        run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed)
        echo(f"already finished: {run.summary_path} (pass --force to run again)")
        return run
    prepared = backend.prepare(config, echo=echo)
    run = open_run(config, config.run.output_dir, config.run.name, seed=config.run.seed, force=force)
    backend.run(config, run, echo=echo, prepared=prepared)
    return run


def default_threads(config: Any, model: Any, echo: Echo) -> None:
    """One torch thread for a tiny model on CPU unless `run.threads` says otherwise."""
    import torch

    if config.run.threads or torch.cuda.is_available():
        return
    from alignlab.models.tiny import count_parameters

    if count_parameters(model) < TINY_PARAMETERS and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
        echo("tiny model on CPU: 1 torch thread (set run.threads to change)")


def perplexity(loss: float | None) -> float | None:
    if loss is None or not math.isfinite(loss):
        return None
    return math.exp(min(loss, 700.0))


def _held_out(metrics: dict[str, Any]) -> dict[str, Any]:
    out = {key.removeprefix("eval_"): value for key, value in metrics.items() if key.startswith("eval_")}
    if "loss" in out:
        out["perplexity"] = perplexity(out["loss"])
    return out


def _has_eval(trainer: Any) -> bool:
    return trainer.eval_dataset is not None and len(trainer.eval_dataset) > 0


def evaluate_on_start(trainer: Any, resume: str | None) -> None:
    """Have `train()` measure the held-out metrics at step 0 (a fresh run only: a resumed run has them logged).

    Not `trainer.evaluate()` before `train()`: that prepares the model for evaluation, and accelerate then
    takes it as already prepared and never wraps it in DistributedDataParallel, so under a launcher every rank
    would silently train its own copy on its own share of the data. `eval_on_start` evaluates the wrapped model."""
    trainer.args.eval_on_start = _has_eval(trainer) and resume is None


def initial_eval(trainer: Any) -> dict[str, Any]:
    """Held-out metrics before any training, from the Trainer's log (restored from the checkpoint on resume)."""
    logged = next((e for e in trainer.state.log_history if e.get("step") == 0 and "eval_loss" in e), None)
    return _held_out(logged) if logged else {}


def train_and_save(trainer: Any, run: Run, tokenizer: Any, *, summary: dict[str, Any], echo: Echo,
                   merge_lora: bool = False) -> Path:
    """Train with resume, evaluate, save model + tokenizer to `<run>/model/`, write summary.json; the folder."""
    from alignlab.backends.train.hf import resume_checkpoint, save_final_model, use_progress_lines

    use_progress_lines(trainer, echo, keys=("loss", "grad_norm", "learning_rate"))
    resume = resume_checkpoint(run)
    if resume:
        echo(f"resuming from {resume}")
    evaluate_on_start(trainer, resume)
    result = trainer.train(resume_from_checkpoint=resume)
    step, before = trainer.state.global_step, initial_eval(trainer)
    after: dict[str, Any] = {}
    if _has_eval(trainer):
        last = trainer.state.log_history[-2:]
        scheduled = next((e for e in last if "eval_loss" in e and e.get("step") == step), None)
        after = _held_out(scheduled if scheduled is not None else trainer.evaluate())
    model_dir = run.dir / "model"
    # Every rank calls it (gathering sharded weights is collective); rank 0 alone writes safetensors + tokenizer.
    save_final_model(trainer, tokenizer, model_dir, merge_lora=merge_lora)
    last_train = next((dict(e) for e in reversed(trainer.state.log_history) if "loss" in e), {})
    run.finish({**summary, "steps": step, "train": last_train, "eval_before": before, "eval": after,
                "train_runtime_s": round(result.metrics.get("train_runtime", 0.0), 3), "model": str(model_dir)})
    from alignlab.models.card import hand_off

    hand_off(run, model_dir, echo)  # model card, adapter base path, train.push_to_hub
    if after:
        echo(f"held-out loss {after['loss']:.4f} (perplexity {after['perplexity']:.2f}), "
             f"before training {before.get('loss', float('nan')):.4f}; model: {model_dir}")
    else:
        echo(f"model: {model_dir}")
    return model_dir
