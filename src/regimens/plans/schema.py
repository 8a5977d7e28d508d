"""The plan file's rules: pydantic models with the same class names and fields (in the same order,
with the same defaults) as the plain records in plans/records.py and plans/plan.py, used only
where a plan file, a closures file or a recorded change is validated, and to write a plan (so it
is written by pydantic exactly as it was when these were the plan's own classes).

`to_plain` turns a validated model into the plain records every other module reads; `as_schema`
turns plain records back into these models without validating (for `model_dump`).
tests/plans/test_plan_schema.py checks that both sets keep the same fields.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from regimens.dosing.bsa import DEFAULT_FORMULA
from regimens.dosing.measurements import parse_height, parse_weight
from regimens.errors import RequestError
from regimens.plans import plan as _plain_plan
from regimens.plans import records as _plain_records
from regimens.plans.plan import FORMAT
from regimens.plans.records import CeaseWhy, ClosurePolicy, MoveMode, PlanRecord


class _Frozen(BaseModel):
    # defer_build: validators are built when first used, not at import (start-up time)
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True,
                              defer_build=True)


class PlanMove(_Frozen):
    target: str = Field(min_length=1)
    """A uid or `CYCLE_ID:DAY[:DRUG][#N]` (also written `CYCLE_ID.dDAY`)."""
    to: date
    at: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """New clock time of the first targeted dose; None keeps each dose's time."""
    mode: MoveMode = "dose"
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)
    override: str | None = None
    """Named override of a protocol rule the move breaks (who and why), or None."""


class PlanCease(_Frozen):
    drug: str | None = None
    """None: the whole treatment."""
    from_date: date = Field(alias="from")
    why: CeaseWhy
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)


class PlanAdministration(_Frozen):
    """A dose as the nurse recorded it: given (when, how much, by whom, second checker) or not."""

    uid: str = Field(min_length=1)
    given: bool = True
    at: datetime | None = None
    dose: float | None = Field(default=None, ge=0)
    unit: str | None = None
    by: str = Field(min_length=1)
    checked_by: str | None = None
    reason: str | None = None
    """Why it was not given (required then), or a remark."""

    @field_validator("at")
    @classmethod
    def _naive(cls, v: datetime | None) -> datetime | None:
        # clinic local time, as every time in a timeline
        return v.replace(tzinfo=None) if v is not None else v


class PriorExposure(_Frozen):
    """Dose received before this plan (an earlier regimen), entered for the cumulative total."""

    drug: str = Field(min_length=1)
    """Generic name, or `doxorubicin-equivalent` for an anthracycline total already converted."""
    amount: float = Field(gt=0)
    unit: Literal["mg", "mg/m2", "units", "units/m2"]
    source: str = Field(min_length=1)
    """Where the figure comes from (discharge letter, earlier plan) and, for a converted
    anthracycline total, the source of the conversion factor used."""
    by: str = Field(min_length=1)


class ClosureDay(_Frozen):
    date: date
    name: str = Field(min_length=1)


class ClosurePeriod(_Frozen):
    start: date
    end: date
    name: str = Field(min_length=1)


class PlanClosures(_Frozen):
    """A site's closed days as loaded into the plan (plans/closures.py reads the site file)."""

    site: str = Field(min_length=1)
    made_by: str = Field(min_length=1)
    """How the file was made (generator command, library and version) or who typed it."""
    closed_weekdays: tuple[Literal["monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"], ...] = ()
    dates: tuple[ClosureDay, ...] = ()
    periods: tuple[ClosurePeriod, ...] = ()
    policy: dict[str, ClosurePolicy] = {}
    """Kind of event → policy. Keys: cycle-start (anything on day 1 of a cycle but doses by mouth and
    inpatient doses), administration, oral (an administration by mouth, usually taken
    at home), premedication, lab, visit, assessment, procedure, hospitalization, default."""
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class PlanOverride(_Frozen):
    """A protocol or site rule knowingly crossed: which rule, who decided, why."""

    rule: str = Field(min_length=1)
    """e.g. `lifetime-limit:doxorubicin`."""
    name: str = Field(min_length=1)
    """The override as given (`--override 'Dr A Smith: cardiology review, LVEF 60 %'`)."""
    by: str = Field(min_length=1)


class _PlanFrozen(BaseModel):
    # the plan's own models: as the records, without aliases (so without populate_by_name)
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class PlanProtocol(_PlanFrozen):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    """sha256 of the protocol file the plan was made (or last accepted) with."""
    file: str | None = None
    """Path of the protocol file when it was given as a path rather than an id."""


class PlanMeasurements(_PlanFrozen):
    height_cm: float | None = Field(default=None, gt=0)
    weight_kg: float | None = Field(default=None, gt=0)
    bsa_m2: float | None = Field(default=None, gt=0)
    """Only when BSA was given directly; otherwise it is recalculated from height and weight."""
    age_years: float | None = Field(default=None, ge=0)
    measured_on: date | None = None
    bsa_formula: str = DEFAULT_FORMULA
    bsa_cap: float | None = Field(default=None, gt=0)
    height_given: str | None = None
    """The height as written when it was not in cm (`5 ft 9 in`); height_cm holds the conversion."""
    weight_given: str | None = None
    """The weight as written when it was not in kg (`154 lb`)."""
    confirmed: str | None = None
    """Why a measurement far outside the growth reference for the age is right (docs/dosing.md)."""

    @model_validator(mode="before")
    @classmethod
    def _units(cls, data: Any) -> Any:
        # a plan file may say `weight_kg: 154 lb` or `height_cm: 5ft9in`: converted, and the
        # written value kept beside the number (bare numbers stay kg and cm)
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key, given, parse in (("height_cm", "height_given", parse_height), ("weight_kg", "weight_given", parse_weight)):
            if isinstance(data.get(key), str):
                try:
                    q = parse(data[key], key)
                except RequestError as exc:
                    raise ValueError(str(exc)) from None
                data[key] = q.value
                if q.converted:
                    data[given] = q.given
        return data



class PlanModification(_PlanFrozen):
    drug: str = Field(min_length=1)
    change: str = Field(min_length=1)
    """`75%` (give 75 %), `-25%` (reduce by 25 %), `1 mg` or `750 mg/m2`."""
    from_cycle: str | None = None
    reason: str = Field(min_length=1)


class PlanCapOverride(_PlanFrozen):
    """A dose of `drug` may go above the protocol cap from `from_cycle` on (docs/dosing.md#caps)."""

    drug: str = Field(min_length=1)
    from_cycle: str | None = None
    reason: str = Field(min_length=1)


class PlanChange(_PlanFrozen):
    revision: int = Field(ge=1)
    recorded_on: date | None = None
    note: str = Field(min_length=1)
    """What changed (generated from the change itself)."""
    reason: str | None = None
    """Why, as the person recording it gave it (`--reason`)."""
    by: str | None = None
    """Who recorded it (`--by`)."""


class Plan(_PlanFrozen):
    """One patient's choices and reality for one protocol. Holds no name or identifier."""

    format: Literal["regimens-plan/1"] = FORMAT
    id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16,64}$")
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
    revision: int = Field(default=1, ge=1)
    history: tuple[PlanChange, ...] = ()
    # treatment as it really happens (plans/records.py, applied by plans/changes.py)
    moves: tuple[PlanMove, ...] = ()
    ceased: tuple[PlanCease, ...] = ()
    administrations: tuple[PlanAdministration, ...] = ()
    prior_exposure: tuple[PriorExposure, ...] = ()
    closures: PlanClosures | None = None
    overrides: tuple[PlanOverride, ...] = ()


# --- between the schema and the plain records ---------------------------------------------------

PLAIN: dict[str, type[PlanRecord]] = {
    name: obj for module in (_plain_records, _plain_plan) for name, obj in vars(module).items()
    if isinstance(obj, type) and issubclass(obj, PlanRecord) and obj is not PlanRecord
}
"""Plain record class by name: every schema model here has one of the same name."""


def to_plain(value: Any) -> Any:
    """A validated model (or a tuple or mapping of them) as plain records, every value kept."""
    if isinstance(value, BaseModel):
        cls = PLAIN[type(value).__name__]
        return cls(**{name: to_plain(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def as_schema(value: Any) -> Any:
    """Plain records as schema models, not validated (pydantic's `model_construct`), to dump."""
    if isinstance(value, PlanRecord):
        cls = globals()[type(value).__name__]
        return cls.model_construct(**{name: as_schema(getattr(value, name)) for name in value.FIELDS})
    if isinstance(value, tuple):
        return tuple(as_schema(v) for v in value)
    if isinstance(value, dict):
        return {k: as_schema(v) for k, v in value.items()}
    return value
