"""`alignlab models`: build tiny offline models. (filled in by the models layer)"""

import typer

app = typer.Typer(help="Build and inspect models (tiny offline models for tests and demos).", no_args_is_help=True)
