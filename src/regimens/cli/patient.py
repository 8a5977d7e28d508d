"""From patient options and a plan file to a plan, a timeline with patient doses, and back.

Used by pipeline.build (every output command) and by `regimens plan`. Reads files; the library
modules (plan, dosing, rounding) stay pure.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from regimens.cli.options import parse_date, parse_pairs
from regimens.dosing.doses import parse_cap_override, parse_modification
from regimens.dosing.measurements import parse_height, parse_weight
from regimens.errors import PlanError, RegimensError, read_text
from regimens.plans.plan import (
    Given,
    Plan,
    PlanCapOverride,
    PlanModification,
    check_protocol,
    kept_measurements,
    load_plan,
    merge,
)
from regimens.protocol.loader import ProtocolFile
from regimens.schedule.timeline import Timeline

if TYPE_CHECKING:  # imported where rules are read: they are validated with pydantic
    from regimens.dosing.rounding import RoundingRules


def read_plan(path: str) -> Plan:
    if not Path(path).exists():
        raise PlanError(f"plan file {path!r} not found; create one with `regimens plan new`")
    return load_plan(read_text(path, f"plan file {path!r}", PlanError), path)


def read_rounding(path: str | None) -> RoundingRules:
    from regimens.dosing.rounding import load_rules  # here: a run without doses never needs pydantic

    if path is None:
        return load_rules()
    return load_rules(read_text(path, f"rounding file {path!r}"), path)


def _reason_for(params: dict[str, Any], option: str, values: tuple[str, ...]) -> str:
    reason = (params.get("reason") or "").strip()
    if values and not reason:
        raise RegimensError(f"{option} {values[0]!r} needs a reason: add --reason TEXT (e.g. --reason 'neutropenia')")
    return reason


def given(params: dict[str, Any]) -> Given:
    """The command line's plan values, parsed; absent options stay None/empty."""
    actual = {k: parse_date(v, f"--actual-start {k}") for k, v in
              parse_pairs(params.get("actual_start") or (), "--actual-start").items()}
    omit, hold, modify, exceed, outside = (tuple(params.get(k) or ()) for k in
                                           ("omit", "hold", "modify", "exceed_cap", "confirm_outside"))
    both = sorted(set(omit) & set(hold))
    if both:
        raise RegimensError(f"--omit and --hold both name {both[0]!r}: a dose is either left out (--omit)"
                            " or held to be given later (--hold); give one")
    reasons = {opt: _reason_for(params, opt, vals) for opt, vals in
               (("--omit", omit), ("--hold", hold), ("--modify", modify), ("--exceed-cap", exceed),
                ("--confirm-outside", outside))}
    height = parse_height(params["height"]) if params.get("height") not in (None, "") else None
    weight = parse_weight(params["weight"]) if params.get("weight") not in (None, "") else None
    mods = []
    for text in modify:
        parse_modification(text, reasons["--modify"])  # refuse a malformed one with its own wording
        drug, _, rest = text.partition("=")
        change, _, cycle = rest.partition("@")
        mods.append(PlanModification(drug=drug.strip().lower(), change=change.strip(),
                                     from_cycle=cycle.strip() or None, reason=reasons["--modify"]))
    return Given(
        start=params.get("start"), arm=params.get("arm"), start_at=params.get("start_at"),
        choices=parse_pairs(params.get("choose") or (), "--choose"), actual_starts=actual,
        omit={s: reasons["--omit"] for s in omit}, hold={s: reasons["--hold"] for s in hold},
        modifications=tuple(mods), cap_overrides=tuple(_overrides(exceed, reasons["--exceed-cap"])),
        confirmed_outside={name.strip().lower(): reasons["--confirm-outside"] for name in outside},
        height_cm=height.value if height else None, weight_kg=weight.value if weight else None,
        height_given=height.given if height and height.converted else None,
        weight_given=weight.given if weight and weight.converted else None,
        confirm_measurements=_confirm_measurements(params), bsa_m2=params.get("bsa"),
        age_years=params.get("age"), measured_on=params.get("measured_on"),
        bsa_formula=params.get("bsa_formula"), bsa_cap=params.get("bsa_cap"),
    )


def _confirm_measurements(params: dict[str, Any]) -> str | None:
    if not params.get("confirm_measurements"):
        return None
    reason = (params.get("reason") or "").strip()
    if not reason:
        raise RegimensError("--confirm-measurements needs a reason: add --reason TEXT"
                            " (e.g. --reason 'weighed twice on the ward scale')")
    return reason


def _overrides(texts: tuple[str, ...], reason: str) -> list[PlanCapOverride]:
    out = []
    for text in texts:
        o = parse_cap_override(text, reason)
        out.append(PlanCapOverride(drug=o.drug, from_cycle=o.from_cycle, reason=o.reason))
    return out


def protocol_ref(params: dict[str, Any], plan: Plan | None) -> str | None:
    if params.get("protocol"):
        return params["protocol"]
    if plan is None:
        return None
    return plan.protocol.file or plan.protocol.id


def effective_plan(params: dict[str, Any], pf: ProtocolFile, plan: Plan | None,
                   plan_name: str | None = None, accept_protocol: bool = False) -> Plan:
    if plan is not None and not accept_protocol:
        check_protocol(plan, pf, plan_name or "plan")
    g = given(params)
    for kept in kept_measurements(plan.measurements if plan else None, g):
        click.echo(f"regimens: note: {kept}", err=True)
    merged = merge(plan, pf, g)
    for note in measurement_notes(merged):
        click.echo(f"regimens: note: {note}", err=True)
    return merged


def measurement_notes(plan: Plan) -> list[str]:
    """What the measurements were read as: a converted unit (`weight 154 lb = 69.85 kg`) and, for
    a child, where each one lies on the growth reference. Printed, never silent."""
    pm = plan.measurements
    if pm is None:
        return []
    out = [f"{label} {given} = {value:g} {unit}" for label, given, value, unit in
           (("height", pm.height_given, pm.height_cm, "cm"), ("weight", pm.weight_given, pm.weight_kg, "kg"))
           if given and value is not None]
    return out + pm.to_measurements().growth_notes()


def timeline_of(pf: ProtocolFile, plan: Plan, rounding: RoundingRules | None = None,
                cumulative: bool = False, **request_extra: Any) -> Timeline:
    """The plan's timeline as the treatment really is (plans/changes.realise: compiled, patient
    doses when it has measurements or modifications, then moves, closures, ceased drugs and
    recorded administrations). `cumulative` adds the lifetime-dose lines the pharmacist sheet
    prints (for a plan read from a file)."""
    from regimens.plans.changes import realise

    # the shipped rounding rules are read only when a dose is calculated (plans/changes.compiled)
    tl, _ = realise(pf, plan, rounding, **request_extra)
    if cumulative:  # imported here: only staff sheets of a saved plan print these lines
        from regimens.plans.cumulative import sheet_lines

        tl = replace(tl, warnings=(*tl.warnings, *sheet_lines(tl, plan)))
    return tl
