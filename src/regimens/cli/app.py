"""The click command group and the protocol commands: list, show, validate, timeline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from .. import __version__
from .options import output_options, patient_options, schedule_options, times_options
from .output import check_writable, emit


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="regimens")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Turn oncology treatment protocols into per-patient dose schedules.

    \b
    regimens list                      protocols and their arms
    regimens show nct03114865          a protocol in readable form, with decisions and gaps
    regimens timeline nct03114865 --start 2027-01-04
    regimens ics nct03114865 --start 2027-01-04 -o calendar.ics

    Not a substitute for the full protocol: values that no public source gives are shown as
    "dose per full protocol (not public)".
    """


@cli.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
              help="Site protocol directory. [env: REGIMENS_PROTOCOLS]")
def list_cmd(fmt: str, protocols_dir: str | None) -> None:
    """List the available protocols (shipped and site)."""
    from ..catalog import from_env
    from ..summary import list_record

    records = [list_record(pf) for pf in from_env(protocols_dir, dict(os.environ)).load_all()]
    if fmt == "json":
        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
        return
    for r in records:
        ids = " / ".join(x for x in (r["nct"], r["group"]) if x)
        click.echo(f"{r['id']:<14} v{r['version']:<7} {ids:<24} arms {','.join(r['arms']):<10} {r['short_title'] or r['title']}")


@cli.command()
@click.argument("protocol")
@click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
              help="Site protocol directory. [env: REGIMENS_PROTOCOLS]")
def show(protocol: str, protocols_dir: str | None) -> None:
    """Show a protocol: arms, courses (drug dose route days), decisions, ambiguities, sources."""
    from ..summary import show_text
    from .pipeline import load_protocol

    click.echo(show_text(load_protocol(protocol, protocols_dir)), nl=False)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check protocol files (default: every shipped protocol). One line per problem:
    file:line:col: field.path: message. Exit 0 when all are valid, 2 otherwise."""
    from ..catalog import shipped_dir
    from ..errors import ProtocolError
    from ..source import load_path

    files: list[Path] = []
    for p in paths or (str(shipped_dir()),):
        path = Path(p)
        files.extend(sorted(path.glob("*.y*ml")) if path.is_dir() else [path])
    problems: list[str] = []
    for f in files:
        try:
            pf = load_path(f)
            if pf.protocol.id != f.stem:
                problems.append(f"{f}:1:1: id: id {pf.protocol.id!r} differs from the file name {f.stem!r}; rename one")
        except ProtocolError as exc:
            problems.extend(str(d) for d in exc.diagnostics)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        raise click.exceptions.Exit(2)
    click.echo(f"{len(files)} protocol file{'s' if len(files) != 1 else ''} valid")


@cli.command()
@schedule_options
@patient_options
@times_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@output_options
def timeline(fmt: str, output: str | None, force: bool, **params) -> None:
    """Compile a protocol into a dated timeline of dose events.

    PROTOCOL is a protocol id (see `regimens list`) or a path to a protocol file.
    """
    from ..exporters import tabular
    from .pipeline import build

    check_writable(output, force)
    built = build(params)
    tl = built.timeline
    for w in tl.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    data = {"table": tabular.to_table, "json": tabular.to_json, "csv": tabular.to_csv}[fmt](tl)
    emit(data, output, force)


# Each further command lives in its own module and registers itself on `cli`.
from . import batch_cmd, ics_cmd, plan_cmd, sheet_cmd  # noqa: F401
