"""The protocol file format as frozen pydantic v2 models: the rules a file is validated with.

Used only when a file is parsed (protocol/loader.py); what a run reads is the validated result as
the plain dataclasses of model.py (same class names, fields and defaults), which `to_model` makes.
Field-by-field documentation with examples lives in docs/protocol-format.md; the docstrings here
are the short form. Cross-file rules (a source key that must exist, a day inside its cycle) live in
checks.py so that every problem of a file is reported at once with its line.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from regimens.protocol import model, units
from regimens.protocol.daysets import parse_cycle_filter, parse_days, parse_duration

ID = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]

# Limits no real protocol reaches (docs/protocol-format.md "Limits"); they keep a valid-looking
# file from asking for a schedule that would run for hours or fill memory.
MAX_CYCLES = 200
"""Cycles of one phase (the most in the shipped library: 15)."""
MAX_VALUE = 1e7
"""Largest dose value or cap in any unit (units/m2 of asparaginase are in the thousands)."""
Int = Annotated[int, Strict()]
"""A whole number as YAML writes it: `true` is not 1 and `21.0` is not 21."""
Route = Literal["IV", "PO", "IT", "SC", "IM"]
Confidence = Literal["high", "medium", "low"]


class Frozen(BaseModel):
    # defer_build: the validators are built at the first validation, not at import (the
    # `_salvaged_problems` pass of a broken file validates only some of the classes)
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False,
                              defer_build=True)


class Source(Frozen):
    """A document values are taken from. Items cite it by `key`."""

    key: ID
    """Short key items use in `source:` (e.g. `seed-004`, `adult-7b`)."""
    kind: Literal["seed", "reference", "site"]
    """`seed` = a trial record of ../shared/seeds; `reference` = an entry of ../shared/reference
    (which cites the label or publication); `site` = a local document of a site protocol."""
    cite: str = Field(min_length=1)
    """File name and section, e.g. `004_94d9d143a40d8968.txt` or `adult-regimens.md §7b (BL-PI)`."""
    url: str | None = None


class Registry(Frozen):
    """Registry identifiers of the study."""

    nct: str | None = Field(default=None, pattern=r"^NCT\d{8}$")
    """ClinicalTrials.gov number."""
    group: str | None = None
    """Cooperative-group or sponsor protocol number (e.g. `AALL1331`)."""
    other: tuple[str, ...] = ()
    """Any further identifiers (IRB numbers, NCI numbers)."""


class Ambiguity(Frozen):
    """An open question the public sources leave, and what this file does about it."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    resolution: str | None = None
    """What the protocol does by default and which decision (if any) offers the other reading."""


class Choice(Frozen):
    value: str = Field(min_length=1)
    label: str = Field(min_length=1)
    note: str | None = None
    implies: dict[str, str] = {}
    """Other decisions this choice settles: `{more_blina: "3"}`. The compiler sets them, and
    refuses a request that gives them another value (coupled decisions checked together)."""
    implies_source: str | None = None
    """Source key (+ locator) for `implies`; required with it."""

    @model_validator(mode="after")
    def _implies_source(self) -> Choice:
        if self.implies and not self.implies_source:
            raise ValueError("`implies` needs `implies_source` (the source that couples the decisions)")
        return self


class Decision(Frozen):
    """A named choice the treating team makes: optional drug, either/or drug, response path,
    number of cycles, or a variant reading of the sources."""

    label: str = Field(min_length=1)
    kind: Literal["optional", "either_or", "response", "count", "variant"]
    choices: tuple[Choice, ...] = Field(min_length=2)
    default: str | None = None
    """None means the user must choose (`--choose NAME=VALUE`)."""
    why_default: str = Field(min_length=1)
    """Why this default: the source that supports it, or why none can be assumed."""
    source: str | None = None
    marks_optional: bool | None = None
    """Whether outputs mark the items this decision places as optional. Unset: yes for `optional`
    and `either_or` decisions. Write `false` for an either/or where one alternative is always
    given (EA9181: dasatinib or ponatinib), so a sheet never calls a required drug optional."""

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> Decision:
        values = [c.value for c in self.choices]
        if len(set(values)) != len(values):
            raise ValueError("choice values must be unique")
        if self.default is not None and self.default not in values:
            raise ValueError(f"default {self.default!r} is not one of the choices {values}")
        if self.kind == "count" and not all(v.isdigit() and len(v) <= 3 and 0 < int(v) <= MAX_CYCLES
                                            for v in values):
            raise ValueError(f"a count decision needs whole-number choices from 1 to {MAX_CYCLES}")
        return self


def _known_unit(v: str | None) -> str | None:
    # Checked per field so a bad unit is reported at its own line (`dose.unit`), not the dose's.
    if v is not None:
        units.lookup(v)
    return v


class Band(Frozen):
    """A dose alternative that applies instead of the main dose when a patient condition holds
    (blinatumomab < 45 kg per m², cytarabine at age >= 60)."""

    weight_kg_lt: float | None = Field(default=None, gt=0, le=1000)
    weight_kg_ge: float | None = Field(default=None, gt=0, le=1000)
    age_lt: float | None = Field(default=None, ge=0, le=150)
    age_ge: float | None = Field(default=None, ge=0, le=150)
    value: float | None = Field(default=None, gt=0, le=MAX_VALUE)
    unit: str | None = None
    not_public: bool = False
    cap: float | None = Field(default=None, gt=0, le=MAX_VALUE)
    cap_unit: str | None = None
    source: str = Field(min_length=1)
    note: str | None = None

    _units = field_validator("unit", "cap_unit")(_known_unit)

    @model_validator(mode="after")
    def _check(self) -> Band:
        if not any(
            v is not None for v in (self.weight_kg_lt, self.weight_kg_ge, self.age_lt, self.age_ge)
        ):
            raise ValueError("a band needs a condition: weight_kg_lt/ge or age_lt/ge")
        _check_value_unit(self.value, self.unit, self.not_public, self.cap, self.cap_unit)
        return self

def _check_value_unit(value, unit, not_public, cap, cap_unit) -> None:
    if not_public:
        if value is not None:
            raise ValueError("a dose is either `not_public: true` or has a value, not both")
    elif value is None:
        raise ValueError("a dose needs a value, or `not_public: true` if no public source gives it")
    if unit is not None:
        units.lookup(unit)
    elif value is not None:
        raise ValueError("a dose value needs a unit")
    if cap is not None:
        if cap_unit is None:
            raise ValueError("a cap needs cap_unit")
        cu = units.lookup(cap_unit)
        if cu.basis is not units.Basis.FLAT:
            raise ValueError(f"cap_unit {cap_unit!r} must be a flat unit (mg, mcg/day, ...)")
        if unit is not None:
            u = units.lookup(unit)
            if u.patient_unit != cu.text:
                raise ValueError(
                    f"cap_unit {cap_unit!r} does not match the dose unit {unit!r}"
                    f" (expected {u.patient_unit!r})"
                )
            if value is not None and u.basis is units.Basis.FLAT and cap < value:
                raise ValueError(f"cap {cap:g} {cap_unit} is below the dose {value:g} {unit}")


class Dose(Frozen):
    """A dose as written in the protocol. Flat (`mg`), per m² (`mg/m2`), per kg (`mg/kg`) or a
    rate (`mcg/day`); the unit decides the basis. `not_public: true` when no source gives it."""

    value: float | None = Field(default=None, gt=0, le=MAX_VALUE)
    unit: str | None = None
    not_public: bool = False
    cap: float | None = Field(default=None, gt=0, le=MAX_VALUE)
    """Maximum patient dose per administration (vincristine 2 mg), in `cap_unit`."""
    cap_unit: str | None = None
    bands: tuple[Band, ...] = ()
    """Alternatives by weight or age; the first band whose condition holds replaces the dose."""
    text: str | None = None
    """The dose as the source words it, when that says more than value + unit."""
    reference: str | None = None
    """The value is a reference regimen's, not this trial's own, which is not public
    (`classic hyper-CVAD`): every output labels the dose "<reference> dose; this trial's dose not
    public" so it never reads as the trial's."""
    confidence: Confidence | None = None

    _units = field_validator("unit", "cap_unit")(_known_unit)

    @model_validator(mode="after")
    def _check(self) -> Dose:
        if self.reference is not None and self.not_public:
            raise ValueError("`reference` labels a value taken from a reference regimen; a not-public dose has none")
        _check_value_unit(self.value, self.unit, self.not_public, self.cap, self.cap_unit)
        return self


class Premedication(Frozen):
    """Marks an item as premedication given before events of another drug."""

    for_drug: str = Field(min_length=1)
    triggers: tuple[Literal["cycle_start", "step_up"], ...] = Field(min_length=1)
    """`cycle_start`: before the first infusion of the drug in the cycle; `step_up`: before a
    continuous infusion that raises the dose of the one it follows."""
    lead_minutes: Int = Field(default=60, ge=0, le=24 * 60)


EventKind = Literal[
    "hospitalization", "lab", "assessment", "procedure", "gate", "milestone", "visit"
]


class Item(Frozen):
    """One line of a course: an administration (`drug`) or a non-drug event (`event`)."""

    drug: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9 -]*$")
    """Generic name, lower case (tall-man lettering is applied on output)."""
    event: EventKind | None = None
    title: str | None = None
    """Display title of a non-drug event ("MRD assessment (bone marrow)")."""
    route: Route | None = None
    dose: Dose | None = None
    days: str | None = None
    """Cycle days: `1`, `1-4, 11-14`, `1,8,15`. Day 1 is the first day of the course. Required
    except for premedication, whose days follow from its triggers."""
    every_days: Int | None = Field(default=None, ge=2, le=400)
    """Keep every n-th day of `days` starting at its first day (weekly = 7)."""
    window: str | None = None
    """Days the item may fall on (`29-30`); the event is placed on the first listed day."""
    beyond_cycle: bool = False
    """Allow days after the course length (IT methotrexate on day 29/30 of a 28-day cycle)."""
    cycles: str = "all"
    """Which cycles of the phase (displayed numbers): `all`, `1`, `2+`, `1,3`, `odd`, `even`."""
    when: dict[str, str | tuple[str, ...]] = {}
    """Decisions this item depends on: `{anti_cd20: rituximab}`."""
    every_hours: Int | None = Field(default=None, ge=1, le=24)
    doses: Int | None = Field(default=None, ge=1, le=1000)
    """With `every_hours`: total doses, starting on the first listed day (q12h × 6)."""
    times_per_day: Int | None = Field(default=None, ge=1, le=6)
    """Several doses on each listed day at the configured times (BID = 2, TID = 3)."""
    at: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """Fixed clock time (HH:MM) overriding the configured default."""
    over: str | None = None
    """Infusion duration: `15 min`, `3 h`, `24 h`."""
    continuous: bool = False
    """One continuous infusion across each run of consecutive listed days (blinatumomab 1-28); with
    `over`, one infusion of that length from the listed day (mesna over 69 h, doxorubicin over
    24 h). Its total over the infusion is shown beside the rate and used in cumulative sums."""
    span: bool = False
    """Non-drug event shown once across its days (hospitalization days 1-3)."""
    premedication: Premedication | None = None
    source: str = Field(min_length=1)
    """Source key (see `sources`), optionally with a locator: `seed-000 §Arms`."""
    confidence: Confidence | None = None
    note: str | None = None

    @field_validator("days")
    @classmethod
    def _days(cls, v: str | None) -> str | None:
        if v is not None:
            parse_days(v)
        return v

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        if v is not None:
            parse_days(v)
        return v

    @field_validator("cycles")
    @classmethod
    def _cycles(cls, v: str) -> str:
        parse_cycle_filter(v)
        return v

    @field_validator("over")
    @classmethod
    def _over(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _shape(self) -> Item:
        if self.days is None and self.premedication is None:
            raise ValueError("`days` is required (e.g. '1-4, 11-14')")
        if self.days is not None and self.premedication is not None:
            raise ValueError("premedication days follow from its triggers; remove `days`")
        if (self.drug is None) == (self.event is None):
            raise ValueError("an item is either a `drug` administration or an `event`")
        if self.drug is not None:
            if self.route is None:
                raise ValueError(f"{self.drug}: an administration needs a route (IV, PO, IT, SC, IM)")
            if self.dose is None:
                raise ValueError(
                    f"{self.drug}: an administration needs a dose (or `dose: {{not_public: true}}`)"
                )
        else:
            if not self.title:
                raise ValueError("a non-drug event needs a title")
            if self.dose is not None or self.route is not None:
                raise ValueError("a non-drug event has no dose or route")
        if (self.every_hours is None) != (self.doses is None):
            raise ValueError("`every_hours` and `doses` go together (q12h × 6: every_hours 12, doses 6)")
        if self.every_hours and self.times_per_day:
            raise ValueError("use either `every_hours`/`doses` or `times_per_day`, not both")
        if self.continuous and (self.every_hours or self.times_per_day):
            raise ValueError("a continuous infusion has no separate dose times")
        if self.continuous and self.dose and self.dose.unit and not self.over and not units.per_day(
            units.lookup(self.dose.unit)
        ):
            raise ValueError("a continuous infusion is dosed per day (mcg/day, mcg/m2/day), or as a"
                             " total with `over` (50 mg/m2 over 24 h)")
        return self

class Course(Frozen):
    """A block, course or cycle template: a length and what happens on which day."""

    name: str = Field(min_length=1)
    """Display name ("Blinatumomab Block 1"); the id is the mapping key."""
    length_days: Int | None = Field(default=None, ge=1, le=400)
    """Days from day 1 of this course to day 1 of the next; null only with `length_not_public`."""
    length_not_public: bool = False
    length_source: str | None = None
    rest_days: str | None = None
    """Treatment-free tail, e.g. `29-42` (shown as its own event)."""
    start_gate: str | None = None
    """A condition for day 1 ("counts recovered"); shown as a gate event on day 1."""
    terminal: bool = False
    """Nothing follows (HSCT, off protocol therapy)."""
    content_not_public: bool = False
    """The drugs of this course are not public: the course appears on the timeline as a phase
    event marked "per full protocol", so a site can complete it in its own protocol file."""
    next_start_early: bool = False
    """The next cycle may start before this course's full length has passed, once its last
    treatment is over (hyper-CVAD: "every 21 days or sooner once counts recover"). Unset: an
    `--actual-start` before the course has ended is refused with the earliest allowed date."""
    next_start_early_source: str | None = None
    """Source key (+ locator) that allows the early start; required with `next_start_early`."""
    items: tuple[Item, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _length(self) -> Course:
        if self.next_start_early and not self.next_start_early_source:
            raise ValueError("next_start_early needs next_start_early_source (the source that allows it)")
        if self.length_days is None and not (self.length_not_public or self.terminal):
            raise ValueError(
                "length_days is required; if no source gives it, write `length_not_public: true`"
            )
        if self.length_days is not None and self.length_not_public:
            raise ValueError("length_days and length_not_public: true contradict each other")
        if self.length_days is not None and not self.length_source:
            raise ValueError("length_days needs length_source (the source key that gives it)")
        if self.rest_days is not None:
            parse_days(self.rest_days)
        return self


class Phase(Frozen):
    """Cycles of one or more courses in a repeating pattern (A, B, A, B; POMP ×3 then blina)."""

    name: str = Field(min_length=1)
    pattern: tuple[ID, ...] = Field(min_length=1)
    """Course ids used in turn: cycle n uses pattern[(n - 1) % len(pattern)]."""
    cycles: int | str = 1
    """Number of cycles (at most MAX_CYCLES), or the name of a `count` decision."""
    number_from: Int = Field(default=1, ge=1, le=1000)
    """Displayed number of the first cycle (consolidation cycles 5-8: 5)."""
    total_cycles_not_public: bool = False
    """The total number of cycles is not public (the count is what the sources describe): the
    schedule's last event says that treatment continues per the treating team."""
    source: str = Field(min_length=1)
    note: str | None = None

    @field_validator("cycles", mode="before")
    @classmethod
    def _cycles(cls, v):
        # one message, not one per member of the union; `true` is not 1 cycle
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError(f"expected a whole number of cycles or the name of a `count` decision, got {v!r}"[:120])
        if isinstance(v, int) and v > MAX_CYCLES:  # below 1: checks.py says so
            raise ValueError(f"a phase has at most {MAX_CYCLES} cycles, got {v:,}" if v < 10**12
                             else f"a phase has at most {MAX_CYCLES} cycles")
        return v


class Branch(Frozen):
    """A point in an arm's sequence chosen by a decision (response path IB / IC)."""

    decision: str
    options: dict[str, tuple[ID, ...]]


class Arm(Frozen):
    """An arm or cohort: the registry's own label and an ordered sequence of phases/courses."""

    label: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1)
    common: bool = True
    """Prefix the protocol's `common` elements (shared before randomization)."""
    sequence: tuple[ID | Branch, ...] = ()
    source: str = Field(min_length=1)
    note: str | None = None
    then: str | None = None
    """What follows this arm's last element when the schedule does not show it ("randomization
    to Arm B or Arm C", "therapy after the last blinatumomab cycle is not public"); printed by
    the schedule's last event, which then says that treatment continues per the treating team."""


class EligibilityLimit(Frozen):
    """A patient limit the record states (an exclusion or inclusion criterion), as data: a patient
    for whom a condition holds is outside the study (NCT03114865: "Weight <45 kg" excluded). Every
    output warns, and patient doses are refused without a named confirmation (docs/dosing.md)."""

    id: ID
    """Name used to confirm it: `--confirm-outside weight`."""
    weight_kg_lt: float | None = Field(default=None, gt=0)
    weight_kg_ge: float | None = Field(default=None, gt=0)
    age_lt: float | None = Field(default=None, ge=0)
    age_ge: float | None = Field(default=None, ge=0)
    criterion: str = Field(min_length=1)
    """The record's words (`Exclusion: Weight <45 kg`)."""
    consequence: str = Field(min_length=1)
    """What it means for the doses of this file, e.g. that the flat adult doses do not apply."""
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> EligibilityLimit:
        if all(v is None for v in (self.weight_kg_lt, self.weight_kg_ge, self.age_lt, self.age_ge)):
            raise ValueError("a limit needs a condition: weight_kg_lt/ge or age_lt/ge (outside when it holds)")
        return self

class Protocol(Frozen):
    """A regimen definition: everything needed to compile a schedule, and where it came from."""

    id: ID
    title: str = Field(min_length=1)
    short_title: str | None = None
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    registry: Registry
    sources: tuple[Source, ...] = Field(min_length=1)
    ambiguities: tuple[Ambiguity, ...] = ()
    not_public: tuple[str, ...] = ()
    """Plain list of what no public source gives (shown by `regimens show`)."""
    decisions: dict[ID, Decision] = {}
    courses: dict[ID, Course] = Field(min_length=1)
    phases: dict[ID, Phase] = {}
    common: tuple[ID, ...] = ()
    """Elements every arm starts with (before randomization)."""
    arms: tuple[Arm, ...] = Field(min_length=1)
    default_arm: str | None = None
    """The arm used when `--arm` is omitted; only for single-arm studies."""
    eligibility: tuple[EligibilityLimit, ...] = ()
    """Patient limits the record states (weight, age), each with its source."""
    notes: str | None = None


def to_model(value):
    """Validated schema objects → the plain model.py objects of the same names and fields (tuples
    and mappings of them too); anything else as it is."""
    if isinstance(value, BaseModel):
        cls = getattr(model, type(value).__name__)
        return cls(**{name: to_model(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, tuple):
        return tuple(to_model(v) for v in value)
    if isinstance(value, dict):
        return {k: to_model(v) for k, v in value.items()}
    return value
