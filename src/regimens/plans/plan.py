"""A patient plan: everything needed to regenerate one patient's calendar later (docs/plans.md).

The plan names the protocol by id, version and content hash. Loading it against another protocol
is an error; loading it against a protocol whose version or content changed since is also an
error (PlanError naming both versions), because days and doses may have changed under the
patient: the pharmacist reviews the change and records it with `regimens plan record
--accept-protocol`, which stores the new version and hash in a new revision.

The plan and its parts are plain frozen records (plans/records.py's PlanRecord); the file's rules
are the pydantic models of the same names in plans/schema.py, which validate a plan file (and
write one), so a run without a plan file never imports pydantic.

Pure: text in, records and bytes out. The CLI reads and writes the file (0600, atomically).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from regimens.dosing.bsa import DEFAULT_FORMULA, FORMULAS, Measurements
from regimens.dosing.doses import CapOverride, Modification, parse_cap_override, parse_modification
from regimens.errors import PlanError, ProtocolError, RequestError
from regimens.notation.ismp import format_number
from regimens.plans.records import (
    PlanAdministration,
    PlanCease,
    PlanClosures,
    PlanMove,
    PlanOverride,
    PlanRecord,
    PriorExposure,
)
from regimens.protocol.loader import ProtocolFile
from regimens.schedule.request import ScheduleRequest

FORMAT = "regimens-plan/1"


class PlanProtocol(PlanRecord):
    id: str
    version: str
    content_hash: str
    """sha256 of the protocol file the plan was made (or last accepted) with."""
    file: str | None = None
    """Path of the protocol file when it was given as a path rather than an id."""


class PlanMeasurements(PlanRecord):
    height_cm: float | None = None
    weight_kg: float | None = None
    bsa_m2: float | None = None
    """Only when BSA was given directly; otherwise it is recalculated from height and weight."""
    age_years: float | None = None
    measured_on: date | None = None
    bsa_formula: str = DEFAULT_FORMULA
    bsa_cap: float | None = None
    height_given: str | None = None
    """The height as written when it was not in cm (`5 ft 9 in`); height_cm holds the conversion."""
    weight_given: str | None = None
    """The weight as written when it was not in kg (`154 lb`)."""
    confirmed: str | None = None
    """Why a measurement far outside the growth reference for the age is right (docs/dosing.md)."""

    def to_measurements(self) -> Measurements:
        return Measurements(self.height_cm, self.weight_kg, self.bsa_m2, self.age_years,
                            self.measured_on, self.bsa_formula, self.bsa_cap,
                            height_given=self.height_given, weight_given=self.weight_given,
                            confirmed=self.confirmed)


class PlanModification(PlanRecord):
    drug: str
    change: str
    """`75%` (give 75 %), `-25%` (reduce by 25 %), `1 mg` or `750 mg/m2`."""
    from_cycle: str | None = None
    reason: str

    def to_modification(self) -> Modification:
        at = f"@{self.from_cycle}" if self.from_cycle else ""
        return parse_modification(f"{self.drug}={self.change}{at}", self.reason)


class PlanCapOverride(PlanRecord):
    """A dose of `drug` may go above the protocol cap from `from_cycle` on (docs/dosing.md#caps)."""

    drug: str
    from_cycle: str | None = None
    reason: str

    def to_override(self) -> CapOverride:
        at = f"@{self.from_cycle}" if self.from_cycle else ""
        return parse_cap_override(f"{self.drug}{at}", self.reason)


class PlanChange(PlanRecord):
    revision: int
    recorded_on: date | None = None
    note: str
    """What changed (generated from the change itself)."""
    reason: str | None = None
    """Why, as the person recording it gave it (`--reason`)."""
    by: str | None = None
    """Who recorded it (`--by`)."""


class Plan(PlanRecord):
    """One patient's choices and reality for one protocol. Holds no name or identifier."""

    format: Literal["regimens-plan/1"] = FORMAT
    id: str | None = None
    """Random id made once by `regimens plan new` (the library makes no randomness) and kept
    through every revision: it is mixed into calendar UIDs, so two patients' calendars in one
    CalDAV collection never share a UID (docs/ics.md). None in plans made before it existed."""
    protocol: PlanProtocol
    arm: str | None = None
    choices: dict[str, str] = {}
    start: date
    start_at: str | None = None
    measurements: PlanMeasurements | None = None
    actual_starts: dict[str, date] = {}
    """cycle_id → actual day 1."""
    omit: dict[str, str] = {}
    """selector (uid, cycle_id, cycle_id:day, cycle_id:day:drug) → reason."""
    hold: dict[str, str] = {}
    modifications: tuple[PlanModification, ...] = ()
    cap_overrides: tuple[PlanCapOverride, ...] = ()
    """Named decisions to give a dose above the protocol's cap; never implied by a modification."""
    confirmed_outside: dict[str, str] = {}
    """Eligibility limit id (protocol `eligibility`) → why doses are calculated although the patient
    is outside it (`--confirm-outside weight --reason ...`)."""
    revision: int = 1
    history: tuple[PlanChange, ...] = ()
    # treatment as it really happens (plans/records.py, applied by plans/changes.py)
    moves: tuple[PlanMove, ...] = ()
    ceased: tuple[PlanCease, ...] = ()
    administrations: tuple[PlanAdministration, ...] = ()
    prior_exposure: tuple[PriorExposure, ...] = ()
    closures: PlanClosures | None = None
    overrides: tuple[PlanOverride, ...] = ()

    def to_request(self, **extra: Any) -> ScheduleRequest:
        return ScheduleRequest(start=self.start, arm=self.arm, choices=dict(self.choices),
                               actual_starts=dict(self.actual_starts), start_at=self.start_at,
                               omit=dict(self.omit), hold=dict(self.hold), **extra)

    def dosing(self) -> tuple[Measurements | None, list[Modification]]:
        m = self.measurements.to_measurements() if self.measurements else None
        return m, [x.to_modification() for x in self.modifications]

    def cap_override_list(self) -> list[CapOverride]:
        return [x.to_override() for x in self.cap_overrides]


# --- reading and writing --------------------------------------------------------------------


def load_plan(text: str, name: str) -> Plan:
    from pydantic import ValidationError  # here: only a plan file is validated by the schema

    from regimens.protocol.loader import parse_text

    try:
        # The protocol reader's rules: duplicate keys refused (YAML would keep the last one
        # silently), aliases budgeted, tags refused; its messages give a position, never the
        # file's text (a plan path may name any file).
        data, _ = parse_text(text, name) if text.strip() else (None, None)
    except ProtocolError as exc:
        d = exc.diagnostics[0]
        if "a protocol file is a YAML mapping" in d.message:
            data = None
        else:
            where = f" {d.path}:" if d.path else ""
            raise PlanError(f"{name}:{d.line}:{d.col}:{where} not a readable plan file: {d.message}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanError(f"{name}: not a regimens plan file (expected `format: {FORMAT}`);"
                        " create one with `regimens plan new`")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        msg = err["msg"].removeprefix("Value error, ")
        raise PlanError(f"{name}: {where}: {msg}") from None
    try:  # measurements and modifications are checked now, not when a dose is calculated
        plan.dosing()
        plan.cap_override_list()
    except RequestError as exc:
        raise PlanError(f"{name}: {exc}") from None
    return plan


def dump_plan(plan: Plan) -> bytes:
    import yaml  # here, not at the top: most runs never read or write this kind of file
    from pydantic import ValidationError

    from regimens.plans import schema

    # The plain records are not checked when they are made (plans/records.py); a plan becomes the
    # truth of a patient's course here, so it passes the plan file's rules first. What is written
    # is what load_plan will accept, never a file that the next command refuses.
    try:
        checked = schema.Plan.model_validate(plan.model_dump(mode="json", by_alias=True))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(plan)"
        raise PlanError(f"plan not written: {where}: {err['msg'].removeprefix('Value error, ')}") from None
    data = checked.model_dump(mode="json", exclude_defaults=False, by_alias=True)
    for key in ("moves", "ceased", "administrations", "prior_exposure", "closures", "overrides"):
        if not data.get(key):  # a plan without them reads as before they existed
            data.pop(key, None)
    if data.get("measurements"):
        # 172 not 172.0: no trailing zeros in anything a person reads (ISMP)
        data["measurements"] = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                                for k, v in data["measurements"].items() if v is not None}
    head = ("# regimens patient plan (docs/plans.md). It holds patient measurements: keep it private.\n"
            "# Change it with `regimens plan record`, which shows what moves and adds a revision.\n")
    return (head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)).encode("utf-8")


def check_protocol(plan: Plan, pf: ProtocolFile, name: str) -> None:
    """Refuse a plan made for another protocol, or for an earlier state of this one."""
    p, want = pf.protocol, plan.protocol
    if p.id != want.id:
        raise PlanError(f"{name} is a plan for protocol {want.id!r}, not {p.id!r}; give that protocol"
                        " or leave the protocol out to use the plan's")
    if p.version != want.version or pf.content_hash != want.content_hash:
        raise PlanError(
            f"{name} was made with {want.id} v{want.version} (sha256 {want.content_hash[:12]}) but the"
            f" protocol is now v{p.version} (sha256 {pf.short_hash}, {pf.path}); days or doses may have"
            f" changed: review it (`regimens show {p.id}`, `regimens plan preview {name} --accept-protocol`),"
            f" then accept it with `regimens plan record {name} --accept-protocol --reason TEXT --by NAME`"
        )


# --- merging the command line into a plan ---------------------------------------------------


@dataclass(frozen=True)
class Given:
    """What the command line gives; None / empty = not given (the plan's value stays)."""

    start: date | None = None
    arm: str | None = None
    start_at: str | None = None
    choices: Mapping[str, str] = field(default_factory=dict)
    actual_starts: Mapping[str, date] = field(default_factory=dict)
    omit: Mapping[str, str] = field(default_factory=dict)
    hold: Mapping[str, str] = field(default_factory=dict)
    modifications: tuple[PlanModification, ...] = ()
    cap_overrides: tuple[PlanCapOverride, ...] = ()
    confirmed_outside: Mapping[str, str] = field(default_factory=dict)
    height_given: str | None = None
    weight_given: str | None = None
    confirm_measurements: str | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    bsa_m2: float | None = None
    age_years: float | None = None
    measured_on: date | None = None
    bsa_formula: str | None = None
    bsa_cap: float | None = None

    def changes_anything(self) -> bool:
        return any(v not in (None, {}, ()) for v in self.__dict__.values())


def _measurements(old: PlanMeasurements | None, g: Given) -> PlanMeasurements | None:
    """A new weight alone keeps the recorded height (an adult's height does not change between
    cycles; `kept_measurements` says so, so it is never silent). A new height keeps the weight the
    same way. A BSA given directly replaces height and weight (the BSA is then what is used), and
    height or weight given replace a directly given BSA. The date measured comes from the command
    line when any of height/weight/BSA is given. Age, formula and BSA cap are taken one by one."""
    base = old.model_dump() if old else {}
    if any(v is not None for v in (g.bsa_m2, g.height_cm, g.weight_kg, g.age_years)):
        base["confirmed"] = None  # a confirmation is for the values it was given with
    if g.bsa_m2 is not None:
        base.update(height_cm=g.height_cm, weight_kg=g.weight_kg, bsa_m2=g.bsa_m2, measured_on=g.measured_on,
                    height_given=g.height_given, weight_given=g.weight_given)
    elif g.height_cm is not None or g.weight_kg is not None:
        base.update(bsa_m2=None, measured_on=g.measured_on)
        if g.height_cm is not None:
            base.update(height_cm=g.height_cm, height_given=g.height_given)
        if g.weight_kg is not None:
            base.update(weight_kg=g.weight_kg, weight_given=g.weight_given)
    if g.confirm_measurements is not None:
        base["confirmed"] = g.confirm_measurements
    elif g.measured_on is not None:
        base["measured_on"] = g.measured_on
    for key, value in (("age_years", g.age_years), ("bsa_formula", g.bsa_formula), ("bsa_cap", g.bsa_cap)):
        if value is not None:
            base[key] = value
    if all(base.get(k) is None for k in ("height_cm", "weight_kg", "bsa_m2", "age_years")):
        return None
    base.setdefault("bsa_formula", DEFAULT_FORMULA)
    if base["bsa_formula"] not in FORMULAS:
        raise RequestError(f"unknown BSA formula {base['bsa_formula']!r}; use one of {', '.join(FORMULAS)}")
    # plausibility first: its messages say what is wrong and how to fix it (0, -3, nan, 1.8 m)
    Measurements(base.get("height_cm"), base.get("weight_kg"), base.get("bsa_m2"), base.get("age_years"),
                 base.get("measured_on"), base["bsa_formula"], base.get("bsa_cap"),
                 height_given=base.get("height_given"), weight_given=base.get("weight_given"),
                 confirmed=base.get("confirmed"))
    return PlanMeasurements.model_validate(base)


def kept_measurements(old: PlanMeasurements | None, g: Given) -> list[str]:
    """What a partial re-measurement kept from the plan, in words for the person recording it:
    `height 180 cm kept from the plan (measured 2027-01-02); give --height to change it`."""
    if old is None or g.bsa_m2 is not None:
        return []
    when = f"measured {old.measured_on.isoformat()}" if old.measured_on else "date measured not recorded"
    out = []
    for given, kept, label, unit, option in ((g.weight_kg, old.height_cm, "height", "cm", "--height"),
                                             (g.height_cm, old.weight_kg, "weight", "kg", "--weight")):
        other = g.height_cm if label == "height" else g.weight_kg
        if given is not None and other is None and kept is not None:
            out.append(f"{label} {format_number(kept)} {unit} kept from the plan ({when}); give {option} to change it")
    return out


def merge(plan: Plan | None, pf: ProtocolFile, g: Given) -> Plan:
    """The plan with the command line's values on top (a new plan when `plan` is None)."""
    start = g.start or (plan.start if plan else None)
    if start is None:
        raise RequestError("missing --start YYYY-MM-DD (day 1 of the first element)")
    # without a plan file: built without validation (every value comes from a validated protocol
    # and the parsed options), so a run that reads no plan never imports pydantic (about 75 ms of
    # every `regimens ics`; tests/plans/test_plan.py checks it equals a validated plan). Nothing a
    # user gives is checked by the schema's validators: measurements are validated in
    # _measurements, doses, caps and eligibility when they are calculated, overlaps by the compiler
    old = plan or Plan(protocol=_protocol_of(pf, validate=False), start=start, revision=1)
    return old.model_copy(update={
        "start": start,
        "arm": g.arm if g.arm is not None else old.arm,
        "start_at": g.start_at if g.start_at is not None else old.start_at,
        "choices": {**old.choices, **g.choices},
        "actual_starts": {**old.actual_starts, **g.actual_starts},
        "omit": {**old.omit, **g.omit},
        "hold": {**old.hold, **g.hold},
        "modifications": tuple(old.modifications) + tuple(g.modifications),
        "cap_overrides": tuple(old.cap_overrides) + tuple(g.cap_overrides),
        "confirmed_outside": {**old.confirmed_outside, **g.confirmed_outside},
        "measurements": _measurements(old.measurements, g),
    })


def _protocol_of(pf: ProtocolFile, validate: bool = True) -> PlanProtocol:
    fields = dict(id=pf.protocol.id, version=pf.protocol.version, content_hash=pf.content_hash,
                  file=pf.path if pf.origin == "file" else None)
    return PlanProtocol.model_validate(fields) if validate else PlanProtocol(**fields)


def accept_protocol(plan: Plan, pf: ProtocolFile) -> Plan:
    return plan.model_copy(update={"protocol": _protocol_of(pf)})


def same_content(a: Plan, b: Plan) -> bool:
    """True when two plans differ at most in revision and history: recording b adds nothing."""
    skip = {"revision", "history"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)


def next_revision(plan: Plan, note: str, on: date | None, reason: str | None = None,
                  by: str | None = None) -> Plan:
    rev = plan.revision + 1
    change = PlanChange.model_validate(dict(revision=rev, recorded_on=on, note=note, reason=reason or None,
                                            by=by or None))
    return plan.model_copy(update={"revision": rev, "history": (*plan.history, change)})


def describe_given(g: Given, accepted: PlanProtocol | None = None) -> str:
    """A one-line summary for the plan's history."""
    parts = [f"actual start {k}={v}" for k, v in g.actual_starts.items()]
    parts += [f"omit {k} ({v})" for k, v in g.omit.items()] + [f"hold {k} ({v})" for k, v in g.hold.items()]
    parts += [f"modify {m.drug}={m.change}{'@' + m.from_cycle if m.from_cycle else ''} ({m.reason})"
              for m in g.modifications]
    parts += [f"confirm outside eligibility {k} ({v})" for k, v in g.confirmed_outside.items()]
    parts += [f"exceed cap {o.drug}{'@' + o.from_cycle if o.from_cycle else ''} ({o.reason})"
              for o in g.cap_overrides]
    parts += [f"choose {k}={v}" for k, v in g.choices.items()]
    for label, value in (("start", g.start), ("arm", g.arm), ("start-at", g.start_at)):
        if value is not None:
            parts.append(f"{label} {value}")
    meas = [f"{label} {format_number(v) if isinstance(v, float | int) else v}{unit}" for label, v, unit in (
        ("height", g.height_cm, " cm"), ("weight", g.weight_kg, " kg"), ("BSA", g.bsa_m2, " m²"),
        ("age", g.age_years, " years"), ("measured", g.measured_on, ""), ("BSA cap", g.bsa_cap, " m²"),
        ("BSA formula", g.bsa_formula, "")) if v is not None]
    if meas:
        parts.append("measurements: " + ", ".join(meas))
    if accepted is not None:
        parts.append(f"protocol accepted as v{accepted.version} (sha256 {accepted.content_hash[:12]})")
    return "; ".join(parts) or "no change"
