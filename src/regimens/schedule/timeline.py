"""The timeline IR: dated dose events and the compiled cycles they belong to.

Plain frozen dataclasses (not pydantic): a long protocol compiles to thousands of events and the
exporters only read them. `to_dict` is the JSON/CSV contract documented in docs/cli.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, time, timedelta
from operator import attrgetter
from typing import Any

from regimens.protocol.model import Dose

KIND_ADMINISTRATION = "administration"
KIND_PREMEDICATION = "premedication"
KIND_PHASE = "phase"
KIND_REST = "rest"


@dataclass(frozen=True, slots=True)
class DoseWorking:
    """How a patient dose was calculated, step by step, for checking on paper."""

    basis: str
    """flat, per_m2 or per_kg."""
    measurement: str
    """e.g. `BSA 1.91 m² (Mosteller, height 175 cm, weight 75 kg, measured 2027-01-02)`."""
    formula: str
    """e.g. `300 mg/m² × 1.91 m² = 573 mg`."""
    unrounded: float | None
    band: str | None = None
    cap: str | None = None
    """e.g. `capped at 2 mg (−31.5 %)`."""
    rounding: str | None = None
    modification: str | None = None
    change_percent: float | None = None
    """Total change from the unrounded calculated dose, in percent."""
    unresolved: str | None = None
    """Why no patient dose was calculated (a weight, age or BSA not given, a band not public)."""
    cap_held: str | None = None
    """A modification or a rounding step that would have gone above the cap, held at the cap."""
    cap_override: str | None = None
    """The dose is above the protocol cap by a named cap override (with its reason)."""
    total: float | None = None
    """Continuous infusion: the amount over the whole infusion (rate × length), in total_unit."""
    total_unit: str | None = None
    total_text: str | None = None
    """e.g. `total over the infusion: 1,146 mg/day × 69 h = 3,294.75 mg ≈ 3,295 mg`."""


@dataclass(frozen=True, slots=True)
class Cycle:
    """One compiled instance of a course: where it sits in the arm and on the calendar."""

    cycle_id: str
    """Stable id, `{phase id}.c{n}` (e.g. `intensive.c3`); used by `--actual-start`."""
    phase_id: str
    phase: str
    """Display name of the phase or block."""
    course_id: str
    course: str
    cycle: int
    """Displayed cycle number."""
    start: date
    length_days: int | None
    """None when the length is not public."""
    nominal_start: date
    """Where day 1 would fall without actual-start changes."""

    @property
    def end(self) -> date | None:
        """Last day of the cycle; None when its length is not public."""
        return None if self.length_days is None else self.start + timedelta(days=self.length_days - 1)


@dataclass(frozen=True, slots=True)
class DoseEvent:
    uid: str
    kind: str
    """administration, premedication, phase, rest, hospitalization, lab, assessment, procedure,
    gate, milestone or visit."""
    date: date
    end_date: date
    """Last day, inclusive."""
    time: time | None
    end_time: time | None
    title: str
    """Short title (drug or event title) without dose."""
    phase_id: str
    phase: str
    phase_start: date
    cycle_id: str
    cycle: int
    course: str
    day: int
    drug: str | None = None
    route: str | None = None
    dose: float | None = None
    unit: str | None = None
    dose_spec: Dose | None = field(default=None, compare=False, repr=False)
    not_public: bool = False
    dose_number: int | None = None
    doses_total: int | None = None
    duration_minutes: int | None = None
    continuous: bool = False
    optional: bool = False
    decision: str | None = None
    """`name=value` of the decision that put this event here, if any."""
    premed_for: str | None = None
    step: str | None = None
    """`step-up` when a continuous infusion raises the dose of the one before it."""
    window: str | None = None
    weekend: str | None = None
    """`Saturday` or `Sunday` when a procedure (an intrathecal dose, a procedure event) falls on a
    weekend: unusual, so staff outputs flag it for the team to confirm the date."""
    note: str | None = None
    source: str = ""
    source_cite: str = ""
    confidence: str | None = None
    status: str = "planned"
    """planned, omitted, held, or given (an administration recorded in the plan, plans/changes.py)."""
    status_reason: str | None = None
    patient_dose: float | None = None
    patient_unit: str | None = None
    working: DoseWorking | None = None
    order: int = 0
    """Position within a day (order of giving)."""

    def with_(self, **changes: Any) -> DoseEvent:
        # dataclasses.replace, without its generic field walk and keyword call: compiling and
        # dosing a long protocol copies thousands of events (DoseEvent has no __post_init__, so
        # setting the fields is all __init__ does)
        new = _new(DoseEvent)
        for name, value in zip(_EVENT_FIELDS, _event_values(self), strict=True):
            _set(new, name, value)
        for name, value in changes.items():
            if name not in _EVENT_FIELD_SET:
                raise TypeError(f"DoseEvent has no field {name!r}")
            _set(new, name, value)
        return new

    def to_dict(self) -> dict[str, Any]:
        """The JSON/CSV record (docs/cli.md). Dates are ISO strings."""
        w = self.working
        return {
            "uid": self.uid,
            "kind": self.kind,
            "date": self.date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "time": self.time.strftime("%H:%M") if self.time else None,
            "end_time": self.end_time.strftime("%H:%M") if self.end_time else None,
            "title": self.title,
            "phase": self.phase,
            "phase_id": self.phase_id,
            "phase_start": self.phase_start.isoformat(),
            "cycle_id": self.cycle_id,
            "cycle": self.cycle,
            "course": self.course,
            "day": self.day,
            "drug": self.drug,
            "route": self.route,
            "dose": _num(self.dose),
            "unit": self.unit,
            "dose_reference": self.dose_spec.reference if self.dose_spec is not None else None,
            "not_public": self.not_public,
            "dose_number": self.dose_number,
            "doses_total": self.doses_total,
            "duration_minutes": self.duration_minutes,
            "continuous": self.continuous,
            "optional": self.optional,
            "decision": self.decision,
            "premed_for": self.premed_for,
            "step": self.step,
            "window": self.window,
            "weekend": self.weekend,
            "status": self.status,
            "status_reason": self.status_reason,
            "patient_dose": _num(self.patient_dose),
            "patient_unit": self.patient_unit,
            "working": None
            if w is None
            else {
                "basis": w.basis,
                "measurement": w.measurement,
                "formula": w.formula,
                "unrounded": w.unrounded,
                "band": w.band,
                "cap": w.cap,
                "rounding": w.rounding,
                "modification": w.modification,
                "change_percent": w.change_percent,
                "unresolved": w.unresolved,
                "cap_held": w.cap_held,
                "cap_override": w.cap_override,
                "total": _num(w.total),
                "total_unit": w.total_unit,
                "total_text": w.total_text,
            },
            "note": self.note,
            "source": self.source,
            "source_cite": self.source_cite,
            "confidence": self.confidence,
        }


def _num(x: float | None) -> float | int | None:
    """20.0 → 20 so JSON never shows a trailing zero (ISMP)."""
    if x is None:
        return None
    return int(x) if float(x).is_integer() else x


_EVENT_FIELDS = tuple(f.name for f in fields(DoseEvent))
_EVENT_FIELD_SET = frozenset(_EVENT_FIELDS)
_event_values = attrgetter(*_EVENT_FIELDS)
_new = object.__new__
_set = object.__setattr__  # how a frozen dataclass's own __init__ sets its fields


@dataclass(frozen=True)
class Timeline:
    protocol_id: str
    protocol_title: str
    protocol_version: str
    content_hash: str
    protocol_path: str
    protocol_origin: str
    arm: str
    arm_name: str
    choices: tuple[tuple[str, str], ...]
    """Every decision with the value used (given or default), in protocol order."""
    start: date
    cycles: tuple[Cycle, ...]
    events: tuple[DoseEvent, ...]
    warnings: tuple[str, ...] = ()
    """Things the user must know (a length that is not public truncated the timeline, ...)."""
    citations: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Protocol source key → its full citation lines (document, then the works it names), from
    the shipped bibliography; printed by the pharmacist sheet."""
    source_names: tuple[tuple[str, str], ...] = ()
    """Protocol source key → plain name that patient-facing outputs print instead of the key."""
    continues: str | None = None
    """Set when treatment goes on after the last cycle shown (total cycles not public, a last
    element of unknown length...): every output prints it, and the last event says it."""
    measurements: Any = None
    """The patient's measurements when doses were calculated (dosing.Measurements)."""
    revision: int = 0
    eligibility: tuple[Any, ...] = ()
    """The protocol's EligibilityLimits (protocol.model), checked when patient doses are calculated."""

    def with_events(self, events: tuple[DoseEvent, ...], **changes: Any) -> Timeline:
        return replace(self, events=events, **changes)

    def by_cycle(self, cycle_id: str) -> list[DoseEvent]:
        return [e for e in self.events if e.cycle_id == cycle_id]

    def administrations(self) -> list[DoseEvent]:
        return [e for e in self.events if e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION)]

    @property
    def end(self) -> date:
        return max((e.end_date for e in self.events), default=self.start)
