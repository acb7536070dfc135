"""The `alignlab` command: a typer app whose sub-apps are thin wrappers over the Python API.

Start-up stays light: this module and the sub-app modules import only typer and rich; anything that pulls in
torch, transformers, pandas or an optional extra is imported inside the command that needs it.
"""

from __future__ import annotations

import sys

import typer

from alignlab import __version__
from alignlab.cli import annotate as annotate_cli
from alignlab.cli import config as config_cli
from alignlab.cli import data as data_cli
from alignlab.cli import demo as demo_cli
from alignlab.cli import eval as eval_cli
from alignlab.cli import launch as launch_cli
from alignlab.cli import models as models_cli
from alignlab.cli import pipeline as pipeline_cli
from alignlab.cli import report as report_cli
from alignlab.cli import rm as rm_cli
from alignlab.cli import train as train_cli
from alignlab.cli._common import print_error
from alignlab.errors import AlignlabError

app = typer.Typer(
    name="alignlab",
    help="Human feedback to an aligned, evaluated model: preference data, reward models, DPO/KTO/PPO/GRPO, "
    "evaluation suites and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alignlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """alignlab command line."""


app.add_typer(data_cli.app, name="data")
app.add_typer(models_cli.app, name="models")
app.add_typer(config_cli.app, name="config")
app.add_typer(rm_cli.app, name="rm")
app.add_typer(train_cli.app, name="train")
app.add_typer(annotate_cli.app, name="annotate")
app.add_typer(eval_cli.app, name="eval")
app.command(name="report")(report_cli.report)
app.add_typer(pipeline_cli.app, name="pipeline")
app.command(name="demo")(demo_cli.demo)
app.command(name="launch", help=launch_cli.HELP,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(launch_cli.launch)


def main() -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit."""
    try:
        app(prog_name="alignlab")
    except AlignlabError as err:
        print_error(str(err))
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
