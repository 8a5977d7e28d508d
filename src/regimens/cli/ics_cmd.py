"""`regimens ics`: the patient's schedule as an iCalendar file (see docs/ics.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from regimens.cli.languages_cmd import LANG_DIR, REVIEWS, note_untranslated, patient_language_of
from regimens.cli.options import output_options, patient_options, schedule_options, times_options
from regimens.errors import RegimensError

TZ_ENV = "REGIMENS_TZ"
AUDIENCES = ("patient", "staff", "minimal")  # = exporters.ics.AUDIENCES (not imported: --help stays fast)
REMIND_KINDS = ("take-home", "clinic", "admission", "lab")  # = exporters.ics.REMIND_KINDS


def local_zone(environ: dict[str, str]) -> str | None:
    """The computer's IANA zone (TZ, /etc/localtime, /etc/timezone), or None when unknown."""
    tz = environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz and not tz.startswith("/"):
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            return target.split("/zoneinfo/", 1)[1]
    except OSError:
        pass
    try:
        with open("/etc/timezone", encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


# Fixed-offset names without daylight saving that people type for a local zone, and the Area/City
# zones they usually mean.
FIXED = {"EST": "America/New_York (or America/Panama, which keeps EST all year)",
         "MST": "America/Denver (or America/Phoenix, which keeps MST all year)",
         "HST": "Pacific/Honolulu", "EST5EDT": "America/New_York", "CST6CDT": "America/Chicago",
         "MST7MDT": "America/Denver", "PST8PDT": "America/Los_Angeles"}
UTC_NAMES = ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu")


def check_zone(name: str, option: str = "--tz") -> str:
    """The IANA Area/City zone given, or one line: a fixed offset (EST) is refused like UTC, and
    a city alone (`chicago`) or a misspelling gets the zone it probably means."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    text = name.strip()
    if text.upper() in FIXED or re.fullmatch(r"(Etc/)?GMT[+-]\d+", text, re.IGNORECASE):
        hint = FIXED.get(text.upper(), "the clinic's Area/City")
        raise RegimensError(f"{option} {text} is a fixed offset from UTC with no daylight saving time, like "
                            f"UTC itself; give the clinic's zone as Area/City: {hint}")
    try:
        ZoneInfo(text)
        if "/" in text or text in UTC_NAMES:
            return text
    except (ZoneInfoNotFoundError, ValueError):
        pass
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    key = text.lower().replace(" ", "_")
    exact = [z for z in zones if z.lower() == key or z.rsplit("/", 1)[1].lower() == key]
    if not exact:
        import difflib

        cities = {z.rsplit("/", 1)[1].lower(): z for z in zones}
        exact = [cities[c] for c in difflib.get_close_matches(key.rsplit("/", 1)[-1], list(cities), n=2, cutoff=0.8)]
    mean = f"; did you mean {option} {' or '.join(exact)}?" if exact else \
        "; give an IANA Area/City name such as America/Chicago or Europe/Berlin"
    raise RegimensError(f"unknown time zone {text!r}{mean}")


def resolve_zone(given: str | None, environ: dict[str, str]) -> tuple[str, str | None]:
    """(zone, note for stderr). A UTC default is refused: clinics are not on UTC, and doses an
    hour or more off are worse than a question."""
    if given:
        return check_zone(given), None
    zone = local_zone(environ)
    if zone is None or zone in UTC_NAMES:
        seen = f"this computer's time zone is {zone}" if zone else "this computer's time zone is unknown"
        raise RegimensError(
            f"{seen}: give the clinic's zone with --tz Area/City (e.g. --tz America/Chicago) or set "
            f"{TZ_ENV}; use --tz UTC only if the clinic really keeps UTC"
        )
    return zone, f"times are in {zone} (this computer's zone); give --tz Area/City if the clinic is elsewhere"


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def part_path(pattern: str, part: str) -> str:
    """`-o cal-{part}.ics` → cal-maintenance.c1.ics; `-o cal.ics` → cal-maintenance.c1.ics."""

    if "{part}" in pattern:
        return pattern.replace("{part}", part)
    p = Path(pattern)
    suffix = p.suffix or ".ics"
    return str(p.with_name(f"{p.stem if p.suffix else p.name}-{part}{suffix}"))


@click.command("ics")
@schedule_options
@patient_options
@times_options
@click.option("--tz", "tz", envvar=TZ_ENV, metavar="AREA/CITY",
              help="Clinic time zone (IANA name). Default: this computer's zone, unless that is UTC. "
                   f"[env: {TZ_ENV}]")
@click.option("--bag-hours", type=click.Choice(["24", "48", "72", "96", "168"]), default="24",
              show_default=True, help="Bag length of continuous infusions (bag-change events).")
@click.option("--reminder", "reminder_minutes", type=click.IntRange(0, 10080), default=30, show_default=True,
              metavar="MINUTES", help="Reminder lead time before a timed take-home (PO) dose.")
@click.option("--all-day-reminder", metavar="HH:MM", default="08:00", show_default=True,
              help="Reminder time on the day of an untimed take-home dose.")
@click.option("--no-reminders", is_flag=True, help="No reminders (VALARM) at all.")
@click.option("--split", type=click.Choice(["phase", "cycle"]),
              help="One calendar per phase or per cycle; -o is a name pattern ({part} is replaced, "
                   "or -PART is added before .ics).")
@click.option("--patient-label", metavar="TEXT",
              help="Name or initials shown in the calendar name (none by default: privacy).")
@click.option("--show-measurements", is_flag=True,
              help="Put height, weight, BSA and the date measured (and the dose working) in each dose's "
                   "description (left out by default: privacy).")
@click.option("--tall-man", "tall_man_path", type=click.Path(dir_okay=False),
              help="Tall-man list (YAML `generic: TALLman` or CSV `generic,TALLman`) replacing the "
                   "built-in US list of verified entries (staff calendars).")
@click.option("--audience", type=click.Choice(AUDIENCES), default="patient", show_default=True,
              help="patient: plain words; staff: clinical wording (tall-man, route codes, sources); "
                   "minimal: no drug names or doses (a shared or lock-screen calendar).")
@click.option("--uid-salt", metavar="TEXT",
              help="Text unique to the patient mixed into every event UID when there is no --plan "
                   "(a plan's own id is used otherwise). Without either, UIDs are derived from the "
                   "protocol, arm and start date.")
@click.option("--location", metavar="TEXT", help='Where clinic appointments are, e.g. "Day unit, 3rd floor".')
@click.option("--phone", metavar="NUMBER", help="The 24-hour number, shown in the calendar and its events.")
@click.option("--remind", metavar="KINDS", default=",".join(REMIND_KINDS), show_default=True,
              help="Which events get a reminder, comma-separated: " + ", ".join(REMIND_KINDS) + ".")
@click.option("--clinic-reminder", "clinic_reminder_minutes", type=click.IntRange(0, 10080), default=60,
              show_default=True, metavar="MINUTES",
              help="Reminder lead time before the first clinic appointment of a day.")
@click.option("--day-before-reminder", metavar="HH:MM", default="18:00", show_default=True,
              help="Reminder time, the evening before, of an all-day lab test, admission or visit.")
@click.option("--language", "language_code", metavar="CODE", envvar="REGIMENS_LANGUAGE",
              help="Patient and minimal wording in the patient's language: es, zh_Hans, vi, ar (see "
                   "`regimens languages`). Staff calendars stay in the site's language.")
@LANG_DIR
@REVIEWS
@output_options
def ics_cmd(output: str | None, force: bool, tz: str | None, bag_hours: str, reminder_minutes: int,
            all_day_reminder: str, no_reminders: bool, split: str | None, patient_label: str | None,
            tall_man_path: str | None, show_measurements: bool, audience: str, uid_salt: str | None,
            location: str | None, phone: str | None, remind: str, clinic_reminder_minutes: int,
            day_before_reminder: str, language_code: str | None, languages_dir: str | None,
            reviews_path: str | None, **params) -> None:
    """Export the schedule as an iCalendar (.ics) file for Google, Apple, Outlook or Thunderbird.

    PROTOCOL is a protocol id (see `regimens list`) or a path to a protocol file. Files larger
    than 1 MB (Google's import limit) are split per phase automatically.
    """
    from regimens.cli.options import parse_hhmm
    from regimens.cli.output import check_writable, emit, write_set
    from regimens.cli.pipeline import build, generated_at
    from regimens.exporters import ics
    from regimens.notation.tallman import load_tall_man

    ctx = click.get_current_context()
    if no_reminders and ctx.get_parameter_source("reminder_minutes") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--no-reminders and --reminder contradict each other; give one")
    if no_reminders and ctx.get_parameter_source("all_day_reminder") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--no-reminders and --all-day-reminder contradict each other; give one")
    if split and not output:
        raise click.UsageError("--split writes several files: give -o with a name pattern, e.g. -o cal-{part}.ics")
    if output and not split:
        check_writable(output, force)
    if language_code and audience == "staff":
        if ctx.get_parameter_source("language_code") == click.core.ParameterSource.ENVIRONMENT:
            language_code = None  # REGIMENS_LANGUAGE set for patient outputs: staff wording stays
        else:
            raise click.UsageError("--language is for --audience patient or minimal: staff calendars stay "
                                   "in the site's language")
    lang = patient_language_of(language_code, languages_dir, reviews_path)
    zone, note = resolve_zone(tz, dict(os.environ))
    kinds = frozenset(k.strip() for k in remind.split(",") if k.strip())
    opts = ics.IcsOptions(
        tz=zone, bag_hours=int(bag_hours), reminders=not no_reminders and bool(kinds),
        reminder_minutes=reminder_minutes, all_day_reminder=parse_hhmm(all_day_reminder, "--all-day-reminder"),
        patient_label=_text(patient_label), measurements=show_measurements,
        tall_man=load_tall_man(tall_man_path) if tall_man_path else None,
        audience=audience, uid_salt=_text(uid_salt), location=_text(location), phone=_text(phone),
        remind=kinds, clinic_reminder_minutes=clinic_reminder_minutes,
        day_before_reminder=parse_hhmm(day_before_reminder, "--day-before-reminder"), language=lang,
    )
    opts.check()
    stamp = generated_at()
    built = build({**params, "zone": zone})  # stop times on the calendar's clock
    tl = built.timeline
    saved = built.extras.get("saved_plan")
    if saved is not None:
        if uid_salt:
            raise RegimensError("--uid-salt is for calendars made without a plan; a plan's UIDs come from its own id")
        if saved.id:
            from dataclasses import replace

            opts = replace(opts, uid_salt=saved.id)
        else:
            click.echo("regimens: note: this plan has no id (made before plan ids existed): event UIDs are "
                       "derived from its start date; two such plans with the same start share UIDs", err=True)
    elif params.get("actual_start") or params.get("omit") or params.get("hold"):
        click.echo("regimens: note: no --plan: SEQUENCE grows with each delay or omission but not when a change "
                   "is taken back; keep changes in a plan (`regimens plan record`) to update calendars safely", err=True)
    if note:
        click.echo(f"regimens: note: {note}", err=True)
    for w in tl.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    if output is None:
        data = ics.to_ics(tl, opts, stamp)
        note_untranslated(lang)
        if len(data) > ics.MAX_BYTES:
            click.echo(f"regimens: warning: the calendar is {len(data) / 1e6:.1f} MB, over Google's 1 MB "
                       "import limit; give -o FILE.ics to have it split per phase", err=True)
        emit(data, None, force)
        return
    files = ics.export(tl, opts, stamp, split=split, max_bytes=ics.MAX_BYTES)
    note_untranslated(lang)
    if len(files) == 1 and files[0][0] is None:
        emit(files[0][1], output, force)
        return
    named = [(part_path(output, k or "all"), data) for k, data in files]
    for path, _ in named:
        check_writable(path, force)
    if len({p for p, _ in named}) != len(named):
        raise RegimensError(f"-o {output!r} gives the same file name to several parts; add {{part}}")
    write_set(named, force)  # all parts or none
    why = f"one per {split}" if split else f"split: one file would exceed {ics.MAX_BYTES / 1e6:g} MB"
    click.echo(f"regimens: wrote {len(named)} calendars ({why}):", err=True)
    for path, data in named:
        big = "  (over 1 MB: a single cycle this large cannot be split further)" if len(data) > ics.MAX_BYTES else ""
        click.echo(f"  {path}  {len(data) / 1000:.0f} kB{big}", err=True)
