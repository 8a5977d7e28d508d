"""`regimens plan`: create a patient plan, show it, preview a change, record it (docs/plans.md).

Plan files hold patient measurements: written atomically with owner-only permissions (0600).
"""

from __future__ import annotations

import json
import re

import click

from regimens.cli.options import DATE, patient_options, schedule_options
from regimens.cli.output import check_writable, emit, write_atomic
from regimens.errors import RegimensError

PLAN_MODE = 0o600


@click.group("plan")
def plan_group() -> None:
    """Patient plans: measurements, choices, actual starts, holds and dose modifications kept in
    one YAML file so the calendar can be regenerated and kept true (docs/plans.md).

    \b
    regimens plan new nct03114865 --start 2027-01-04 --height 180 --weight 80 -o plan.yaml
    regimens plan show plan.yaml
    regimens plan preview plan.yaml --actual-start maintenance.c2=2027-02-22
    regimens plan record plan.yaml --actual-start maintenance.c2=2027-02-22 --reason "counts low" --by "A Pharmacist"
    regimens timeline --plan plan.yaml
    """


def change_options(f):
    """What `plan preview` and `plan record` can change, besides the patient options."""
    decorators = [
        click.argument("plan_file", type=click.Path(dir_okay=False)),
        click.option("--start", type=DATE, help="New day 1 of the first element."),
        click.option("--arm", help="Arm or cohort label."),
        click.option("--choose", "choose", multiple=True, metavar="NAME=VALUE", help="A decision. Repeatable."),
        click.option("--actual-start", "actual_start", multiple=True, metavar="CYCLE_ID=YYYY-MM-DD",
                     help="Actual day 1 of a cycle; later cycles move with it. Repeatable."),
        click.option("--start-at", "start_at", metavar="ELEMENT", help="Begin the timeline at this element."),
        click.option("--accept-protocol", is_flag=True,
                     help="The protocol changed since the plan was made: use the current one (recorded as a new revision)."),
        click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
                     help="Site protocol directory. [env: REGIMENS_PROTOCOLS]"),
        click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True),
        click.option("--detail", is_flag=True, help="List every moved event, not one line per cycle."),
        # treatment as it really happens (plans/changes.py)
        click.option("--move", "move", multiple=True, metavar="SELECTOR=DATE[THH:MM]",
                     help="Move a dose or a treatment day (CYCLE_ID.dDAY, CYCLE_ID:DAY[:DRUG][#N] or a uid)."),
        click.option("--mode", type=click.Choice(["dose", "cycle", "later"]),
                     help="With --move: only it (dose), it and the rest of its cycle (cycle), or it and everything"
                          " after (later). Preview without --mode shows all three."),
        click.option("--cease", metavar="DRUG|all", help="Stop a drug (or all treatment) from --cease-from."),
        click.option("--cease-from", "cease_from", type=DATE, help="First date the ceased drug is not given."),
        click.option("--cease-why", "cease_why",
                     type=click.Choice(["completed", "toxicity", "progression", "patient-choice", "transfer", "other"])),
        click.option("--resume", "resume", metavar="SELECTOR=DATE",
                     help="Lift a hold: a held cycle starts on DATE, a held day or dose moves to DATE."),
        click.option("--given", "given_sel", metavar="SELECTOR", help="Record a dose as given (one dose: uid or"
                     " CYCLE_ID:DAY:DRUG[#N]); with --given-at, --dose-given, --checked-by."),
        click.option("--given-at", "given_at", metavar="YYYY-MM-DDTHH:MM", help="When the dose was given."),
        click.option("--dose-given", "dose_given", metavar="'AMOUNT UNIT'", help="The dose given, e.g. '600 mg'."),
        click.option("--checked-by", "checked_by", metavar="NAME", help="Second checker of the given dose."),
        click.option("--not-given", "not_given", metavar="SELECTOR", help="Record a dose as not given (with --reason)."),
        click.option("--prior", "prior", metavar="DRUG=AMOUNT UNIT",
                     help="Exposure before this plan, e.g. 'doxorubicin-equivalent=180 mg/m2' (with --prior-source)."),
        click.option("--prior-source", "prior_source", metavar="TEXT",
                     help="Where the prior figure (and any conversion factor used) comes from."),
        click.option("--closures", "closures_path", metavar="FILE|NAME",
                     help="Site closures file to use from now on, or a shipped example: england-and-wales,"
                          " us-federal (docs/plans.md)."),
        click.option("--limits", "limits_path", envvar="REGIMENS_LIMITS", type=click.Path(dir_okay=False),
                     help="Site lifetime-limit file (default: the shipped one). [env: REGIMENS_LIMITS]"),
        click.option("--override", "override", metavar="'NAME: why'",
                     help="Go ahead with a change that breaks a rule allowing a named override (kept in the plan)."),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


def _summary(plan, tl) -> str:
    doses = sum(1 for e in tl.events if e.patient_dose is not None)
    return (f"{plan.protocol.id} v{plan.protocol.version}, arm {tl.arm}, start {plan.start.isoformat()},"
            f" revision {plan.revision}, {len(tl.events)} events, {doses} patient doses calculated")


@plan_group.command("new")
@schedule_options
@patient_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Plan file to write.")
@click.option("--force", is_flag=True, help="Replace an existing plan file.")
def plan_new(output: str, force: bool, **params) -> None:
    """Create a plan file from the same options as `timeline` (written with mode 0600)."""
    from regimens.cli.patient import given, read_rounding, timeline_of
    from regimens.cli.pipeline import load_protocol
    from regimens.plans.plan import dump_plan, merge

    if params.get("plan_path"):
        raise RegimensError("plan new starts a plan from options; to change an existing plan use"
                            " `regimens plan record PLAN ...`")
    check_writable(output, force)
    pf = load_protocol(params.get("protocol"), params.get("protocols_dir"))
    plan = merge(None, pf, given(params))
    tl = timeline_of(pf, plan, read_rounding(params.get("rounding_path")))  # refuse now what would fail later
    # the arm and every decision are written out, defaults included, so the plan says what was used;
    # the random id (made here: the library never makes randomness) keeps this patient's calendar
    # UIDs apart from every other patient's and the same through every revision (docs/ics.md)
    import secrets  # here, not at the top: `regimens --help` stays fast

    plan = plan.model_copy(update={"arm": tl.arm, "choices": dict(tl.choices), "id": secrets.token_hex(16)})
    for w in tl.warnings:
        click.echo(f"regimens: warning: {w}", err=True)
    write_atomic(output, dump_plan(plan), force=force, mode=PLAN_MODE)
    click.echo(f"wrote {output}: {_summary(plan, tl)}", err=True)


@plan_group.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option("--protocols", "protocols_dir", envvar="REGIMENS_PROTOCOLS", type=click.Path(file_okay=False),
              help="Site protocol directory. [env: REGIMENS_PROTOCOLS]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--history", is_flag=True,
              help="List every recorded change: revision, date, person, what and why, with each move, cease,"
                   " administration, prior exposure and override.")
def plan_show(plan_file: str, protocols_dir: str | None, fmt: str, history: bool) -> None:
    """Show a plan: protocol (and whether it changed since), choices, measurements, changes."""
    from regimens.cli.patient import read_plan
    from regimens.cli.pipeline import load_protocol
    from regimens.plans.plan import check_protocol

    plan = read_plan(plan_file)
    try:
        pf = load_protocol(plan.protocol.file or plan.protocol.id, protocols_dir)
        check_protocol(plan, pf, plan_file)
        status = f"matches the current protocol file ({pf.path})"
    except RegimensError as exc:
        status = f"PROBLEM: {exc}"
    if fmt == "json":
        data = {"plan": plan.model_dump(mode="json", by_alias=True), "protocol_status": status}
        if plan.measurements:
            m = plan.measurements.to_measurements()
            data["bsa_m2"] = m.bsa
            data["bsa_used_m2"] = m.bsa_used
        import json  # here: `regimens --help` does not pay for it

        emit((json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(), None, False)
        return
    if history:
        click.echo(_history_text(plan), nl=False)
        return
    click.echo(_show_text(plan, status), nl=False)


def _history_text(plan) -> str:
    """The plan's audit trail: what each revision changed, who and why, then the records."""
    from regimens.notation.ismp import format_dose, format_number

    lines = [f"History of the plan for {plan.protocol.id} (revision {plan.revision})",
             "  revision 1: plan created"]
    for h in plan.history:
        on = f" {h.recorded_on.isoformat()}" if h.recorded_on else ""
        lines.append(f"  revision {h.revision}{on} by {h.by or '(not recorded)'}: {h.note}"
                     f" — reason: {h.reason or '(not recorded)'}")
    if plan.moves:
        lines.append("Moves (in the order applied):")
        lines += [f"  {m.target} → {m.to.isoformat()}{' ' + m.at if m.at else ''} (mode {m.mode}) by {m.by}: {m.reason}"
                  + (f"; OVERRIDE {m.override}" if m.override else "") for m in plan.moves]
    if plan.ceased:
        lines.append("Ceased:")
        lines += [f"  {c.drug or 'all treatment'} from {c.from_date.isoformat()} ({c.why}) by {c.by}: {c.reason}"
                  for c in plan.ceased]
    if plan.administrations:
        lines.append("Administrations recorded:")
        for a in plan.administrations:
            if a.given:
                dose = format_dose(a.dose, a.unit) if a.dose is not None and a.unit else "dose not recorded"
                chk = f", checked by {a.checked_by}" if a.checked_by else ", no second check"
                lines.append(f"  {a.uid}: given {a.at:%Y-%m-%d %H:%M} {dose} by {a.by}{chk}")
            else:
                lines.append(f"  {a.uid}: NOT given ({a.reason}) recorded by {a.by}")
    if plan.prior_exposure:
        lines.append("Prior exposure:")
        lines += [f"  {x.drug} {format_number(x.amount)} {x.unit} (source: {x.source}) entered by {x.by}"
                  for x in plan.prior_exposure]
    if plan.closures:
        c = plan.closures
        lines.append(f"Closures: {c.site} (sha256 {c.content_hash[:12]}; {c.made_by})")
    if plan.overrides:
        lines.append("Overrides:")
        lines += [f"  {o.rule}: {o.name} (recorded by {o.by})" for o in plan.overrides]
    return ismp_text("\n".join(lines)) + "\n"


def ismp_text(text: str) -> str:
    from regimens.notation.ismp import ismp_clean

    return ismp_clean(text)


def _show_text(plan, status: str) -> str:
    from regimens.notation.ismp import format_number as n

    p = plan.protocol
    lines = [f"Plan for {p.id} v{p.version} (sha256 {p.content_hash[:12]}), revision {plan.revision}",
             f"Protocol: {status}",
             f"Arm: {plan.arm or '(the protocol default)'}",
             f"Start: {plan.start.isoformat()}" + (f", from {plan.start_at}" if plan.start_at else "")]
    if plan.choices:
        lines.append("Choices: " + ", ".join(f"{k}={v}" for k, v in plan.choices.items()))
    if plan.measurements:
        m = plan.measurements
        meas = m.to_measurements()
        parts = [f"{label} {n(v)} {unit}" for label, v, unit in (
            ("height", m.height_cm, "cm"), ("weight", m.weight_kg, "kg"), ("age", m.age_years, "years"))
            if v is not None]
        if meas.bsa is not None:
            parts.append(meas.bsa_text())
        if m.bsa_cap is not None:
            parts.append(f"institution BSA cap {n(m.bsa_cap)} m²")
        when = f" (measured {m.measured_on.isoformat()})" if m.measured_on else " (date measured not recorded)"
        lines.append("Measurements: " + "; ".join(parts) + (when if meas.bsa is None else ""))
    else:
        lines.append("Measurements: none (protocol doses only)")
    for cid, d in plan.actual_starts.items():
        lines.append(f"Actual start: {cid} = {d.isoformat()}")
    for label, table in (("Omitted", plan.omit), ("Held", plan.hold)):
        for sel, why in table.items():
            lines.append(f"{label}: {sel} ({why})")
    for mod in plan.modifications:
        lines.append(f"Modification: {mod.to_modification().describe()}")
    for m in plan.moves:
        lines.append(f"Moved: {m.target} → {m.to.isoformat()} (mode {m.mode}; {m.reason})")
    for c in plan.ceased:
        lines.append(f"Ceased: {c.drug or 'all treatment'} from {c.from_date.isoformat()} ({c.why}: {c.reason})")
    if plan.administrations:
        n = sum(1 for a in plan.administrations if a.given)
        lines.append(f"Administrations recorded: {n} given, {len(plan.administrations) - n} not given")
    for x in plan.prior_exposure:
        lines.append(f"Prior exposure: {x.drug} {x.amount:g} {x.unit} ({x.source})")
    if plan.closures:
        lines.append(f"Closures: {plan.closures.site}")
    for o in plan.overrides:
        lines.append(f"Override: {o.rule}: {o.name}")
    for o in plan.cap_overrides:
        lines.append(f"DOSE ABOVE CAP ALLOWED: {o.to_override().describe()}")
    for name, why in plan.confirmed_outside.items():
        lines.append(f"OUTSIDE ELIGIBILITY CONFIRMED: {name}, reason: {why}")
    if plan.history:
        lines.append("History:")
        for h in plan.history:
            on = f" {h.recorded_on.isoformat()}" if h.recorded_on else ""
            who = f" by {h.by}" if h.by else ""
            why = f" — {h.reason}" if h.reason else ""
            lines.append(f"  revision {h.revision}{on}{who}: {h.note}{why}")
    return "\n".join(lines) + "\n"


def _changes(params: dict, by: str, mode: str | None, preview_only: bool = False) -> list:
    """The command line's treatment changes, parsed (plans/changes.py types). A preview needs no
    reason or person (nothing is written); `plan record` refuses without them."""
    from datetime import datetime

    from regimens.cli.options import parse_date
    from regimens.plans.changes import Administered, Cease, Move, Prior, Resume

    reason = (params.get("reason") or "").strip() or ("reason not given yet" if preview_only else "")
    out: list = []
    for text in params.get("move") or ():
        sel, eq, when = text.partition("=")
        if not eq or not sel.strip():
            raise RegimensError(f"--move {text!r}: give SELECTOR=YYYY-MM-DD (e.g. intensive.c2.d8=2027-02-02)")
        day, _, hhmm = when.strip().partition("T")
        if hhmm and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", hhmm):
            raise RegimensError(f"--move {text!r}: the time must be HH:MM, 00:00 to 23:59 (e.g. =2027-02-02T10:00)")
        out.append(Move(sel.strip(), parse_date(day, f"--move {sel}"), hhmm or None, mode or "dose", reason, by,
                        params.get("override")))
    if params.get("cease"):
        if not params.get("cease_from") or not params.get("cease_why"):
            raise RegimensError("--cease needs --cease-from YYYY-MM-DD and --cease-why (completed, toxicity,"
                                " progression, patient-choice, transfer, other)")
        drug = params["cease"].strip().lower()
        out.append(Cease(None if drug == "all" else drug, params["cease_from"], params["cease_why"], reason, by))
    if params.get("resume"):
        sel, eq, when = params["resume"].partition("=")
        if not eq:
            raise RegimensError(f"--resume {params['resume']!r}: give SELECTOR=YYYY-MM-DD (the new start)")
        out.append(Resume(sel.strip(), parse_date(when.strip(), f"--resume {sel}"), reason, by, mode or "dose"))
    if params.get("given_sel"):
        at = None
        if params.get("given_at"):
            try:
                at = datetime.fromisoformat(params["given_at"])
            except ValueError:
                raise RegimensError(f"--given-at {params['given_at']!r}: give YYYY-MM-DDTHH:MM") from None
        amount, unit = _amount(params.get("dose_given"), "--dose-given")
        out.append(Administered(params["given_sel"], True, at, amount, unit, by, params.get("checked_by"),
                                reason or None))
    if params.get("not_given"):
        out.append(Administered(params["not_given"], False, None, None, None, by, None, reason))
    if params.get("prior"):
        drug, eq, rest = params["prior"].partition("=")
        amount, unit = _amount(rest, "--prior")
        if not eq or amount is None:
            raise RegimensError("--prior: give DRUG=AMOUNT UNIT (e.g. 'doxorubicin-equivalent=180 mg/m2')")
        out.append(Prior(drug, amount, unit, params.get("prior_source") or "", by))
    return out


def _amount(text: str | None, option: str) -> tuple[float | None, str | None]:
    if not text:
        return None, None
    parts = text.replace(",", ".", 1).split() if text.count(",") == 1 and "." not in text else text.split()
    try:
        value = float(parts[0])
    except (ValueError, IndexError):
        raise RegimensError(f"{option} {text!r}: give an amount and a unit, e.g. '600 mg'") from None
    unit = parts[1] if len(parts) > 1 else None
    if unit not in ("mg", "mg/m2", "mcg", "g", "units", "units/m2", "mL"):
        raise RegimensError(f"{option} {text!r}: the unit must be one of mg, mg/m2, mcg, g, units, units/m2, mL")
    return value, unit


def _preview(params: dict, by: str | None = None, mode: str | None = None):
    """(saved plan, Outcome) for the options' change."""

    from regimens.cli.patient import effective_plan, read_plan, read_rounding
    from regimens.cli.pipeline import load_protocol
    from regimens.plans.changes import preview
    from regimens.plans.closures import read_named
    from regimens.plans.cumulative import load_limits
    from regimens.plans.plan import accept_protocol, check_protocol

    path = params["plan_file"]
    saved = read_plan(path)
    pf = load_protocol(saved.protocol.file or saved.protocol.id, params.get("protocols_dir"))
    accept = params.get("accept_protocol", False)
    if not accept:
        check_protocol(saved, pf, path)
    rounding = read_rounding(params.get("rounding_path"))
    new = effective_plan(params, pf, saved, path, accept_protocol=True)
    if accept:
        new = accept_protocol(new, pf)
    if params.get("closures_path"):
        new = new.model_copy(update={"closures": read_named(params["closures_path"])})
    limits = load_limits(_read(params["limits_path"], "limits"), params["limits_path"]) \
        if params.get("limits_path") else None
    changes = _changes(params, by or "not recorded yet", mode, preview_only=by is None)
    return saved, preview(pf, new, changes, rounding, base=saved, limits=limits, override=params.get("override"),
                          by=by), changes


def _read(path: str, what: str) -> str:
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegimensError(f"cannot read {what} file {path!r}: {getattr(exc, 'strerror', None) or exc}") from None


def _emit_preview(params, saved, outcome, written: bool, heading: str | None = None) -> None:
    from regimens.notation.ismp import ismp_clean
    from regimens.plans.closures import report_lines
    from regimens.plans.diff import to_json, to_text

    path = params["plan_file"]
    state = "written" if written else "not written; `regimens plan record` with the same options writes it"
    head = heading or f"{path}: revision {saved.revision} → {saved.revision + 1} ({state})"
    if params["fmt"] == "json":
        header = {"plan": path, "revision": saved.revision, "new_revision": saved.revision + 1,
                  "written": written, "protocol": outcome.plan.protocol.id, "mode": params.get("mode"),
                  "closures": outcome.closures_changed.to_dict(),
                  "closures_in_force": outcome.closures.to_dict(), "cumulative": [
                      w for w in outcome.warnings if w.startswith("Cumulative ")]}
        emit(to_json(outcome.preview, header), None, False)
    else:
        text = to_text(outcome.preview, head, detail=params.get("detail", False)).decode("utf-8")
        extra = report_lines(outcome.closures_changed, detail=params.get("detail", False))
        extra += [w for w in outcome.warnings if w.startswith("Cumulative ")]
        if extra:
            text += ismp_clean("\n".join(extra)) + "\n"
        emit(text.encode("utf-8"), None, False)
    for w in outcome.warnings:
        if not w.startswith("Cumulative "):
            click.echo(f"regimens: warning: {w}", err=True)


@plan_group.command("preview")
@change_options
@patient_options
def plan_preview(**params) -> None:
    """Show what a change would move (which events, by how many days, which stay) without writing.
    A --move without --mode shows the result of each mode (dose, cycle, later)."""
    from regimens.plans.changes import ChangeRefused

    if params.get("move") and not params.get("mode") and params["fmt"] == "text":
        for mode in ("dose", "cycle", "later"):
            title = {"dose": "only the dose or day named", "cycle": "it and the rest of its cycle",
                     "later": "it and everything after it"}[mode]
            try:
                saved, outcome, _ = _preview(params, mode=mode)
            except ChangeRefused as exc:
                click.echo(f"--mode {mode} ({title}): {exc}\n")
                continue
            _emit_preview(params, saved, outcome, written=False,
                          heading=f"--mode {mode} ({title}): revision {saved.revision} → {saved.revision + 1}"
                                  " (not written)")
            click.echo("")
        return
    saved, outcome, _ = _preview(params, mode=params.get("mode"))
    _emit_preview(params, saved, outcome, written=False)


@plan_group.command("record")
@change_options
@patient_options
@click.option("--by", "by", envvar="REGIMENS_BY", metavar="NAME",
              help="Who records the change (kept in the plan's history). [env: REGIMENS_BY]")
@click.option("--note", metavar="TEXT", help="Same as --reason: why (kept in the plan's history).")
def plan_record(note: str | None, by: str | None, **params) -> None:
    """Apply a change to the plan and write it as the next revision (shows the same preview)."""
    from regimens.cli.patient import given
    from regimens.cli.pipeline import generated_at
    from regimens.plans.changes import describe
    from regimens.plans.plan import describe_given, dump_plan, kept_measurements, next_revision, same_content

    reason = " — ".join(x.strip() for x in (params.get("reason"), note) if x and x.strip())
    params = {**params, "reason": reason}
    if not (by or "").strip():
        raise RegimensError("plan record needs the person recording the change: add --by NAME"
                            " (or set REGIMENS_BY)")
    if params.get("move") and not params.get("mode"):
        raise RegimensError("--move needs --mode dose, cycle or later (`plan preview` without --mode shows each)")
    saved, outcome, changes = _preview(params, by=by.strip(), mode=params.get("mode"))
    new = outcome.plan
    g = given(params)
    accepted = new.protocol if params.get("accept_protocol") else None
    if same_content(saved, new):
        raise RegimensError("nothing to record: the plan already says this (no date, status, dose or"
                            " value changes); give a change (e.g. --actual-start CYCLE_ID=YYYY-MM-DD,"
                            " --hold, --modify, new measurements) or --accept-protocol")
    if not reason:
        raise RegimensError("plan record needs the reason for the change: add --reason TEXT"
                            " (e.g. --reason 'neutrophils 0.6')")
    what = "; ".join(x for x in (describe_given(g, accepted) if g.changes_anything() or accepted else "",
                                 describe(changes)) if x)
    if params.get("closures_path") and new.closures is not None:
        what = "; ".join(x for x in (what, f"closures {new.closures.site} (sha256 {new.closures.content_hash[:12]})") if x)
    if params.get("override"):
        what += f"; override: {params['override']}"
    kept = [k.split(";")[0] for k in kept_measurements(saved.measurements, g)]
    if kept:
        what += f" ({', '.join(kept)})"
    final = next_revision(new, what or "no change", generated_at().date(), reason=reason, by=by.strip())
    from regimens.cli.plan_store import write_revision

    write_revision(params["plan_file"], saved, dump_plan(final))
    _emit_preview(params, saved, outcome, written=True)
