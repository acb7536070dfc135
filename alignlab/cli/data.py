"""`alignlab data`: validate, audit and convert preference data. (filled in by the data layer)"""

import typer

app = typer.Typer(help="Validate, audit and convert preference data.", no_args_is_help=True)
