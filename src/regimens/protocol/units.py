"""The closed unit vocabulary. Anything not listed here is refused when a protocol is read.

ISMP: write `mcg` (never µg or ug), spell out `units` (never U or IU), no `cc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Basis(str, Enum):
    """What a written dose is multiplied by to give the patient's dose."""

    FLAT = "flat"
    PER_M2 = "per_m2"
    PER_KG = "per_kg"


@dataclass(frozen=True)
class Unit:
    """A unit as written in a protocol, the basis it implies and the unit of the patient dose."""

    text: str
    basis: Basis
    patient_unit: str


_UNITS = [
    Unit("mg", Basis.FLAT, "mg"),
    Unit("g", Basis.FLAT, "g"),
    Unit("mcg", Basis.FLAT, "mcg"),
    Unit("units", Basis.FLAT, "units"),
    Unit("mL", Basis.FLAT, "mL"),
    Unit("mg/day", Basis.FLAT, "mg/day"),
    Unit("mcg/day", Basis.FLAT, "mcg/day"),
    Unit("mg/m2", Basis.PER_M2, "mg"),
    Unit("g/m2", Basis.PER_M2, "g"),
    Unit("mcg/m2", Basis.PER_M2, "mcg"),
    Unit("units/m2", Basis.PER_M2, "units"),
    Unit("mg/m2/day", Basis.PER_M2, "mg/day"),
    Unit("mcg/m2/day", Basis.PER_M2, "mcg/day"),
    Unit("mg/kg", Basis.PER_KG, "mg"),
    Unit("mcg/kg", Basis.PER_KG, "mcg"),
    Unit("units/kg", Basis.PER_KG, "units"),
    Unit("mg/kg/day", Basis.PER_KG, "mg/day"),
    Unit("mcg/kg/day", Basis.PER_KG, "mcg/day"),
]

UNITS: dict[str, Unit] = {u.text: u for u in _UNITS}

# Spellings people type that ISMP forbids; the message names the safe spelling.
_FORBIDDEN_HINTS = {
    "µg": "mcg",
    "μg": "mcg",
    "ug": "mcg",
    "U": "units",
    "u": "units",
    "IU": "units",
    "cc": "mL",
}


def lookup(text: str) -> Unit:
    """Return the unit for `text` or raise ValueError with the fix in the message."""
    if text in UNITS:
        return UNITS[text]
    for bad, good in _FORBIDDEN_HINTS.items():
        if bad in text.split("/"):
            fixed = "/".join(good if part == bad else part for part in text.split("/"))
            raise ValueError(
                f"unit {text!r} is not allowed (ISMP error-prone abbreviation); write {fixed!r}"
            )
    # m^2 and m² are how people type square metres; the vocabulary spells it m2.
    squared = text.replace("^2", "2").replace("²", "2").replace(" ", "")
    if squared in UNITS:
        raise ValueError(f"unknown unit {text!r}; write {squared!r}")
    known = ", ".join(UNITS)
    raise ValueError(f"unknown unit {text!r}; use one of: {known}")


def per_day(unit: Unit) -> bool:
    """True for rate units (mcg/day): the dose runs over a day, as in a continuous infusion."""
    return unit.text.endswith("/day")
