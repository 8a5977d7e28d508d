"""Option types and shared option groups used by several commands."""

from __future__ import annotations

import re
from datetime import date

import click

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_YEAR, LAST_YEAR = 1900, 2199
"""Dates accepted on the command line and in batch files."""


def parse_date(text: str, what: str = "date") -> date:
    if not _ISO.match(text.strip()):
        raise click.BadParameter(f"{what} {text!r} is not in YYYY-MM-DD form (e.g. 2027-01-04)")
    try:
        d = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{what} {text!r} is not a real date ({exc}); write YYYY-MM-DD") from None
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        # a schedule runs years past its start: near year 9999 it would leave the calendar
        raise click.BadParameter(f"{what} {text!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}; check the year")
    return d


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        return parse_date(value, f"{param.opts[0] if param else 'date'}")


DATE = DateType()


class Measure(click.ParamType):
    """A positive number; `80,5` (a decimal comma) gets the hint to write 80.5."""

    name = "NUMBER"

    def convert(self, value, param, ctx):
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip()
        opt = param.opts[0] if param else "value"
        try:
            return float(text)
        except ValueError:
            pass
        if re.fullmatch(r"\d+,\d+", text):
            self.fail(f"{opt} {text!r}: use a decimal point, not a comma: {text.replace(',', '.')}", param, ctx)
        self.fail(f"{opt} {text!r} is not a number (e.g. 70.5)", param, ctx)


MEASURE = Measure()


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


# --- shell completion (docs/cli.md): protocol ids, arms, decisions and cycle ids ---------------


def _protocol_of(ctx: click.Context):
    """The protocol named on the command line so far, or None (completion never fails loudly)."""
    from regimens.cli.pipeline import catalog_of

    # while an option waits for its value, click leaves the protocol argument in ctx.args
    ref = ctx.params.get("protocol") or next((a for a in ctx.args if not a.startswith("-")), None)
    if not ref:
        return None
    try:
        return catalog_of(ctx.params.get("protocols_dir")).load(ref)
    except Exception:  # noqa: BLE001 - a half-typed command line is not an error
        return None


def complete_protocol(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem

    from regimens.cli.pipeline import catalog_of

    try:
        ids = catalog_of(ctx.params.get("protocols_dir")).ids()
    except Exception:  # noqa: BLE001
        return []
    return [CompletionItem(i) for i in ids if i.startswith(incomplete.lower())]


def complete_arm(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem

    pf = _protocol_of(ctx)
    if pf is None:
        return []
    return [CompletionItem(a.label, help=a.name) for a in pf.protocol.arms
            if a.label.lower().startswith(incomplete.lower())]


def complete_choice(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem

    pf = _protocol_of(ctx)
    if pf is None:
        return []
    out = []
    for name, d in pf.protocol.decisions.items():
        for c in d.choices:
            text = f"{name}={c.value}"
            if text.startswith(incomplete):
                out.append(CompletionItem(text))
    return out


def complete_cycle(ctx, param, incomplete: str):
    from datetime import date

    from click.shell_completion import CompletionItem

    pf = _protocol_of(ctx)
    if pf is None:
        return []
    try:
        from regimens.schedule.compiler import compile as compile_timeline
        from regimens.schedule.request import ScheduleRequest

        tl = compile_timeline(pf, ScheduleRequest(start=ctx.params.get("start") or date(2027, 1, 4),
                                                  arm=ctx.params.get("arm")))
    except Exception:  # noqa: BLE001 - e.g. an arm still to be given
        return []
    return [CompletionItem(c.cycle_id) for c in tl.cycles if c.cycle_id.startswith(incomplete)]


def schedule_options(f):
    """--start, --arm, --choose, --actual-start, --start-at, --protocols, --plan."""
    decorators = [
        click.argument("protocol", required=False, shell_complete=complete_protocol),
        click.option("--start", type=DATE, help="Day 1 of the first element (YYYY-MM-DD)."),
        click.option("--arm", shell_complete=complete_arm,
                     help="Arm or cohort label as the registry gives it (e.g. A, B, 1; any case)."),
        click.option("--choose", "choose", multiple=True, metavar="NAME=VALUE", shell_complete=complete_choice,
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


def _set_quiet(ctx: click.Context, _param, value: bool) -> bool:
    if value:
        ctx.meta["regimens.quiet"] = True
    return value


def output_options(f):
    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                     help="No progress bar and no `wrote FILE` line (errors and warnings still show).")(f)
    f = click.option("--force", is_flag=True, help="Replace an existing output file.")(f)
    f = click.option("-o", "--output", type=click.Path(dir_okay=False),
                     help="Write to this file instead of standard output.")(f)
    return f


def patient_options(f):
    """Measurements for dose calculation, holds, omissions, dose modifications and rounding rules
    (see docs/dosing.md). Patient data: never logged."""
    decorators = [
        click.option("--height", metavar="HEIGHT",
                     help="Height: 175 or 175cm, 1.75m, 69in, 5ft9in (a bare number is cm; with --weight gives BSA)."),
        click.option("--weight", metavar="WEIGHT", help="Weight: 70 or 70kg, 154lb (a bare number is kg)."),
        click.option("--bsa", type=MEASURE, metavar="M2", help="Body surface area in m² (instead of height/weight)."),
        click.option("--age", type=MEASURE, metavar="YEARS", help="Age in years (age-banded doses)."),
        click.option("--bsa-formula", type=click.Choice(["mosteller", "dubois", "haycock", "gehan-george", "boyd"]),
                     default=None, help="BSA formula (default mosteller)."),
        click.option("--bsa-cap", type=MEASURE, metavar="M2", help="Institution BSA cap in m²."),
        click.option("--measured-on", type=DATE, help="Date the measurements were taken."),
        click.option("--confirm-measurements", "confirm_measurements", is_flag=True,
                     help="Use a height/weight far outside the growth reference for the age (needs --reason)."),
        # Holds, omissions and dose modifications (docs/dosing.md, docs/plans.md).
        click.option("--omit", "omit", multiple=True, metavar="SELECTOR",
                     help="Leave doses out: uid, CYCLE_ID, CYCLE_ID:DAY or CYCLE_ID:DAY:DRUG. Repeatable; needs --reason."),
        click.option("--hold", "hold", multiple=True, metavar="SELECTOR",
                     help="Mark doses held (may be given later); selectors as --omit. Repeatable; needs --reason."),
        click.option("--modify", "modify", multiple=True, metavar="DRUG=CHANGE[@CYCLE_ID]",
                     help="Dose modification from a cycle on: DRUG=75%, DRUG=-25%, DRUG=1 mg. Repeatable; needs --reason."),
        click.option("--exceed-cap", "exceed_cap", multiple=True, metavar="DRUG[@CYCLE_ID]",
                     help="Allow doses of DRUG above the protocol's cap (from a cycle on); a --modify never"
                          " does. Repeatable; needs --reason; shown on every output."),
        click.option("--confirm-outside", "confirm_outside", multiple=True, metavar="LIMIT",
                     help="Calculate doses although the patient is outside this eligibility limit of the"
                          " protocol (e.g. weight). Repeatable; needs --reason; every output warns."),
        click.option("--reason", metavar="TEXT", help="Why (for --omit, --hold, --modify, --exceed-cap and --confirm-outside given here; for `plan record`, the reason for every change)."),
        click.option("--rounding", "rounding_path", type=click.Path(dir_okay=False), metavar="FILE",
                     envvar="REGIMENS_ROUNDING",
                     help="Institution dose-rounding rules (YAML; replaces the shipped keys it gives). [env: REGIMENS_ROUNDING]"),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(text: str, option: str):
    """`08:00` → time(8, 0); anything else is one clear error."""
    from datetime import time

    m = _HHMM.match(text.strip())
    if not m:
        raise click.BadParameter(f"{option} {text!r} is not a 24-hour HH:MM time (e.g. 08:00)")
    return time(int(m.group(1)), int(m.group(2)))


def times_options(f):
    """Clinic administration times used where the protocol gives only a day (request.times)."""
    decorators = [
        click.option("--clinic-start", metavar="HH:MM",
                     help="Time of single daily clinic doses and infusion starts (default 09:00)."),
        click.option("--q12h-first", metavar="HH:MM",
                     help="First dose of a q12h series; the next is 12 h later (default 08:00)."),
        click.option("--tid-times", metavar="HH:MM,HH:MM,HH:MM",
                     help="Times of three-times-daily doses (default 08:00,14:00,20:00)."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


def zone_option(f):
    """--tz for outputs without a calendar (timeline, sheet): the clinic's zone, so that the stop
    of an infusion over hours is on the same clock as in the .ics (schedule/timeline.in_zone)."""
    return click.option(
        "--tz", "zone", envvar="REGIMENS_TZ", metavar="AREA/CITY", callback=_zone_callback,
        help="The clinic's time zone (IANA Area/City; env REGIMENS_TZ). An infusion over hours "
             "(mesna over 69 h) stops that many real hours later, an hour off across a daylight-saving "
             "change; without --tz no change is assumed.")(f)


def _zone_callback(ctx, param, value):
    if not value:
        return None
    from regimens.cli.ics_cmd import check_zone

    return check_zone(value)


def administration_times(params: dict):
    """request.AdministrationTimes from --clinic-start/--q12h-first/--tid-times (defaults kept)."""
    from dataclasses import replace
    from types import MappingProxyType

    from regimens.schedule.request import AdministrationTimes

    times = AdministrationTimes()
    if params.get("clinic_start"):
        times = replace(times, clinic_start=parse_hhmm(params["clinic_start"], "--clinic-start"))
    if params.get("q12h_first"):
        times = replace(times, q12h_first=parse_hhmm(params["q12h_first"], "--q12h-first"))
    if params.get("tid_times"):
        parts = [p for p in params["tid_times"].split(",")]
        if len(parts) != 3:
            raise click.BadParameter(f"--tid-times {params['tid_times']!r} must be three HH:MM times, e.g. 08:00,14:00,20:00")
        tid = tuple(parse_hhmm(p, "--tid-times") for p in parts)
        if list(tid) != sorted(set(tid)):
            raise click.BadParameter(f"--tid-times {params['tid_times']!r} must be three different times in order")
        times = replace(times, per_day=MappingProxyType({**times.per_day, 3: tid}))
    return times
