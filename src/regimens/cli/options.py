"""Option types and shared option groups used by several commands."""

from __future__ import annotations

import re
from datetime import date

import click

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str, what: str = "date") -> date:
    if not _ISO.match(text.strip()):
        raise click.BadParameter(f"{what} {text!r} is not in YYYY-MM-DD form (e.g. 2027-01-04)")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{what} {text!r} is not a real date ({exc}); write YYYY-MM-DD") from None


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        return parse_date(value, f"{param.opts[0] if param else 'date'}")


DATE = DateType()


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"{option} {v!r} must be NAME=VALUE")
        k, _, val = v.partition("=")
        k, val = k.strip(), val.strip()
        if not k or not val:
            raise click.BadParameter(f"{option} {v!r} must be NAME=VALUE")
        if k in out and out[k] != val:
            raise click.BadParameter(f"{option} gives {k!r} twice ({out[k]!r} and {val!r}); give it once")
        out[k] = val
    return out


def schedule_options(f):
    """--start, --arm, --choose, --actual-start, --start-at, --protocols, --plan."""
    decorators = [
        click.argument("protocol", required=False),
        click.option("--start", type=DATE, help="Day 1 of the first element (YYYY-MM-DD)."),
        click.option("--arm", help="Arm or cohort label as the registry gives it (e.g. A, B, 1)."),
        click.option("--choose", "choose", multiple=True, metavar="NAME=VALUE",
                     help="A decision (see `regimens show ID`). Repeatable."),
        click.option("--actual-start", "actual_start", multiple=True, metavar="CYCLE_ID=YYYY-MM-DD",
                     help="Actual day 1 of a cycle; later cycles move with it. Repeatable."),
        click.option("--start-at", "start_at", metavar="ELEMENT",
                     help="Begin the timeline at this element or cycle id (earlier ones left out)."),
        click.option("--plan", "plan_path", type=click.Path(dir_okay=False),
                     help="Patient plan file (see `regimens plan`); options given here override it."),
        click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS",
                     type=click.Path(file_okay=False),
                     help="Site protocol directory; its files override shipped ones with the same id. [env: REGIMENS_PROTOCOLS]"),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


def output_options(f):
    f = click.option("--force", is_flag=True, help="Replace an existing output file.")(f)
    f = click.option("-o", "--output", type=click.Path(dir_okay=False),
                     help="Write to this file instead of standard output.")(f)
    return f


def patient_options(f):
    """Measurements for dose calculation (see docs/dosing.md). Patient data: never logged."""
    decorators = [
        click.option("--height", type=float, metavar="CM", help="Height in cm (with --weight gives BSA)."),
        click.option("--weight", type=float, metavar="KG", help="Weight in kg."),
        click.option("--bsa", type=float, metavar="M2", help="Body surface area in m² (instead of height/weight)."),
        click.option("--age", type=float, metavar="YEARS", help="Age in years (age-banded doses)."),
        click.option("--bsa-formula", type=click.Choice(["mosteller", "dubois", "haycock", "gehan-george", "boyd"]),
                     default=None, help="BSA formula (default mosteller)."),
        click.option("--bsa-cap", type=float, metavar="M2", help="Institution BSA cap in m²."),
        click.option("--measured-on", type=DATE, help="Date the measurements were taken."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f
