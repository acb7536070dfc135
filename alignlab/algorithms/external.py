"""`alignlab train external`: another framework's training command, run as a stage of the lifecycle.

    from alignlab.algorithms.external import run_external
    from alignlab.config import load_config
    from alignlab.config.lifecycle import ExternalConfig
    run = run_external(load_config("configs/external/tiny.yaml", ExternalConfig))
    run.summary()["model"]        # the checkpoint folder the command wrote (newest with a config.json)

The command's output streams into `<run>/external.log`; a failing command is one line with its exit code and
the tail of that log (`alignlab.backends.lifecycle.external`).
"""

from __future__ import annotations

from alignlab.backends.lifecycle.base import Echo, run_backend
from alignlab.config.lifecycle import ExternalConfig
from alignlab.runs import Run


def run_external(config: ExternalConfig, *, force: bool = False, echo: Echo = print) -> Run:
    """Run `config.command` and pick up the checkpoint it writes; returns the finished run."""
    return run_backend("external", config, force=force, echo=echo)
