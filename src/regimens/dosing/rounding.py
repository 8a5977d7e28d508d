"""Dose rounding rules as data: increments by patient unit (per drug or default), a never-round
list and a largest allowed change. Shipped default: regimens/dosing/data/rounding.yaml; a site replaces
any top-level key with its own file (`--rounding FILE`). See docs/dosing.md#rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from regimens.errors import RequestError
from regimens.notation.ismp import format_number, format_unit
from regimens.protocol import units


class _Frozen(BaseModel):
    # defer_build: validators are built when first used, not at import (start-up time)
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Tier(_Frozen):
    below: float | None = Field(default=None, gt=0)
    """This increment applies to doses below this value (None: to every larger dose)."""
    increment: float = Field(gt=0)


Tiers = tuple[Tier, ...]


def _check_units(table: dict[str, Tiers], where: str) -> None:
    patient_units = {u.patient_unit for u in units.UNITS.values()}
    for unit, tiers in table.items():
        if unit not in patient_units:
            raise ValueError(f"{where}: {unit!r} is not a patient dose unit ({', '.join(sorted(patient_units))})")
        if not tiers:
            raise ValueError(f"{where}.{unit}: give at least one tier")
        if tiers[-1].below is not None:
            raise ValueError(f"{where}.{unit}: the last tier needs no `below`, so every dose has an increment")


class RoundingRules(_Frozen):
    source: str = Field(min_length=1)
    """What policy this is and where it comes from (printed in the working)."""
    max_change_percent: float = Field(default=5, ge=0, le=10)
    """A rounding step that would move a dose by more than this is not applied."""
    default: dict[str, Tiers] = {}
    drugs: dict[str, dict[str, Tiers]] = {}
    never_round: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> RoundingRules:
        _check_units(self.default, "default")
        for drug, table in self.drugs.items():
            _check_units(table, f"drugs.{drug}")
        return self

    def round(self, drug: str | None, value: float, unit: str) -> tuple[float, str | None]:
        """(rounded value, what was done) for a dose in a patient unit."""
        name = (drug or "").lower()
        if name in {d.lower() for d in self.never_round}:
            return value, f"not rounded ({name} is on the never-round list)"
        tiers = self.drugs.get(name, {}).get(unit) or self.default.get(unit)
        if not tiers:
            return value, None
        inc = next(t.increment for t in tiers if t.below is None or value < t.below)
        step = Decimal(repr(inc))
        rounded = float((Decimal(repr(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)
        if rounded == value:
            return value, None
        change = (rounded - value) / value * 100
        what = f"nearest {format_number(inc)} {format_unit(unit)}"
        if abs(change) > self.max_change_percent + 1e-9 or rounded <= 0:
            return value, (f"not rounded: {what} ({format_number(rounded)}) would move the dose"
                           f" {change:+.1f} %, more than the {format_number(self.max_change_percent)} % limit")
        return rounded, (f"rounded to the {what}: {format_number(value)} → {format_number(rounded)}"
                         f" {format_unit(unit)} ({change:+.1f} %)")


def parse_rules(text: str, name: str) -> dict:
    import yaml  # here, not at the top: most runs never read or write this kind of file

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RequestError(f"{name}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict):
        raise RequestError(f"{name}: a rounding file is a YAML mapping (source:, default:, drugs:, never_round:)")
    return data


def _validate(data: dict, name: str) -> RoundingRules:
    try:
        return RoundingRules.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        msg = err["msg"].removeprefix("Value error, ")
        raise RequestError(f"{name}: {where}: {msg}; see docs/dosing.md#rounding") from None


def shipped_text() -> str:
    return (resources.files("regimens.dosing") / "data" / "rounding.yaml").read_text(encoding="utf-8")


def default_rules() -> RoundingRules:
    return _validate(parse_rules(shipped_text(), "rounding.yaml (shipped)"), "rounding.yaml (shipped)")


def load_rules(site_text: str | None = None, site_name: str = "rounding file") -> RoundingRules:
    """The shipped rules, with every top-level key the site file gives replacing the shipped one
    as a whole (no deep merge: a site's `drugs:` is its complete per-drug list)."""
    data = parse_rules(shipped_text(), "rounding.yaml (shipped)")
    if site_text is not None:
        site = parse_rules(site_text, site_name)
        data.update(site)
        if "source" not in site:
            data["source"] = f"{data['source']}; with {site_name}"
        return _validate(data, site_name)
    return _validate(data, "rounding.yaml (shipped)")
