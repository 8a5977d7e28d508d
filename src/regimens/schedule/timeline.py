"""The timeline IR: dated dose events and the compiled cycles they belong to.

Plain frozen dataclasses (not pydantic): a long protocol compiles to thousands of events and the
exporters only read them. `to_dict` is the JSON/CSV contract documented in docs/cli.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from regimens.protocol.model import Dose

KIND_ADMINISTRATION = "administration"
KIND_PREMEDICATION = "premedication"
KIND_PHASE = "phase"
KIND_REST = "rest"
CLOCK_CHANGE = "CLOCK CHANGE: "
"""Starts the warning that a daylight-saving change falls during an infusion over hours (`in_zone`):
a point for staff; patient outputs leave it out (the times they print are already right)."""


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


@dataclass(frozen=True)
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
    whole_days: bool = False
    """A continuous infusion given on whole days (days 1-7 from 09:00): it stops on the clock at
    its start time the day after `end_date` (09:00 on day 8), whatever a daylight-saving change
    did in between. False for an infusion over a number of hours (mesna over 69 h), which runs
    that many elapsed hours (`infusion_stop`)."""
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
        # dosing a long protocol copies thousands of events (2,152 for NCT02877303). DoseEvent has
        # no __post_init__ and no __slots__ (a slotted copy sets ~45 fields one call each, 10 us;
        # copying the instance dict is about 1 us), so copying the fields is all __init__ does.
        if not changes.keys() <= _EVENT_FIELD_SET:
            unknown = next(n for n in changes if n not in _EVENT_FIELD_SET)
            raise TypeError(f"DoseEvent has no field {unknown!r}")
        new = _new(DoseEvent)
        fields_of = new.__dict__
        fields_of.update(self.__dict__)
        fields_of.update(changes)
        return new

    @property
    def stops(self) -> datetime | None:
        """When a timed infusion stops, on the clinic's clock (naive local time), or None for an
        event without a length. The one answer every output prints (JSON/CSV `stops`, the sheets'
        "pump stops", the patient calendar, the .ics end): `in_zone` has put the elapsed-time
        stops on the clock of the timeline's zone."""
        if self.time is None:
            return None
        if self.whole_days:
            return datetime.combine(self.end_date + timedelta(days=1), self.end_time or self.time)
        if self.duration_minutes and self.end_time is not None:
            return datetime.combine(self.end_date, self.end_time)
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON/CSV record (docs/cli.md). Dates are ISO strings."""
        w = self.working
        stops = self.stops
        return {
            "uid": self.uid,
            "kind": self.kind,
            "date": self.date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "time": self.time.strftime("%H:%M") if self.time else None,
            "end_time": self.end_time.strftime("%H:%M") if self.end_time else None,
            "stops": stops.strftime("%Y-%m-%dT%H:%M") if stops is not None else None,
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
            "whole_days": self.whole_days,
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


_EVENT_FIELD_SET = frozenset(f.name for f in fields(DoseEvent))
_new = object.__new__


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
    zone: str | None = None
    """The clinic's IANA zone the stop times are on (`in_zone`); None: a clock without
    daylight-saving changes."""

    def with_events(self, events: tuple[DoseEvent, ...], **changes: Any) -> Timeline:
        return replace(self, events=events, **changes)

    def by_cycle(self, cycle_id: str) -> list[DoseEvent]:
        return [e for e in self.events if e.cycle_id == cycle_id]

    def administrations(self) -> list[DoseEvent]:
        return [e for e in self.events if e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION)]

    @property
    def end(self) -> date:
        return max((e.end_date for e in self.events), default=self.start)


def infusion_stop(e: DoseEvent, zone: str | None = None) -> datetime | None:
    """When a timed event with a length stops, in `zone` (an aware datetime; naive when zone is
    None), or None when it has no length.

    The rule (issue 10), computed here once for every output:
    - a continuous infusion given on whole days (`whole_days`: days 1-7 from 09:00) stops at its
      start time on the clock, 09:00 on day 8, also when a daylight-saving change fell in
      between: that is where the next bag (a step-up) starts and what the nurse reads. Wall-clock
      arithmetic: an aware datetime plus whole days keeps its local time.
    - anything given over a number of hours (mesna over 69 h, doxorubicin over 24 h, a 3-h
      infusion) runs that many hours of real time: 69 h from 08:00 on Monday stops at 05:00 on
      Thursday, or 06:00 after spring forward and 04:00 after fall back.
    """
    if e.time is None:
        return None
    if e.whole_days:
        days = (e.end_date - e.date).days + 1
        start = datetime.combine(e.date, e.time)
        if zone is not None:
            start = start.replace(tzinfo=_zone(zone))
        return start + timedelta(days=days)
    if not e.duration_minutes:
        return None
    start = datetime.combine(e.date, e.time)
    if zone is None:
        return start + timedelta(minutes=e.duration_minutes)
    tz = _zone(zone)
    return (start.replace(tzinfo=tz).astimezone(UTC) + timedelta(minutes=e.duration_minutes)).astimezone(tz)


def in_zone(tl: Timeline, zone: str | None) -> Timeline:
    """The timeline with its stop times on the clock of the clinic's `zone`: every event given
    over a number of hours gets `end_date`/`end_time` from `infusion_stop`, so JSON, CSV, the
    sheets, the patient calendar and the .ics (which uses `infusion_stop` with its own zone)
    say the same time. Applied last, after plan records moved events."""
    if zone is None and tl.zone is None:
        return tl
    events = []
    warnings = list(tl.warnings)
    for e in tl.events:
        if e.time is not None and e.duration_minutes and not e.whole_days:
            stop = infusion_stop(e, zone)
            assert stop is not None
            naive = datetime.combine(e.date, e.time) + timedelta(minutes=e.duration_minutes)
            local = stop.replace(tzinfo=None)
            if e.continuous and zone is not None and local != naive:
                # a clinical point for staff, not a silent hour: doses at clock times (cyclophosphamide
                # every 12 h) stay on the clock, the pump does not, so what it covers changes
                warnings.append(
                    f"{CLOCK_CHANGE}{e.drug or e.title} from {e.date.isoformat()} {e.time:%H:%M}: the clocks change "
                    f"({zone}) during this {_hours(e.duration_minutes)} infusion, so it stops at "
                    f"{local:%H:%M} on {local.date().isoformat()} ({_hours(e.duration_minutes)} of real "
                    f"time; {naive:%H:%M} without the change), {_shift(local - naive)} than doses kept at "
                    "their clock times around it: check that it still covers what it must")
            e = e.with_(end_date=local.date(), end_time=local.time())
        events.append(e)
    return replace(tl, events=tuple(events), zone=zone, warnings=tuple(dict.fromkeys(warnings)))


def _shift(delta: timedelta) -> str:
    """`1 h earlier` (fall back) or `1 h later` (spring forward), on the clock."""
    minutes = int(delta.total_seconds() // 60)
    return f"{_hours(abs(minutes))} {'later' if minutes > 0 else 'earlier'}"


def _hours(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h} h" + (f" {m} min" if m else "")


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
