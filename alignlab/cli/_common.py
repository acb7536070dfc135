"""Helpers shared by the CLI modules: error printing and the `key=value` override argument."""

from __future__ import annotations

import sys

import typer

OVERRIDES_HELP = "Dotted config overrides, e.g. train.lr=1e-4 run.name=exp1."


def print_error(message: str) -> None:
    """Print a one-line error to stderr (no rich markup interpretation of user text)."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def overrides_argument() -> list[str]:
    return typer.Argument(None, help=OVERRIDES_HELP, show_default=False)


def quiet_transformers() -> None:
    """No per-file progress bars in CLI output (this process is ours, so the global switch is fine)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
