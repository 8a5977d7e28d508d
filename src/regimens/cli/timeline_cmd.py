"""`timeline`: the dated dose-event timeline as a table, JSON or CSV."""

from __future__ import annotations

import click

from regimens.cli.options import output_options, patient_options, schedule_options, times_options, zone_option
from regimens.cli.output import check_writable, emit


@click.command()
@schedule_options
@patient_options
@times_options
@zone_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None,
              help="Default: from the -o extension (.json, .csv), else table.")
@click.option("--wide", is_flag=True,
              help="Table: one line per event however wide (default: wrapped to the terminal's width).")
@output_options
def timeline(fmt: str | None, wide: bool, output: str | None, force: bool, **params) -> None:
    """Compile a protocol into a dated timeline of dose events.

    PROTOCOL is a protocol id (see `regimens list`) or a path to a protocol file. JSON is an
    object: {"format", "timeline": protocol identity, arm, choices, plan revision, measurements
    and warnings, "events": [...]} (docs/cli.md).
    """
    from regimens.cli.pipeline import build
    from regimens.exporters import tabular

    fmt = _format(fmt, None if output == "-" else output)
    if wide and fmt != "table":
        raise click.UsageError(f"--wide is for the table; --format {fmt} always has every field")
    check_writable(output, force)
    built = build(params)
    tl = built.timeline
    for w in tl.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    if fmt == "table":
        width = None if wide or output not in (None, "-") else _terminal_width()
        data = tabular.to_table(tl, width=width)
    else:
        data = {"json": tabular.to_json, "csv": tabular.to_csv}[fmt](tl)
    emit(data, output, force)


def _format(fmt: str | None, output: str | None) -> str:
    from pathlib import Path

    suffix = Path(output).suffix.lower() if output else ""
    implied = {".json": "json", ".csv": "csv", ".txt": "table"}.get(suffix)
    if fmt and implied and fmt != implied:
        raise click.UsageError(f"--format {fmt} contradicts -o {output}; give -o with a matching name or leave --format out")
    return fmt or implied or "table"


def _terminal_width() -> int | None:
    """The terminal's width when standard output is one; None (no wrapping) for a pipe or file."""
    import shutil
    import sys

    if not sys.stdout.isatty():
        return None
    return max(60, shutil.get_terminal_size((100, 24)).columns)


# Each further command lives in its own module and registers itself on `cli`.
