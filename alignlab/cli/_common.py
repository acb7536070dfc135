"""Helpers shared by the CLI modules: error printing and the `key=value` override argument."""

from __future__ import annotations

import sys

import typer

from alignlab._version import __version__

OVERRIDES_HELP = "Dotted config overrides, e.g. train.lr=1e-4 run.name=exp1."


def print_error(message: str) -> None:
    """Print a one-line error to stderr (no rich markup interpretation of user text)."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def planned_app(name: str, what: str) -> typer.Typer:
    """A sub-app whose commands arrive with a later part of the roadmap; `--help` says what it will hold."""
    sub = typer.Typer(name=name, help=f"{what} (not yet available in this release).", no_args_is_help=True)

    @sub.callback(invoke_without_command=True)
    def _callback(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            print_error(f"`alignlab {name}` has no commands in alignlab {__version__} yet: {what.lower()}.")
            raise typer.Exit(2)

    return sub


def overrides_argument() -> list[str]:
    return typer.Argument(None, help=OVERRIDES_HELP, show_default=False)


def quiet_transformers() -> None:
    """No third-party progress bars, warnings or info logs in CLI output unless `alignlab -v` (this process is
    ours, so the global switches are fine); see `alignlab.utils.progress.quiet_third_party`."""
    from alignlab.utils.progress import quiet_third_party

    quiet_third_party()
