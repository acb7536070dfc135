"""What a user watches while alignlab works: progress bars on a terminal, plain periodic lines in logs and CI.

    set_verbosity(QUIET)                       # `alignlab -q ...`: results and errors only
    bar = StepProgress(total=113, label="train", echo=print)
    bar.advance(); bar.note("step 10/113  loss 0.43"); bar.close()
    trainer.add_callback(progress_callback(echo, keys=("loss",)))   # a transformers Trainer, the same way

On a terminal (stdout is a TTY, TERM is not "dumb", no CI variable) a rich bar shows done/total, elapsed time and
the ETA, with log lines printed above it. Elsewhere (a log file, CI) the same information comes as plain lines,
at each log line and at most every `every_s` seconds otherwise. `-q` keeps only results; `-v` also lets
third-party progress bars and warnings through (`quiet_third_party` hides them otherwise).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

QUIET, NORMAL, VERBOSE = 0, 1, 2
_LEVEL = {"value": NORMAL}  # set once by the CLI's root options; the Python API keeps NORMAL


def set_verbosity(level: int) -> None:
    _LEVEL["value"] = level


def verbosity() -> int:
    return _LEVEL["value"]


def interactive(stream: Any = None) -> bool:
    """True when a person is watching: a TTY that is not a dumb terminal, outside CI."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb" and \
        not os.environ.get("CI")


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class StepProgress:
    """Progress over `total` units: a rich bar on a terminal, periodic plain lines elsewhere, nothing with -q."""

    def __init__(self, total: int | None, label: str, echo: Callable[[str], Any] = print, *,
                 every_s: float = 30.0, bar: bool | None = None) -> None:
        self.total, self.label, self.echo, self.every_s = total, label, echo, every_s
        self.done, self._start, self._last_line = 0, time.monotonic(), time.monotonic()
        self._bar = self._task = None
        self._owner = False  # this bar started the live display (an inner bar adds a row to it instead)
        if verbosity() > QUIET and (interactive() if bar is None else bar):
            self._bar = _ACTIVE[-1] if _ACTIVE else _new_display()
            self._owner = not _ACTIVE
            if self._owner:
                self._bar.start()
                _ACTIVE.append(self._bar)
            self._task = self._bar.add_task(label, total=total)

    def set_total(self, total: int | None) -> None:
        """The total, once it is known (e.g. after the first page of a paged read)."""
        self.total = total
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def eta(self) -> str:
        if not self.total or not self.done:
            return "?"
        elapsed = time.monotonic() - self._start
        return _duration(elapsed / self.done * (self.total - self.done))

    def status(self) -> str:
        of = f"/{self.total}" if self.total else ""
        return f"{self.label} {self.done}{of}  elapsed {_duration(time.monotonic() - self._start)}  eta {self.eta()}"

    def advance(self, units: int = 1) -> None:
        self.done += units
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
        elif verbosity() > QUIET and time.monotonic() - self._last_line >= self.every_s:
            self._line(self.status())

    def note(self, text: str) -> None:
        """A log line (a step's metrics): above the bar, or as a plain line with the ETA."""
        if verbosity() == QUIET:
            return
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            self._line(f"{text}  (eta {self.eta()})" if self.total else text)

    def _line(self, text: str) -> None:
        self._last_line = time.monotonic()
        self.echo(text)

    def close(self) -> None:
        if self._bar is None:
            return
        if self._owner:
            self._bar.stop()
            _ACTIVE.remove(self._bar)
        else:
            self._bar.remove_task(self._task)
        self._bar = None

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# rich allows one live display at a time: the outermost bar owns it and bars opened inside it (a suite's
# generation inside `eval run`'s bar over suites) are extra rows of the same display
_ACTIVE: list[Any] = []


def _new_display() -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn())


def progress_callback(echo: Callable[[str], Any], keys: tuple[str, ...] = ("loss", "accuracy"),
                      bar: bool | None = None) -> Any:
    """A transformers `TrainerCallback`: a StepProgress over the optimizer steps, a note at every log."""
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        def __init__(self) -> None:
            self.progress: StepProgress | None = None

        def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001 - transformers' signature
            if state.is_world_process_zero:
                self.progress = StepProgress(state.max_steps, "train", echo, bar=bar)
                self.progress.done = state.global_step  # a resumed run starts where it stopped

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if self.progress is not None:
                self.progress.advance(state.global_step - self.progress.done)

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if self.progress is None or not logs or "loss" not in logs:
                return
            values = "  ".join(f"{key} {logs[key]:.4g}" for key in keys if isinstance(logs.get(key), int | float))
            self.progress.note(f"step {state.global_step}/{state.max_steps}  {values}")

        def on_train_end(self, args, state, control, **kwargs):  # noqa: ANN001
            if self.progress is not None:
                self.progress.close()

    return ProgressCallback()


def _below_error(record: Any) -> bool:
    return record.levelno >= 40 or verbosity() >= VERBOSE


def filter_noisy_loggers() -> None:
    """Cheap (no imports): hide DeepSpeed's start-up notes ("Setting accelerator to CPU") unless -v. A filter
    on the logger object, because DeepSpeed resets its logger's level when it is imported."""
    import logging

    logger = logging.getLogger("DeepSpeed")
    if _below_error not in logger.filters:
        logger.addFilter(_below_error)


def quiet_third_party() -> None:
    """Unless -v: no transformers/datasets/huggingface_hub progress bars, their warnings and info logs hidden."""
    if verbosity() >= VERBOSE:
        return
    import logging
    import warnings

    for name in ("transformers", "datasets", "huggingface_hub", "accelerate", "DeepSpeed", "torch.distributed"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in ("transformers", "torch", "trl", "peft", "accelerate", "datasets"):
        warnings.filterwarnings("ignore", module=module)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        from datasets.utils.logging import disable_progress_bar

        disable_progress_bar()
    except ImportError:
        pass
