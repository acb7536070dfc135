"""`alignlab demo`: the main job on embedded defaults."""

import typer


def demo() -> None:
    """Run the demo."""
    typer.echo("demo")
