"""Cumulative (lifetime) doses: per drug across the whole course, counting doses given (the dose
the nurse recorded), doses still planned, and exposure before this plan; compared with lifetime
limits declared with their source (plans/data/limits.yaml or a site file).

Per-m² totals divide a dose in mg by the BSA the plan uses (the one the doses were calculated
with). An anthracycline other than doxorubicin counts towards a doxorubicin-equivalent limit only
through a conversion factor declared with its source; none is shipped because none is public in
the project's references, and a drug without one is reported as not counted rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regimens.errors import PlanError
from regimens.notation.ismp import format_number
from regimens.plans.plan import Plan
from regimens.schedule.timeline import KIND_ADMINISTRATION, Timeline

FORMAT = "regimens-limits/1"


class _Frozen(BaseModel):
    # defer_build: validators are built when first used, not at import (start-up time)
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Limit(_Frozen):
    drug: str = Field(min_length=1)
    limit: float | None = Field(gt=0)
    """None: no limit is public; the total is still shown."""
    unit: str = Field(pattern=r"^(mg|mg/m2|units|units/m2)$")
    counts: tuple[str, ...] = ()
    """Drugs (and prior-exposure names) added into this total; default: the drug itself."""
    source: str = Field(min_length=1)
    confidence: str | None = None
    note: str | None = None


class Equivalent(_Frozen):
    drug: str = Field(min_length=1)
    to: str = "doxorubicin-equivalent"
    factor: float = Field(gt=0)
    source: str = Field(min_length=1)


class Limits(_Frozen):
    limits: tuple[Limit, ...] = ()
    equivalents: tuple[Equivalent, ...] = ()
    name: str = "shipped limits"


def load_limits(text: str | None = None, name: str = "limits.yaml") -> Limits:
    """The shipped limits, or a site file's text."""
    if text is None:
        text = resources.files("regimens.plans").joinpath("data/limits.yaml").read_text(encoding="utf-8")
        name = "shipped limits (regimens/plans/data/limits.yaml)"
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{name}: not a readable limits file ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanError(f"{name}: not a limits file (expected `format: {FORMAT}`)")
    try:
        return Limits.model_validate({**{k: v for k, v in data.items() if k != "format"}, "name": name})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PlanError(f"{name}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None


@dataclass(frozen=True)
class Total:
    drug: str
    unit: str
    given: float
    planned: float
    prior: float
    limit: Limit | None
    not_counted: tuple[str, ...] = ()
    """Why some doses could not be added (no patient dose calculated, no conversion factor)."""
    override: str | None = None
    """The named override recorded for crossing this limit, if any."""

    @property
    def total(self) -> float:
        return self.given + self.planned + self.prior

    @property
    def crosses(self) -> bool:
        return bool(self.limit and self.limit.limit is not None and self.total > self.limit.limit + 1e-9)

    def text(self) -> str:
        def n(x: float) -> str:
            return format_number(round(x, 1))

        u = self.unit.replace("m2", "m²")
        head = (f"{self.drug}: given {n(self.given)} {u} + planned {n(self.planned)} {u}"
                + (f" + prior {n(self.prior)} {u}" if self.prior else "") + f" = {n(self.total)} {u}")
        if self.limit is None:
            tail = "; no lifetime limit declared"
        elif self.limit.limit is None:
            tail = f"; lifetime limit not public ({self.limit.source})"
        else:
            conf = f", confidence {self.limit.confidence}" if self.limit.confidence else ""
            state = f"{n(self.total / self.limit.limit * 100)} % of it"
            if self.crosses:
                state = "OVER THE LIMIT" + (f", override: {self.override}" if self.override else "")
            tail = f" of the lifetime limit {n(self.limit.limit)} {u} ({state}; source: {self.limit.source}{conf})"
        extra = f"; not counted: {'; '.join(self.not_counted)}" if self.not_counted else ""
        return " ".join((head + tail + extra).split())


def _bsa(tl: Timeline) -> float | None:
    m = tl.measurements
    return getattr(m, "bsa_used", None) if m is not None else None


def _amount(value: float, unit: str, want: str, bsa: float | None) -> float | None:
    """`value unit` in `want` (mg ↔ mg/m² through the BSA); None when it cannot be converted."""
    if unit == want:
        return value
    if unit in ("mg", "units") and want == f"{unit}/m2":
        return value / bsa if bsa else None
    if want in ("mg", "units") and unit == f"{want}/m2":
        return value * bsa if bsa else None
    return None


def totals(tl: Timeline, plan: Plan, limits: Limits) -> list[Total]:
    """One total per declared limit, plus one per drug given or planned that has none (mg)."""
    bsa = _bsa(tl)
    factors = {e.drug: e for e in limits.equivalents}
    given = {a.uid: a for a in plan.administrations}
    out = []
    drugs = sorted({e.drug for e in tl.events if e.kind == KIND_ADMINISTRATION and e.drug})
    declared = set()
    for lim in limits.limits:
        counts = lim.counts or (lim.drug,)
        declared |= set(counts)
        out.append(_total(lim.drug, lim.unit, counts, tl, plan, given, bsa, factors, lim))
    for drug in drugs:
        if drug not in declared:
            out.append(_total(drug, "mg", (drug,), tl, plan, given, bsa, factors, None))
    # an anthracycline-like drug on the timeline with no factor into a doxorubicin-equivalent total
    for lim in limits.limits:
        if "doxorubicin-equivalent" in (lim.counts or ()):
            for drug in drugs:
                if drug.endswith("rubicin") and drug not in (lim.counts or ()) and drug not in factors:
                    i = next(k for k, t in enumerate(out) if t.drug == lim.drug)
                    out[i] = Total(**{**out[i].__dict__, "not_counted": (*out[i].not_counted,
                                   f"{drug} (its doxorubicin-equivalent factor is not public; none is shipped)")})
    named = {o.rule.removeprefix("lifetime-limit:"): o for o in plan.overrides}
    out = [replace(t, override=f"{named[t.drug].name} (recorded by {named[t.drug].by})") if t.drug in named else t
           for t in out]
    return [t for t in out if t.given or t.planned or t.prior or t.limit is not None and t.drug in drugs]


def _total(name, unit, counts, tl, plan, given, bsa, factors, lim) -> Total:
    g = p = pr = 0.0
    missing: list[str] = []
    names = set(counts) | {d for d, f in factors.items() if f.to in counts}
    for e in tl.events:
        if e.kind != KIND_ADMINISTRATION or e.drug not in names or e.status == "omitted":
            continue
        f = factors[e.drug].factor if e.drug not in counts and e.drug in factors else 1.0
        rec = given.get(e.uid)
        if rec is not None and rec.given and rec.dose is not None and rec.unit:
            x = _amount(rec.dose, rec.unit, unit, bsa)
            if x is None:
                missing.append(f"{e.drug} given {e.date} ({rec.unit} without a BSA)")
            else:
                g += x * f
        elif e.status == "given":
            missing.append(f"{e.drug} {e.date}: given without a recorded dose")
        elif e.patient_dose is not None and e.patient_unit:
            x = _amount(e.patient_dose, e.patient_unit, unit, bsa)
            if x is None:
                missing.append(f"{e.drug} {e.date} (no BSA)")
            else:
                p += x * f
        elif e.dose is not None and e.unit == unit:
            p += e.dose * f  # dose as written is already in the limit's unit (mg/m²)
        else:
            missing.append(f"{e.drug} {e.date} (dose not calculated: give measurements)")
    for x in plan.prior_exposure:
        if x.drug in counts or x.drug == name:
            a = _amount(x.amount, x.unit, unit, bsa)
            if a is None:
                missing.append(f"prior {x.drug} {format_number(x.amount)} {x.unit} (no BSA to convert)")
            else:
                pr += a
    if len(missing) > 3:
        missing = [*missing[:3], f"and {len(missing) - 3} more"]
    return Total(name, unit, g, p, pr, lim, tuple(missing))


def crossed(tl: Timeline, plan: Plan, limits: Limits | None = None) -> list[Total]:
    """The totals over their declared lifetime limit that the plan has no named override for."""
    limits = limits or load_limits()
    overridden = {o.rule for o in plan.overrides}
    return [t for t in totals(tl, plan, limits) if t.crosses and f"lifetime-limit:{t.drug}" not in overridden]


def sheet_lines(tl: Timeline, plan: Plan, limits: Limits | None = None) -> tuple[str, ...]:
    """The cumulative lines the pharmacist sheet shows (as timeline warnings, which it prints)."""
    limits = limits or load_limits()
    return tuple(f"Cumulative {t.text()}" for t in totals(tl, plan, limits) if t.limit is not None)
