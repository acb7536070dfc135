"""The `alignlab` command: a typer app whose sub-apps are thin wrappers over the Python API.

Start-up stays light: this module and the sub-app modules import only typer and rich; anything that pulls in
torch, transformers, pandas or an optional extra is imported inside the command that needs it.
"""

from __future__ import annotations

import sys

import typer

from alignlab._version import __version__
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
from alignlab.cli import rollout as rollout_cli
from alignlab.cli import train as train_cli
from alignlab.cli._common import print_error
from alignlab.errors import AlignlabError

# Documented in README ("Exit codes") and in `alignlab -h`; AlignlabError subclasses carry theirs.
EXIT_CODES = ("Exit codes: 0 success; 1 bad data, a failed check or a run that cannot proceed; 2 usage or "
              "config error; 130 interrupted. Shell completion: alignlab --install-completion.")

app = typer.Typer(
    name="alignlab",
    help="Human feedback to an aligned, evaluated model: preference data, reward models, DPO/KTO/PPO/GRPO, "
    "evaluation suites and reports.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES,
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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only results and errors: no progress output."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also show third-party progress bars, warnings "
                                 "and logs (transformers, datasets, DeepSpeed)."),
) -> None:
    """alignlab command line."""
    from alignlab.utils.progress import NORMAL, QUIET, VERBOSE, filter_noisy_loggers, set_verbosity

    set_verbosity(QUIET if quiet else VERBOSE if verbose else NORMAL)
    filter_noisy_loggers()


app.add_typer(data_cli.app, name="data")
app.add_typer(models_cli.app, name="models")
app.add_typer(config_cli.app, name="config")
app.add_typer(rm_cli.app, name="rm")
app.add_typer(train_cli.app, name="train")
app.add_typer(rollout_cli.app, name="rollout")
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
