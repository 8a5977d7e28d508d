"""Patient doses: resolve_doses(timeline, measurements, modifications, rounding) -> Timeline.

For every administration and premedication the protocol dose is turned into the patient's dose
with its working written out (basis, measurement used, formula with numbers, unrounded value,
band, cap, modification, rounding and the total change), so a pharmacist can redo it on paper.

Order of steps, and why:
  band          the first band whose condition holds replaces the dose (weight or age known);
  basis         flat, × BSA (after the institution BSA cap) or × weight;
  cap           the per-dose maximum of the protocol (vincristine 2 mg) — before a modification,
                because a reduction is a fraction of the dose the patient would otherwise get;
  modification  percentage of that dose, or an absolute dose, from a given cycle on;
  rounding      last, and never beyond the rules' largest change;
  cap again     every path ends at or under the cap: a modification above it (150 %, +50 %, 5 mg)
                or a rounding step up to above it is held at the cap. Only a cap override
                (CapOverride, `--exceed-cap DRUG --reason`) lets a dose above the cap through,
                and then the working, the warnings and every output say so.

Nothing is calculated from a guess: a dose that is not public, or that depends on a weight, age or
BSA that was not given, keeps patient_dose None and its working says why (`unresolved`). This is
a design choice over refusing the whole timeline: the other doses still print, and the timeline's
warnings list what is missing (docs/dosing.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from regimens.dosing import eligibility
from regimens.dosing.bsa import FORMULAS, Measurements
from regimens.errors import RequestError
from regimens.notation.ismp import format_number, format_unit
from regimens.protocol import units
from regimens.protocol.model import Band, Dose
from regimens.schedule.timeline import KIND_ADMINISTRATION, KIND_PREMEDICATION, DoseEvent, DoseWorking, Timeline

if TYPE_CHECKING:  # imported where a dose is rounded: the rules are validated with pydantic
    from regimens.dosing.rounding import RoundingRules

__all__ = ["FORMULAS", "CapOverride", "Measurements", "Modification", "parse_modification", "resolve_doses"]


@dataclass(frozen=True)
class CapOverride:
    """A prescriber's decision to give a dose above the protocol's per-dose cap for one drug, from
    a cycle on. Named separately from a modification on purpose: a percentage or an absolute dose
    never lifts a cap by itself."""

    drug: str
    reason: str
    from_cycle: str | None = None

    def describe(self) -> str:
        start = f" from {self.from_cycle}" if self.from_cycle else ""
        return f"cap override for {self.drug}{start}, reason: {self.reason}"


def parse_cap_override(text: str, reason: str | None) -> CapOverride:
    """`DRUG` or `DRUG@CYCLE_ID` (the `--exceed-cap` option), with its reason."""
    m = re.match(r"^\s*(?P<drug>[a-z][a-z0-9 -]*?)\s*(?:@\s*(?P<cycle>\S+))?\s*$", text or "", re.IGNORECASE)
    if not m:
        raise RequestError(f"--exceed-cap {text!r} is not DRUG or DRUG@CYCLE_ID (e.g. vincristine@intensive.c3)")
    if not reason or not reason.strip():
        raise RequestError(f"--exceed-cap {text!r} needs a reason: add --reason TEXT"
                           " (e.g. --reason 'per treating physician, protocol amendment 3')")
    return CapOverride(m.group("drug").strip().lower(), reason.strip(), m.group("cycle"))


@dataclass(frozen=True)
class Modification:
    """A dose change for one drug from a cycle on. Always relative to the protocol dose (after
    its cap), never to an earlier modification: a later one for the same drug replaces it."""

    drug: str
    reason: str
    percent: float | None = None
    """Give this percentage of the dose (75 = a 25 % reduction; 100 = no change)."""
    value: float | None = None
    unit: str | None = None
    """Absolute dose: in the patient unit (`1 mg`: the dose given) or in the written unit
    (`750 mg/m2`: replaces the protocol value, then BSA/weight, cap and rounding apply)."""
    from_cycle: str | None = None
    """cycle_id from which it applies (that cycle and every later one); None = all cycles."""

    def change_text(self) -> str:
        if self.percent is not None:
            return f"{format_number(self.percent)} %"
        return f"{format_number(self.value)} {format_unit(self.unit or '')}"

    def describe(self) -> str:
        start = f" from {self.from_cycle}" if self.from_cycle else ""
        return f"{self.drug} {self.change_text()}{start}, reason: {self.reason}"


_MOD = re.compile(
    r"^\s*(?P<drug>[a-z][a-z0-9 -]*?)\s*=\s*(?P<change>[^@]+?)\s*(?:@\s*(?P<cycle>\S+))?\s*$", re.IGNORECASE
)
_PCT = re.compile(r"^(?P<sign>[+-])?\s*(?P<n>\d+(?:\.\d+)?)\s*%$")
_ABS = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>\S+)$")


def parse_modification(text: str, reason: str | None) -> Modification:
    """`DRUG=75%`, `DRUG=-25%` (same), `DRUG=1 mg`, `DRUG=750 mg/m2`, each optionally `@CYCLE_ID`."""
    form = "DRUG=75% (give 75 %), DRUG=-25% (reduce by 25 %) or DRUG=1 mg, optionally @CYCLE_ID"
    m = _MOD.match(text)
    if not m:
        raise RequestError(f"--modify {text!r} is not {form}")
    if not reason or not reason.strip():
        raise RequestError(f"--modify {text!r} needs a reason: add --reason TEXT (e.g. --reason 'bilirubin 2.5')")
    drug, change, cycle = m.group("drug").strip().lower(), m.group("change").strip(), m.group("cycle")
    if p := _PCT.match(change):
        n = float(p.group("n"))
        pct = 100 + n if p.group("sign") == "+" else 100 - n if p.group("sign") == "-" else n
        if not 0 < pct <= 200:
            raise RequestError(f"--modify {text!r}: {format_number(pct)} % of the dose is not plausible (0-200 %)")
        return Modification(drug, reason.strip(), percent=pct, from_cycle=cycle)
    if a := _ABS.match(change):
        try:
            units.lookup(a.group("unit"))
        except ValueError as exc:
            raise RequestError(f"--modify {text!r}: {exc}") from None
        value = float(a.group("n"))
        if value <= 0:
            raise RequestError(f"--modify {text!r}: an absolute dose must be above 0 (to leave a dose out, use --omit)")
        return Modification(drug, reason.strip(), value=value, unit=a.group("unit"), from_cycle=cycle)
    raise RequestError(f"--modify {text!r} is not {form}")


def _is_dose(e: DoseEvent) -> bool:
    return e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION) and e.dose_spec is not None


def _check_overrides(tl: Timeline, overrides: Sequence[CapOverride]) -> None:
    capped = sorted({e.drug for e in tl.events if _is_dose(e) and e.drug and _has_cap(e.dose_spec)})
    cycles = [c.cycle_id for c in tl.cycles]
    for o in overrides:
        if o.drug not in capped:
            raise RequestError(f"--exceed-cap {o.drug!r}: no dose of that drug in this timeline has a cap;"
                               f" capped drugs: {', '.join(capped) or 'none'}")
        if o.from_cycle is not None and o.from_cycle not in cycles:
            raise RequestError(f"--exceed-cap {o.drug}@{o.from_cycle}: not a cycle of this timeline;"
                               f" valid: {', '.join(cycles)}")


def _has_cap(spec: Dose) -> bool:
    return spec.cap is not None or any(b.cap is not None for b in spec.bands)


def _check_modifications(tl: Timeline, mods: Sequence[Modification]) -> None:
    drugs = sorted({e.drug for e in tl.events if _is_dose(e) and e.drug})
    cycles = [c.cycle_id for c in tl.cycles]
    for m in mods:
        if m.drug not in drugs:
            raise RequestError(f"--modify {m.drug!r}: no such drug in this timeline; drugs: {', '.join(drugs)}")
        if m.from_cycle is not None and m.from_cycle not in cycles:
            raise RequestError(
                f"--modify {m.drug}@{m.from_cycle}: not a cycle of this timeline; valid: {', '.join(cycles)}"
            )
        if m.unit is not None:
            for e in tl.events:
                if e.drug != m.drug or not _is_dose(e) or not e.unit:
                    continue
                units_ok = _units_of(e.dose_spec)
                if m.unit not in units_ok:
                    raise RequestError(
                        f"--modify {m.drug}={m.change_text()}: {m.drug} is written in {e.unit}; give the"
                        f" dose in {' or '.join(sorted(units_ok))}"
                    )


def _units_of(spec: Dose) -> set[str]:
    out = set()
    for unit in [spec.unit, *(b.unit for b in spec.bands)]:
        if unit:
            out |= {unit, units.lookup(unit).patient_unit}
    return out


def _pick(tl: Timeline, mods: Sequence[Modification] | Sequence[CapOverride]):
    """Index of cycles, and for a (drug, cycle_id) the modification that applies: the one that
    starts latest at or before the cycle (the later given wins a tie)."""
    pos = {c.cycle_id: i for i, c in enumerate(tl.cycles)}

    def applies(drug: str | None, cycle_id: str) -> Modification | None:
        best, best_pos = None, -1
        for m in mods:
            if m.drug != drug:
                continue
            start = -1 if m.from_cycle is None else pos[m.from_cycle]
            if start <= pos.get(cycle_id, 10**9) and start >= best_pos:
                best, best_pos = m, start
        return best

    return applies


def resolve_doses(
    tl: Timeline,
    measurements: Measurements | None = None,
    modifications: Iterable[Modification] = (),
    rounding: RoundingRules | None = None,
    cap_overrides: Iterable[CapOverride] = (),
    confirmed_outside: Mapping[str, str] | None = None,
) -> Timeline:
    """Fill patient_dose, patient_unit and working for every administration and premedication.

    `confirmed_outside` names the protocol's eligibility limits (Timeline.eligibility) the
    prescriber confirmed the patient is outside of, with the reason; an unconfirmed one refuses."""
    m = measurements or Measurements()
    mods = list(modifications)
    overrides = list(cap_overrides)
    _check_modifications(tl, mods)
    _check_overrides(tl, overrides)
    outside = eligibility.check(tl.eligibility, m.weight_kg, m.age_years, confirmed_outside or {})
    from regimens.dosing.rounding import default_rules  # here: a run without doses never needs pydantic

    rules = rounding or default_rules()
    applies = _pick(tl, mods)
    lifted = _pick(tl, overrides)
    events = []
    missing: dict[str, set[str]] = {}
    held: dict[str, set[str]] = {}
    above: dict[str, set[str]] = {}
    for e in tl.events:
        if not _is_dose(e) or e.status == "omitted" or e.dose_spec.not_public:
            events.append(e)
            continue
        e2 = _resolve(e, m, applies(e.drug, e.cycle_id), rules, lifted(e.drug, e.cycle_id))
        w = e2.working
        if w is not None and w.unresolved:
            missing.setdefault(w.unresolved, set()).add(e.drug or e.title)
        if w is not None and w.cap_held:
            held.setdefault(e.drug or e.title, set()).add(w.cap_held)
        if w is not None and w.cap_override:
            above.setdefault(e.drug or e.title, set()).add(w.cap_override)
        events.append(e2)
    warnings = [f"dose not calculated for {', '.join(sorted(drugs))}: {why}" for why, drugs in sorted(missing.items())]
    # A capped or lifted cap is said at the top of every output, not only in the dose's working.
    warnings += [f"{drug}: {'; '.join(sorted(texts))} (to go over the cap: --exceed-cap {drug} --reason TEXT)"
                 for drug, texts in sorted(held.items())]
    warnings += [f"{drug}: {'; '.join(sorted(texts))}"
                 for drug, texts in sorted(above.items())]
    warnings = outside + m.growth_warnings() + warnings
    if m.bsa_m2 is not None and m.bsa_calculated is not None:
        warnings.insert(0, f"the BSA given ({format_number(m.bsa_m2)} m²) is used; height and weight give"
                           f" {format_number(m.bsa_calculated)} m² ({FORMULAS[m.formula].name})")
    return tl.with_events(tuple(events), measurements=m, warnings=tuple(tl.warnings) + tuple(warnings))


def _band(spec: Dose, m: Measurements) -> tuple[Band | None, str | None]:
    """(band that applies, or None for the main dose; reason the choice cannot be made)."""
    for b in spec.bands:
        need = []
        if (b.weight_kg_lt is not None or b.weight_kg_ge is not None) and m.weight_kg is None:
            need.append("weight needed (give --weight)")
        if (b.age_lt is not None or b.age_ge is not None) and m.age_years is None:
            need.append("age needed (give --age)")
        if need:
            return None, f"{' and '.join(need)}: the dose depends on {b.describe()}"
        w, a = m.weight_kg, m.age_years
        if ((b.weight_kg_lt is None or w < b.weight_kg_lt) and (b.weight_kg_ge is None or w >= b.weight_kg_ge)
                and (b.age_lt is None or a < b.age_lt) and (b.age_ge is None or a >= b.age_ge)):
            return b, None
    return None, None


def _pct(new: float, old: float) -> str:
    return f"{(new - old) / old * 100:+.1f} %"


def _unresolved(e: DoseEvent, basis: str, why: str, band: str | None = None) -> DoseEvent:
    w = DoseWorking(basis=basis, measurement="", formula="", unrounded=None, band=band, unresolved=why)
    return e.with_(patient_dose=None, patient_unit=None, working=w)


def _infusion_total(e: DoseEvent, final: float, pu: str, rules: RoundingRules
                    ) -> tuple[float | None, str | None, str | None]:
    """(total, unit, working) of a continuous infusion: a rate (mg/day) × its length is what the
    pharmacy prepares and what a cumulative sum counts (mesna 1,146 mg/day over 69 h = 3,295 mg);
    a total over a set time (doxorubicin 95.5 mg over 24 h) also gets its rate."""
    minutes = e.duration_minutes
    if not e.continuous or not minutes:
        return None, None, None
    span = duration_text(minutes)
    if units.per_day(units.lookup(pu)):
        base = pu.removesuffix("/day")
        exact = round(final * minutes / 1440, 6)
        total, _ = rules.round(e.drug, exact, base)
        approx = "" if total == exact else f" ≈ {format_number(total)} {format_unit(base)}"
        return total, base, (f"total over the infusion: {format_number(final)} {format_unit(pu)} × {span}"
                             f" = {format_number(exact)} {format_unit(base)}{approx}")
    rate = round(final * 1440 / minutes, 6)
    return final, pu, (f"total over the infusion: {format_number(final)} {format_unit(pu)} over {span}"
                       f" (rate {format_number(rate)} {format_unit(pu)}/day)")


def duration_text(minutes: int) -> str:
    """69 h, 24 h, 28 days (a whole number of days past 48 h reads as days)."""
    if minutes % 1440 == 0 and minutes > 2880:
        return f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{format_number(minutes / 60, 2)} h"


def _over_cap(dose: float, cap: float, unit: str, override: CapOverride) -> str:
    return (f"DOSE ABOVE THE PROTOCOL CAP of {format_number(cap)} {format_unit(unit)}: {format_number(dose)} {format_unit(unit)}"
            f" ({_pct(dose, cap)}) by {override.describe()}")


def _resolve(e: DoseEvent, m: Measurements, mod: Modification | None, rules: RoundingRules,
             override: CapOverride | None = None) -> DoseEvent:
    spec = e.dose_spec
    band, why = _band(spec, m)
    main_basis = units.lookup(spec.unit).basis.value if spec.unit else "not public"
    if why:
        return _unresolved(e, main_basis, why)
    src = band or spec
    band_text = None
    if band is not None:
        band_text = f"{band.describe()}: {format_number(band.value) if band.value else 'not public'}" \
                    f"{' ' + format_unit(band.unit) if band.unit else ''} instead of" \
                    f" {format_number(spec.value) if spec.value else 'not public'} {format_unit(spec.unit or '')}" \
                    f" (source {band.source})"
    if band is not None:
        # The band's dose is the dose as written for this patient: outputs show it, not the main one.
        e = e.with_(dose=band.value, unit=band.unit, not_public=band.not_public)
    if src.not_public or src.value is None:
        return _unresolved(e, main_basis, f"dose for {band.describe() if band else 'this patient'} not public:"
                           " per full protocol", band_text)
    value, unit = src.value, src.unit
    u = units.lookup(unit)
    mod_text = None
    if mod is not None and mod.unit == unit:
        # an absolute dose in the written unit replaces the protocol value before the calculation
        mod_text = f"{format_number(value)} → {format_number(mod.value)} {format_unit(unit)}: {mod.describe()}"
        value = mod.value
    pu = u.patient_unit
    if u.basis is units.Basis.FLAT:
        unrounded = value
        measurement = "none (flat dose)"
        formula = f"{format_number(value)} {format_unit(unit)} (flat dose)"
    elif u.basis is units.Basis.PER_M2:
        bsa = m.bsa_used
        if bsa is None:
            return _unresolved(e, u.basis.value, "BSA needed: give --height and --weight, or --bsa", band_text)
        unrounded = round(value * bsa, 6)
        measurement = m.bsa_text()
        formula = (f"{format_number(value)} {format_unit(unit)} × {format_number(bsa)} m² ="
                   f" {format_number(unrounded)} {format_unit(pu)}")
    else:
        if m.weight_kg is None:
            return _unresolved(e, u.basis.value, "weight needed: give --weight", band_text)
        unrounded = round(value * m.weight_kg, 6)
        measurement = m.weight_text()
        formula = (f"{format_number(value)} {format_unit(unit)} × {format_number(m.weight_kg)} kg ="
                   f" {format_number(unrounded)} {format_unit(pu)}")
    dose = unrounded
    caps = [c for c in ((band.cap, band.cap_unit) if band else (None, None), (spec.cap, spec.cap_unit))
            if c[0] is not None and c[1] == pu]
    cap = min((c[0] for c in caps), default=None)
    cap_text = held_text = override_text = None
    if cap is not None and dose > cap and override is None:
        cap_text = f"capped at {format_number(cap)} {format_unit(pu)} ({_pct(cap, dose)})"
        if mod is not None and mod.unit == unit:  # `5 mg` for a 2 mg-capped drug: said like 150 %
            held_text = (f"{format_number(dose)} {format_unit(pu)} is above the cap: held at the cap"
                         f" {format_number(cap)} {format_unit(pu)}")
        dose = cap
    if mod is not None and mod.unit != unit:
        before = dose
        if mod.percent is not None:
            dose = round(dose * mod.percent / 100, 6)
            mod_text = (f"{format_number(mod.percent)} % of {format_number(before)} {format_unit(pu)} ="
                        f" {format_number(dose)} {format_unit(pu)} ({_pct(dose, before)}): {mod.describe()}")
        else:
            dose = mod.value
            mod_text = f"{format_number(before)} → {format_number(dose)} {format_unit(pu)} ({_pct(dose, before)}): {mod.describe()}"
    if cap is not None and dose > cap and override is None:
        # A modification (150 %, +50 %, 5 mg) never lifts the cap by itself.
        held_text = (f"{format_number(dose)} {format_unit(pu)} is above the cap: held at the cap"
                     f" {format_number(cap)} {format_unit(pu)}")
        mod_text = f"{mod_text}; {held_text}" if mod_text else held_text
        dose = cap
    final, round_text = rules.round(e.drug, dose, pu)
    if cap is not None and final > cap and override is None:
        # rounding up never crosses the cap: the cap is a measurable dose
        held_text = (f"rounded {format_number(final)} {format_unit(pu)} is above the cap: held at the cap"
                     f" {format_number(cap)} {format_unit(pu)}")
        round_text = f"{round_text}; {held_text}" if round_text else held_text
        final = cap
    if cap is not None and final > cap and override is not None:
        override_text = _over_cap(final, cap, pu, override)
    change = 0.0 if unrounded == 0 else round((final - unrounded) / unrounded * 100, 1)
    total, total_unit, total_text = _infusion_total(e, final, pu, rules)
    working = DoseWorking(
        basis=u.basis.value, measurement=measurement, formula=formula, unrounded=unrounded,
        band=band_text, cap=cap_text or override_text, rounding=round_text, modification=mod_text,
        change_percent=change + 0.0, cap_held=held_text, cap_override=override_text,
        total=total, total_unit=total_unit, total_text=total_text,
    )
    return e.with_(patient_dose=final, patient_unit=pu, working=working)
