"""alignlab: preference data, reward models, policy optimisation, evaluation and reports in one framework.

`import alignlab` is cheap: it imports no torch, transformers or optional extras. The functions below are the
Python face of the CLI (same configs, same run folders, same numbers); each imports its method when called:

    import alignlab
    run = alignlab.train_dpo("configs/dpo/tiny.yaml", ["train.lr=1e-4", "run.name=dpo_lr"])
    run.summary()["eval"]                     # held-out metrics
    result = alignlab.train_rm("configs/rm/tiny_bt.yaml")
    result.summary()["eval"]                  # the same on an `RMResult` (result.summary["eval"] works too)
    alignlab.evaluate("runs/dpo_lr/model", ["bbq", "xstest"], out="runs/eval_dpo")

Every `train_*` takes a config object (`from alignlab.config import DPOConfig`) or a YAML path plus dotted
overrides, and `force` / `echo` as the CLI's `--force` and output. The submodules (`alignlab.data`,
`alignlab.models`, `alignlab.config`, `alignlab.runs`, `alignlab.algorithms.*`) hold the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlab._version import __version__

if TYPE_CHECKING:
    from alignlab.algorithms.rm import RMResult
    from alignlab.eval.runner import EvalResult
    from alignlab.runs import Run

__all__ = ["__version__", "evaluate", "train", "train_cpt", "train_dpo", "train_grpo", "train_kto", "train_ppo",
           "train_pretrain", "train_rloo", "train_rm", "train_sft"]

ConfigLike = Any  # a config object of the method, or a YAML path (str or Path)


def _config(config: ConfigLike, kind: str, overrides: Sequence[str]) -> Any:
    from alignlab.config import CONFIGS, load_config

    schema = CONFIGS.get(kind)
    if isinstance(config, str | Path):
        return load_config(config, schema, list(overrides))
    if overrides:
        from alignlab.errors import ConfigError

        raise ConfigError("overrides apply to a YAML path; change the config object's fields instead")
    return config


def _method(kind: str) -> Callable[..., Any]:
    from alignlab.methods import METHODS

    return METHODS.get(kind).train_function()  # type: ignore[no-any-return]


def train_rm(config: ConfigLike, overrides: Sequence[str] = (), *, force: bool = False,
             echo: Callable[[str], None] = print) -> RMResult:
    """Train a reward model (`alignlab rm train`): Bradley-Terry, multi-attribute regression or an ensemble.

    Args:
        config: an `RMConfig`, or the path of its YAML (e.g. "configs/rm/tiny_bt.yaml").
        overrides: dotted `key=value` strings applied to the YAML (e.g. ["train.lr=1e-4"]).
        force: start over in a run folder that holds an earlier run.
        echo: where progress lines go.

    Returns:
        `RMResult`: `run_dir`, `model_dir` and `summary` (held-out accuracy with its CI under "eval").
    """
    from alignlab.algorithms.rm import train_rm as _train_rm

    return _train_rm(_config(config, "rm", overrides), force=force, echo=echo)


def _trainer(kind: str, title: str) -> Callable[..., Any]:
    def train_method(config: ConfigLike, overrides: Sequence[str] = (), *, force: bool = False,
                     echo: Callable[[str], None] = print) -> Run:
        return _method(kind)(_config(config, kind, overrides), force=force, echo=echo)

    train_method.__name__ = train_method.__qualname__ = f"train_{kind}"
    train_method.__doc__ = f"""{title} (`alignlab train {kind}`).

    Args:
        config: a `{kind}` config object (`alignlab.config.CONFIG_CLASSES`), or the path of its YAML
            (e.g. "configs/{kind}/tiny.yaml").
        overrides: dotted `key=value` strings applied to the YAML (e.g. ["train.lr=1e-4", "run.name=x"]).
        force: start over in a run folder that holds an earlier run with another config.
        echo: where progress lines go.

    Returns:
        The finished `alignlab.runs.Run`: `run.dir`, `run.summary()` (held-out metrics under "eval"), the
        trained model in `run.dir / "model"` with its model card.
    """
    return train_method


train_dpo = _trainer("dpo", "Direct preference optimisation and its variants (IPO, hinge, SimPO, RPO, ...)")
train_kto = _trainer("kto", "Kahneman-Tversky optimisation from unpaired thumbs-up / thumbs-down data")
train_ppo = _trainer("ppo", "PPO with a value model, rollouts from the policy and a reward model or rule")
train_grpo = _trainer("grpo", "GRPO: group-relative advantages over several completions per prompt")
train_rloo = _trainer("rloo", "RLOO: leave-one-out baselines over several completions per prompt")
train_sft = _trainer("sft", "Supervised fine-tuning / instruction tuning on chat or prompt-completion data")
train_pretrain = _trainer("pretrain", "Causal-LM pretraining from random weights on raw text")
train_cpt = _trainer("cpt", "Continued pretraining of an existing causal LM on raw text")


def train(config: Any, *, force: bool = False, echo: Callable[[str], None] = print) -> Any:
    """Train whatever `config` describes (a config object of any method: `DPOConfig`, `RMConfig`, ...).

    Returns what the method's own `train_*` returns (a `Run`, or an `RMResult` for reward models)."""
    from alignlab.config import CONFIG_CLASSES

    kind = CONFIG_CLASSES.get(type(config).__name__)
    if kind == "rm":
        return train_rm(config, force=force, echo=echo)
    if kind is None or kind in ("eval", "pipeline", "demo", "annotate", "tiny_model", "accelerate"):
        from alignlab.errors import ConfigError

        raise ConfigError(f"alignlab.train: {type(config).__name__} is not a training config; use "
                          "alignlab.evaluate, alignlab.pipeline.run or alignlab.demo.run_demo")
    return _method(kind)(config, force=force, echo=echo)


def evaluate(model: str | None = None, suites: Sequence[str] | str | None = None, *, judge: str | None = None,
             baseline: str | None = None, out: str | Path | None = None, limit: int | None = None,
             config: Any = None, overrides: Sequence[str] = (), force: bool = False,
             refusal_classifier: Any = None, progress: Callable[[str], None] = lambda line: None) -> EvalResult:
    """Run evaluation suites on a model (`alignlab eval run`): same config, same folder, same numbers.

    Args:
        model: the policy to evaluate: a local folder or hub id.
        suites: suite names (a list or "bbq,xstest"; `alignlab eval list` names them all).
        judge: a reward model (or causal-LM judge) for judged suites such as winrate.
        baseline: the second policy for winrate.
        out: the folder to write (default: run.output_dir / run.name of the config).
        limit: at most this many examples per suite (a deterministic subsample).
        config: an `EvalConfig` or the path of its YAML (e.g. "configs/eval/standard.yaml").
        overrides: dotted `key=value` strings (e.g. ["generation.max_new_tokens=64"]).
        force: start over in a folder that holds an earlier evaluation.
        refusal_classifier: any object with `name` and `classify(prompts, responses, language)`.
        progress: called with one line per finished suite.

    Returns:
        `EvalResult`: the output folder and every suite's metrics with 95% confidence intervals.
    """
    from alignlab.eval.runner import evaluate as _evaluate

    return _evaluate(model, suites, judge=judge, baseline=baseline, out=out, limit=limit, config=config,
                     overrides=overrides, force=force, refusal_classifier=refusal_classifier, progress=progress)
