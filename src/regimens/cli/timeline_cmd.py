"""`timeline`: the dated dose-event timeline as a table, JSON or CSV."""

from __future__ import annotations

import click

from regimens.cli.options import output_options, patient_options, schedule_options, times_options
from regimens.cli.output import check_writable, emit


@click.command()
@schedule_options
@patient_options
@times_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@output_options
def timeline(fmt: str, output: str | None, force: bool, **params) -> None:
    """Compile a protocol into a dated timeline of dose events.

    PROTOCOL is a protocol id (see `regimens list`) or a path to a protocol file.
    """
    from regimens.cli.pipeline import build
    from regimens.exporters import tabular

    check_writable(output, force)
    built = build(params)
    tl = built.timeline
    for w in tl.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    data = {"table": tabular.to_table, "json": tabular.to_json, "csv": tabular.to_csv}[fmt](tl)
    emit(data, output, force)


# Each further command lives in its own module and registers itself on `cli`.
