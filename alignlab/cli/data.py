"""`alignlab data`: validate, audit and convert preference data (thin wrappers over `alignlab.data`).

    alignlab data validate prefs.jsonl [--format pairwise] [--max-chars 100000]
    alignlab data audit prefs.jsonl --out audit/
    alignlab data convert prefs.jsonl train.jsonl --to trl

Problems found in the data go to stdout, one `PATH:LINE: field: reason` line each, then a count line; the
exit status is 1 when there are any. Errors about the command itself (a missing file) are one `error:` line
on stderr, printed by the entry point in `alignlab.cli`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(help="Validate, audit and convert preference data.", no_args_is_help=True)


class DataFormat(StrEnum):
    pairwise = "pairwise"
    ranking = "ranking"
    ratings = "ratings"
    unpaired = "unpaired"


class Target(StrEnum):
    trl = "trl"
    trl_conversational = "trl-conversational"
    jsonl = "jsonl"
    parquet = "parquet"
    csv = "csv"


FORMAT_OPTION = typer.Option(DataFormat.pairwise, "--format", "-f", help="Record format of the input.")
MAX_CHARS_OPTION = typer.Option(100_000, "--max-chars", min=0, help="Longest text a field may hold (0: no limit).")
SPLIT_OPTION = typer.Option(None, "--split", help="Split of a datasets folder or hub dataset, e.g. train.")
FROM_OPTION = typer.Option("auto", "--from", help="Row layout: auto (TRL rows detected row by row), trl (read every "
                           "row as TRL's: implicit prompt, conversational, UltraFeedback), alignlab (as is).")
ATTRIBUTES_OPTION = typer.Option(
    None, "--attributes", help="Ratings: comma-separated attribute names (default: the HelpSteer five)."
)
SCALE_OPTION = typer.Option(None, "--scale", help="Ratings: inclusive score range as MIN,MAX (default 0,4).")


def _limits(max_chars: int, attributes: str | None, scale: str | None) -> dict:
    """Validator limits from the CLI's flat options."""
    from alignlab.errors import DataError

    limits: dict = {"max_chars": max_chars or None}
    if attributes:
        limits["attributes"] = [name.strip() for name in attributes.split(",") if name.strip()]
    if scale:
        try:
            low, high = (float(part) for part in scale.split(","))
        except ValueError:
            raise DataError(f"--scale {scale!r}: expected MIN,MAX, e.g. 0,4") from None
        limits["scale"] = (low, high)
    return limits


@app.command("validate")
def validate(
    path: str = typer.Argument(..., help="JSONL (.gz), CSV, Parquet file, datasets folder or hub name."),
    fmt: DataFormat = FORMAT_OPTION,
    max_chars: int = MAX_CHARS_OPTION,
    max_problems: int = typer.Option(1000, "--max-problems", min=0, help="Problems to print (0: all)."),
    attributes: str | None = ATTRIBUTES_OPTION,
    scale: str | None = SCALE_OPTION,
    split: str | None = SPLIT_OPTION,
    origin: str = FROM_OPTION,
) -> None:
    """Check every row; print one line per kind of problem (count, first lines, fix), exit 1 if any."""
    from alignlab.data.validation import validate_file

    report = validate_file(path, fmt.value, split=split, max_problems=max_problems or None, origin=origin,
                           **_limits(max_chars, attributes, scale))
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@app.command("audit")
def audit(
    path: str = typer.Argument(..., help="Preference data to audit."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for audit.json and audit.html."),
    fmt: DataFormat = FORMAT_OPTION,
    max_chars: int = MAX_CHARS_OPTION,
    attributes: str | None = ATTRIBUTES_OPTION,
    scale: str | None = SCALE_OPTION,
    split: str | None = SPLIT_OPTION,
) -> None:
    """Counts, duplicates, lengths, length/position/label bias, agreement: audit.json + audit.html."""
    from alignlab.data.audit import audit_file, write_audit

    report = audit_file(path, fmt.value, split=split, **_limits(max_chars, attributes, scale))
    written = write_audit(report, out)
    typer.echo(f"audited {path}: {report['valid_rows']:,} valid of {report['rows']:,} rows")
    for verdict in report["verdicts"]:
        typer.echo(f"- {verdict}")
    typer.echo(f"wrote {written['json']} and {written['html']}")


@app.command("convert")
def convert(
    source: str = typer.Argument(..., help="Input file, datasets folder or hub name."),
    output: Path = typer.Argument(..., help="Output file (.jsonl, .jsonl.gz, .parquet or .csv)."),
    to: Target = typer.Option(Target.jsonl, "--to", "-t", help="Output shape: TRL rows or canonical records."),
    fmt: DataFormat = FORMAT_OPTION,
    dedupe: bool = typer.Option(True, "--dedupe/--no-dedupe", help="Drop exact duplicate rows (keep the first)."),
    max_chars: int = MAX_CHARS_OPTION,
    attributes: str | None = ATTRIBUTES_OPTION,
    scale: str | None = SCALE_OPTION,
    split: str | None = SPLIT_OPTION,
    origin: str = FROM_OPTION,
) -> None:
    """Validate while streaming, drop duplicates and write; a bad row stops it and nothing is written."""
    from alignlab.data.convert import convert_file

    summary = convert_file(source, output, to.value, fmt.value, dedupe=dedupe, split=split, origin=origin,
                           **_limits(max_chars, attributes, scale))
    typer.echo(summary.line())
