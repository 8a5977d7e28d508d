"""`regimens closures generate|show`: site closure files (docs/plans.md, "Clinic closures")."""

from __future__ import annotations

import click

from regimens.cli.output import check_writable, emit, write_atomic
from regimens.errors import RegimensError


@click.group("closures")
def closures_group() -> None:
    """Site closure files: the days a clinic is shut and what happens to a dose that falls on one.

    \b
    regimens closures generate --country GB --subdiv ENG --years 2026-2032 --site "Day unit" -o closures.yaml
    regimens closures show england-and-wales
    regimens plan record plan.yaml --closures closures.yaml --reason "site closures" --by "J Smith"
    """


def _years(text: str) -> range:
    a, _, b = text.partition("-")
    try:
        first, last = int(a), int(b or a)
    except ValueError:
        raise RegimensError(f"--years {text!r}: give YYYY or YYYY-YYYY (e.g. 2026-2032)") from None
    if not (1900 < first <= last < 2200) or last - first > 30:
        raise RegimensError(f"--years {text!r}: give a range of at most 30 years, first year first")
    return range(first, last + 1)


@closures_group.command("generate")
@click.option("--country", required=True, metavar="CODE", help="ISO 3166 country code (GB, US, FR, ...).")
@click.option("--subdiv", metavar="CODE", help="Subdivision, e.g. ENG (England and Wales bank holidays), SCT, NY.")
@click.option("--years", required=True, metavar="YYYY-YYYY", help="Years to include.")
@click.option("--site", required=True, metavar="NAME", help="The site or unit the file is for.")
@click.option("--closed-weekday", "weekdays", multiple=True,
              type=click.Choice(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]),
              help="A weekday the unit is shut every week. Repeatable.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write (default: stdout).")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def closures_generate(country: str, subdiv: str | None, years: str, site: str, weekdays: tuple[str, ...],
                      output: str | None, force: bool) -> None:
    """Write a closures file of public holidays from the maintained `holidays` library."""
    from regimens.plans.closures import generate

    yrs = _years(years)
    how = (f"regimens closures generate --country {country}" + (f" --subdiv {subdiv}" if subdiv else "")
           + f" --years {yrs.start}-{yrs.stop - 1} --site {site!r}"
           + "".join(f" --closed-weekday {w}" for w in weekdays))
    text = generate(country.upper(), yrs, site, subdiv=subdiv.upper() if subdiv else None, made_by=how,
                    closed_weekdays=weekdays)
    if output:
        check_writable(output, force)
        write_atomic(output, text.encode("utf-8"), force=force)
        click.echo(f"wrote {output}", err=True)
    else:
        emit(text.encode("utf-8"), None, False)


@closures_group.command("show")
@click.argument("closures")
@click.option("--year", type=int, help="Only this year's dates.")
def closures_show(closures: str, year: int | None) -> None:
    """List a closures file's dates, periods, weekdays and policy (a file or a shipped name)."""
    from regimens.plans.closures import read_named

    c = read_named(closures)
    lines = [f"{c.site} (sha256 {c.content_hash[:12]})", f"Made by: {c.made_by}"]
    if c.closed_weekdays:
        lines.append("Closed every week: " + ", ".join(c.closed_weekdays))
    lines.append("Policy: " + ", ".join(f"{k} {v}" for k, v in c.policy.items()))
    for d in c.dates:
        if year is None or d.date.year == year:
            lines.append(f"  {d.date.isoformat()} {d.date:%a}  {d.name}")
    for p in c.periods:
        lines.append(f"  {p.start.isoformat()}..{p.end.isoformat()}  {p.name}")
    emit(("\n".join(lines) + "\n").encode("utf-8"), None, False)
