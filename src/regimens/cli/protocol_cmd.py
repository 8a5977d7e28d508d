"""`list`, `show` and `validate`: reading the protocol catalog."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
              help="Site protocol directory. [env: REGIMENS_PROTOCOLS]")
def list_cmd(fmt: str, protocols_dir: str | None) -> None:
    """List the available protocols (shipped and site)."""
    from regimens.cli.pipeline import catalog_of
    from regimens.errors import RegimensError
    from regimens.protocol.summary import list_record

    catalog = catalog_of(protocols_dir)
    records, broken = [], []
    for pid in catalog.ids():
        try:
            records.append(list_record(catalog.load(pid)))
        except RegimensError as exc:  # one broken site file must not hide the others
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            diag = getattr(exc, "diagnostics", None)
            broken.append(f"{pid}: {diag[0] if diag else first}")
    for line in broken:
        click.echo(f"regimens: error: protocol {line} (run `regimens validate` on it)", err=True)
    if fmt == "json":
        import json  # here: `regimens --help` does not pay for it

        click.echo(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        for r in records:
            ids = " / ".join(x for x in (r["nct"], r["group"]) if x)
            click.echo(f"{r['id']:<14} v{r['version']:<7} {ids:<24} arms {','.join(r['arms']):<10} "
                       f"{r['short_title'] or r['title']}")
    if broken:
        raise click.exceptions.Exit(2)


@click.command()
@click.argument("protocol")
@click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
              help="Site protocol directory. [env: REGIMENS_PROTOCOLS]")
@click.option("--sources", "sources", is_flag=True,
              help="Print every source with its full citation and address (shipped bibliography).")
def show(protocol: str, protocols_dir: str | None, sources: bool) -> None:
    """Show a protocol: arms, courses (drug dose route days), decisions, ambiguities, sources."""
    from regimens.cli.pipeline import load_protocol
    from regimens.protocol.summary import show_text, sources_text

    pf = load_protocol(protocol, protocols_dir)
    click.echo(sources_text(pf) if sources else show_text(pf), nl=False)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check protocol files (default: every shipped protocol). One line per problem:
    file:line:col: field.path: message. Exit 0 when all are valid, 2 otherwise."""
    from regimens.errors import ProtocolError
    from regimens.protocol.catalog import shipped_dir
    from regimens.protocol.loader import load_path

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


