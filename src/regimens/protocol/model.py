"""A validated protocol as plain frozen records: what the compiler, dosing, the exporters, the web
service and `regimens show` read, and what the parse cache (protocol/cache.py) stores.

The file format's rules live in schema.py: pydantic models with the same class names and fields
(in the same order, with the same defaults), used only when a file is parsed. The loader
validates a file with them and converts the result to these classes (`schema.to_model`), so a
run that takes its protocol from the cache never imports pydantic (its import and the model
classes were 80-110 ms of CPU of every `regimens ics` run; unpickling these takes 1 ms).
tests/protocol/test_model_schema.py checks that both keep the same fields. What each field
means: schema.py and docs/protocol-format.md.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

Route = Literal["IV", "PO", "IT", "SC", "IM"]
Confidence = Literal["high", "medium", "low"]
EventKind = Literal["hospitalization", "lab", "assessment", "procedure", "gate", "milestone", "visit"]


class Record:
    """A frozen record whose fields are its class annotations, in order; a class attribute of the
    same name is the field's default (a `{}` default is copied for each record).

    Hand-written rather than `@dataclass(frozen=True)`: dataclasses generate their methods with
    `exec` at import, 11-17 ms of CPU for these 15 classes on every run (measured 2026-12-02, as
    much as pydantic took to build them), against well under 1 ms here. Keyword-only, compared
    field by field within one class, hashable when every value is (like the pydantic models).
    Pickled by the default protocol: unpickling fills `__dict__` without `__init__`."""

    FIELDS: ClassVar[tuple[str, ...]] = ()
    DEFAULTS: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = tuple(n for n, t in cls.__dict__.get("__annotations__", {}).items() if not t.startswith("ClassVar"))
        cls.FIELDS = names
        cls.DEFAULTS = {n: cls.__dict__[n] for n in names if n in cls.__dict__}

    def __init__(self, **values: Any) -> None:
        own = self.__dict__
        for name in self.FIELDS:
            if name in values:
                own[name] = values.pop(name)
            elif name in self.DEFAULTS:
                value = self.DEFAULTS[name]
                own[name] = dict(value) if type(value) is dict else value
            else:
                raise TypeError(f"{type(self).__name__}() missing the field {name!r}")
        if values:
            raise TypeError(f"{type(self).__name__}() has no field {next(iter(values))!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def _values(self) -> tuple:
        own = self.__dict__
        return tuple(own.get(n, self.DEFAULTS.get(n)) for n in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, self._values()))

    def __repr__(self) -> str:
        own = self.__dict__
        return f"{type(self).__name__}({', '.join(f'{n}={own[n]!r}' for n in self.FIELDS if n in own)})"


class Source(Record):
    key: str
    kind: Literal["seed", "reference", "site"]
    cite: str
    url: str | None = None


class Registry(Record):
    nct: str | None = None
    group: str | None = None
    other: tuple[str, ...] = ()


class Ambiguity(Record):
    id: str
    text: str
    sources: tuple[str, ...]
    resolution: str | None = None


class Choice(Record):
    value: str
    label: str
    note: str | None = None
    implies: dict[str, str] = {}
    implies_source: str | None = None


class Decision(Record):
    label: str
    kind: Literal["optional", "either_or", "response", "count", "variant"]
    choices: tuple[Choice, ...]
    default: str | None = None
    why_default: str
    source: str | None = None
    marks_optional: bool | None = None


class Band(Record):
    weight_kg_lt: float | None = None
    weight_kg_ge: float | None = None
    age_lt: float | None = None
    age_ge: float | None = None
    value: float | None = None
    unit: str | None = None
    not_public: bool = False
    cap: float | None = None
    cap_unit: str | None = None
    source: str
    note: str | None = None

    def describe(self) -> str:
        parts = []
        if self.weight_kg_lt is not None:
            parts.append(f"weight < {self.weight_kg_lt:g} kg")
        if self.weight_kg_ge is not None:
            parts.append(f"weight >= {self.weight_kg_ge:g} kg")
        if self.age_lt is not None:
            parts.append(f"age < {self.age_lt:g} years")
        if self.age_ge is not None:
            parts.append(f"age >= {self.age_ge:g} years")
        return " and ".join(parts)


class Dose(Record):
    value: float | None = None
    unit: str | None = None
    not_public: bool = False
    cap: float | None = None
    cap_unit: str | None = None
    bands: tuple[Band, ...] = ()
    text: str | None = None
    reference: str | None = None
    confidence: Confidence | None = None


class Premedication(Record):
    for_drug: str
    triggers: tuple[Literal["cycle_start", "step_up"], ...]
    lead_minutes: int = 60


class Item(Record):
    drug: str | None = None
    event: EventKind | None = None
    title: str | None = None
    route: Route | None = None
    dose: Dose | None = None
    days: str | None = None
    every_days: int | None = None
    window: str | None = None
    beyond_cycle: bool = False
    cycles: str = "all"
    when: dict[str, str | tuple[str, ...]] = {}
    every_hours: int | None = None
    doses: int | None = None
    times_per_day: int | None = None
    at: str | None = None
    over: str | None = None
    continuous: bool = False
    span: bool = False
    premedication: Premedication | None = None
    source: str
    confidence: Confidence | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        return self.drug or self.title or ""


class Course(Record):
    name: str
    length_days: int | None = None
    length_not_public: bool = False
    length_source: str | None = None
    rest_days: str | None = None
    start_gate: str | None = None
    terminal: bool = False
    content_not_public: bool = False
    next_start_early: bool = False
    next_start_early_source: str | None = None
    items: tuple[Item, ...] = ()
    note: str | None = None


class Phase(Record):
    name: str
    pattern: tuple[str, ...]
    cycles: int | str = 1
    number_from: int = 1
    total_cycles_not_public: bool = False
    source: str
    note: str | None = None


class Branch(Record):
    decision: str
    options: dict[str, tuple[str, ...]]


class Arm(Record):
    label: str
    name: str
    common: bool = True
    sequence: tuple[str | Branch, ...] = ()
    source: str
    note: str | None = None
    then: str | None = None


class EligibilityLimit(Record):
    id: str
    weight_kg_lt: float | None = None
    weight_kg_ge: float | None = None
    age_lt: float | None = None
    age_ge: float | None = None
    criterion: str
    consequence: str
    source: str

    def outside(self, weight_kg: float | None, age_years: float | None) -> str | None:
        """`weight 40 kg < 45 kg` when the patient is outside by this limit; None when inside or unknown."""
        for value, bound, op, what, unit in (
            (weight_kg, self.weight_kg_lt, "<", "weight", "kg"), (weight_kg, self.weight_kg_ge, ">=", "weight", "kg"),
            (age_years, self.age_lt, "<", "age", "years"), (age_years, self.age_ge, ">=", "age", "years"),
        ):
            if value is None or bound is None:
                continue
            if (value < bound) if op == "<" else (value >= bound):
                return f"{what} {value:g} {unit} {op} {bound:g} {unit}"
        return None


class Protocol(Record):
    id: str
    title: str
    short_title: str | None = None
    version: str
    registry: Registry
    sources: tuple[Source, ...]
    ambiguities: tuple[Ambiguity, ...] = ()
    not_public: tuple[str, ...] = ()
    decisions: dict[str, Decision] = {}
    courses: dict[str, Course]
    phases: dict[str, Phase] = {}
    common: tuple[str, ...] = ()
    arms: tuple[Arm, ...]
    default_arm: str | None = None
    eligibility: tuple[EligibilityLimit, ...] = ()
    notes: str | None = None

    def source_keys(self) -> set[str]:
        return {s.key for s in self.sources}

    def arm(self, label: str) -> Arm | None:
        for a in self.arms:
            if a.label == label:
                return a
        return None


def source_key(ref: str) -> str:
    """`seed-000 §Arms` → `seed-000`."""
    return re.split(r"\s", ref.strip(), maxsplit=1)[0]
