"""`alignlab annotate`: the Argilla annotation workspace (thin wrappers over `alignlab.annotation`).

    alignlab annotate install                      # the server's own environment (once; CI's setup step)
    alignlab annotate up [--config C] [k=v ...]    # start a local Argilla server (health-checked)
    alignlab annotate status | down
    alignlab annotate connect https://argilla.example.org     # or use an existing deployment
    alignlab annotate push --config configs/annotate/pairwise.yaml
    alignlab annotate pull --config configs/annotate/pairwise.yaml

Only typer is imported here: `alignlab --help` must not import argilla, requests or the server code.
"""

from __future__ import annotations

from pathlib import Path

import typer

from alignlab.cli._common import overrides_argument

app = typer.Typer(help="Run the Argilla annotation workspace and sync preference data with it.",
                  no_args_is_help=True)

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="Annotate config YAML (default: built-in defaults).")


def _config(config: Path | None, overrides: list[str] | None):
    from alignlab.config import load_config
    from alignlab.config.annotate import AnnotateConfig

    return load_config(config, AnnotateConfig, overrides or [])


@app.command("install")
def install(config: Path | None = CONFIG_OPTION, overrides: list[str] = overrides_argument()) -> None:
    """Create the Argilla server's virtual environment (cached; a no-op when it is up to date)."""
    from alignlab.annotation.server.launcher import install_server

    python = install_server(_config(config, overrides).server, echo=typer.echo)
    typer.echo(f"Argilla server environment ready: {python.parent.parent}")


@app.command("up")
def up(config: Path | None = CONFIG_OPTION, overrides: list[str] = overrides_argument()) -> None:
    """Start the local Argilla server (Redis, worker, server) and wait until it is healthy."""
    from alignlab.annotation.server.launcher import up as start
    from alignlab.annotation.state import Credentials, Paths

    resolved = _config(config, overrides)
    status = start(resolved.server, echo=typer.echo)
    for line in status.lines():
        typer.echo(line)
    credentials = Credentials(resolved.server, Paths.of(resolved.server))
    owner = credentials.owner()
    typer.echo(f"owner: {owner.username} (API key: {owner.key_source}; web-UI password: "
               f"${resolved.server.password_env} or {credentials.path})")


@app.command("down")
def down(config: Path | None = CONFIG_OPTION, overrides: list[str] = overrides_argument()) -> None:
    """Stop the processes `annotate up` started (data is kept)."""
    from alignlab.annotation.server.launcher import down as stop

    stopped = stop(_config(config, overrides).server)
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command("status")
def status(config: Path | None = CONFIG_OPTION, overrides: list[str] = overrides_argument()) -> None:
    """Show whether the server answers and which of its processes run; exit 1 when it does not answer."""
    from alignlab.annotation.server.launcher import status as current

    result = current(_config(config, overrides).server, echo=typer.echo)
    for line in result.lines():
        typer.echo(line)
    if not result.healthy:
        raise typer.Exit(1)


@app.command("connect")
def connect(
    url: str = typer.Argument(None, help="Base URL of an Argilla 2.x server, e.g. https://argilla.example.org."),
    local: bool = typer.Option(False, "--local", help="Forget the connection: use the local server again."),
    config: Path | None = CONFIG_OPTION,
    overrides: list[str] = overrides_argument(),
) -> None:
    """Use an existing Argilla deployment (API key from the environment) instead of a local server."""
    from alignlab.annotation.connect import connect as attach
    from alignlab.annotation.connect import forget

    if url and "=" in url and not url.startswith(("http://", "https://")):
        overrides, url = [url, *(overrides or [])], None  # `connect --local key=value`: no URL was given
    resolved = _config(config, overrides)
    if local or not url:
        forget(resolved.server)
        typer.echo("using the local server (`alignlab annotate up`)")
        return
    for line in attach(resolved.server, url):
        typer.echo(line)


@app.command("push")
def push(config: Path | None = CONFIG_OPTION, overrides: list[str] = overrides_argument()) -> None:
    """Create or update the dataset from the template and send the records (idempotent, resumable)."""
    from alignlab.annotation.push import push as send

    for line in send(_config(config, overrides), echo=typer.echo).lines():
        typer.echo(line)


@app.command("pull")
def pull(config: Path | None = CONFIG_OPTION, overrides: list[str] = overrides_argument()) -> None:
    """Turn submitted answers into preference data with agreement statistics (resumable)."""
    from alignlab.annotation.pull import pull as fetch

    for line in fetch(_config(config, overrides), echo=typer.echo).lines():
        typer.echo(line)
