"""Experiment tracking: `train.report_to` and `train.callbacks`, for every trainer alike.

    tracking = start_tracking(run)        # None when the config asks for no tracker and no callback
    tracking.log(step, {"loss": 0.3})     # Run.log calls this after writing metrics.jsonl
    tracking.close()                      # Run.finish calls this

`metrics.jsonl` is the source of truth: every line written there (by a TRL trainer's log, by our online loop, by
held-out evaluations) is also handed to transformers' own reporting integrations (`TensorBoardCallback`,
`WandbCallback`, `MLflowCallback`, `TrackioCallback`, ... whatever the installed transformers supports), so the
numbers in the tracker and in the run folder are the same numbers. TensorBoard writes `<run>/tensorboard/`;
a pipeline's stages each get their own run, grouped by `train.run_group` (the pipeline's name: the W&B group,
the `alignlab.group` MLflow tag), so `tensorboard --logdir runs/<pipeline>` shows every stage.

Users' own `TrainerCallback`s (`train.callbacks: [my_pkg.callbacks:MyCallback]`) are loaded here: inside a
transformers Trainer they receive every event (`forward_events`); the online loop calls their `on_train_begin`,
`on_log` and `on_train_end`.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from alignlab.errors import ConfigError

# The package each integration needs, to say what to install instead of failing inside transformers.
INTEGRATION_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow", "trackio": "trackio",
                        "comet_ml": "comet_ml", "neptune": "neptune", "clearml": "clearml", "dvclive": "dvclive",
                        "swanlab": "swanlab", "codecarbon": "codecarbon", "dagshub": "dagshub",
                        "flyte": "flytekit", "azure_ml": "azureml", "kubeflow": "kubeflow"}


def tracking_settings(config: dict[str, Any]) -> tuple[list[str], list[str], str | None]:
    """(report_to, callbacks, run_group) from a run's resolved config dict (its `train` section)."""
    train = config.get("train") if isinstance(config, dict) else None
    if not isinstance(train, dict):
        return [], [], None
    report_to = train.get("report_to") or []
    report_to = [report_to] if isinstance(report_to, str) else list(report_to)
    return [r for r in report_to if r != "none"], list(train.get("callbacks") or []), train.get("run_group")


def integration_names(report_to: list[str]) -> list[str]:
    """The integrations to start: checked against the installed transformers, with a one-line error."""
    from transformers.integrations import INTEGRATION_TO_CALLBACK, get_available_reporting_integrations

    if "all" in report_to:
        return get_available_reporting_integrations()
    for name in report_to:
        if name not in INTEGRATION_TO_CALLBACK:
            import difflib

            close = difflib.get_close_matches(name, list(INTEGRATION_TO_CALLBACK), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"train.report_to: unknown tracker {name!r}; {hint}valid: "
                              f"{', '.join(INTEGRATION_TO_CALLBACK)}, all, none")
        package = INTEGRATION_PACKAGES.get(name, name)
        if importlib.util.find_spec(package) is None and not (name == "tensorboard" and
                                                              importlib.util.find_spec("tensorboardX")):
            raise ConfigError(f"train.report_to: {name!r} is not installed; `pip install {package}` or remove it")
    return list(report_to)


def load_callback(target: str) -> Any:
    """An instance of the `TrainerCallback` subclass named 'module:Class'; errors are one line naming it."""
    from transformers import TrainerCallback

    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(f"train.callbacks: {target!r}: cannot import {module_name!r} ({err}); make it "
                          "importable (installed, or on PYTHONPATH)") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, TrainerCallback)):
        raise ConfigError(f"train.callbacks: {target!r}: {module_name} has no TrainerCallback subclass named "
                          f"{class_name!r}")
    return cls()


class RunArgs:
    """What the integrations read from `TrainingArguments`, for runs without a Trainer (the online loop).

    Building a real `TrainingArguments` there would reset accelerate's process state under a running loop."""

    def __init__(self, run_dir: Path, run_name: str) -> None:
        self.output_dir, self.run_name, self.logging_dir = str(run_dir), run_name, str(Path(run_dir) / "tensorboard")
        self.report_to, self.process_index, self.local_process_index = [], 0, 0

    def __getattr__(self, name: str) -> Any:  # any other TrainingArguments field: not set
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"output_dir": self.output_dir, "run_name": self.run_name}

    def to_json_string(self) -> str:
        import json

        return json.dumps(self.to_dict())

    def to_sanitized_dict(self) -> dict[str, Any]:
        return self.to_dict()


class Tracking:
    """transformers' reporting integrations and users' callbacks, fed from the run's metric lines."""

    def __init__(self, run_dir: Path, run_name: str, report_to: list[str], callbacks: list[str],
                 group: str | None = None) -> None:
        from transformers.integrations import INTEGRATION_TO_CALLBACK

        self.run_dir, self.run_name, self.group = Path(run_dir), run_name, group
        self.integrations = [self._integration(INTEGRATION_TO_CALLBACK[name], name)
                             for name in integration_names(report_to)]
        self.user_callbacks = [load_callback(target) for target in callbacks]
        self.forward_events = False  # True inside a transformers Trainer: it calls user callbacks itself
        self._args = self._state = None

    def _integration(self, cls: type, name: str) -> Any:
        if name == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter

            return cls(tb_writer=SummaryWriter(log_dir=str(self.run_dir / "tensorboard")))
        if name == "wandb":
            import wandb

            if wandb.run is None:  # the callback reuses an active run: this one carries the name, group, folder
                wandb.init(name=self.run_name, group=self.group, dir=str(self.run_dir), reinit=True)
        return cls()

    def _context(self) -> tuple[Any, Any, Any]:
        from transformers import TrainerControl, TrainerState

        if self._args is None:
            self._args = RunArgs(self.run_dir, self.run_name)
        if self._state is None:
            self._state = TrainerState()
        return self._args, self._state, TrainerControl()

    def start(self, args: Any = None, model: Any = None) -> None:
        """Begin the tracker runs (with a Trainer's real arguments and model when there is one)."""
        if self._args is not None and args is None:
            return
        self._args = args  # a Trainer's own state is never touched: ours counts the steps
        _, _, control = self._context()
        for callback in self._receivers():
            callback.on_train_begin(self._args, self._state, control, model=model)
        if self.group:
            self._tag_group()

    def _receivers(self) -> list[Any]:
        return self.integrations + ([] if self.forward_events else self.user_callbacks)

    def _tag_group(self) -> None:
        if any(type(cb).__name__ == "MLflowCallback" for cb in self.integrations):
            import mlflow

            if mlflow.active_run() is not None:
                mlflow.set_tag("alignlab.group", self.group)

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if self._args is None:
            self.start()
        args, state, control = self._context()
        values = {k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        if not values:
            return
        state.global_step = step
        for callback in self._receivers():
            callback.on_log(args, state, control, logs=dict(values))

    def close(self) -> None:
        if self._args is None:
            return
        args, state, control = self._context()
        for callback in self._receivers():
            callback.on_train_end(args, state, control)
        self._args = self._state = None


def start_tracking(run_dir: Path, config: dict[str, Any]) -> Tracking | None:
    """The run's Tracking, or None when its config names no tracker and no callback."""
    report_to, callbacks, group = tracking_settings(config)
    if not report_to and not callbacks:
        return None
    return Tracking(run_dir, Path(run_dir).name if Path(run_dir).name != "run" else Path(run_dir).parent.name,
                    report_to, callbacks, group)
