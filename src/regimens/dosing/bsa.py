"""Patient measurements and body surface area (BSA): the five formulas in clinical use, each with
its publication, and the plausibility checks every measurement passes before a dose is
calculated from it (docs/dosing.md).

Every refusal is one RequestError line naming the value, the accepted range and the fix: a dose
calculated from a typo (height in metres, height and weight swapped) is worse than no dose.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from regimens.errors import RequestError
from regimens.notation.ismp import format_number


@dataclass(frozen=True)
class Formula:
    key: str
    name: str
    expression: str
    """The formula as a pharmacist writes it; H = height in cm, W = weight in kg."""
    citation: str
    fn: Callable[[float, float], float]


def _mosteller(h: float, w: float) -> float:
    return math.sqrt(h * w / 3600)


def _dubois(h: float, w: float) -> float:
    return 0.007184 * w**0.425 * h**0.725


def _haycock(h: float, w: float) -> float:
    return 0.024265 * w**0.5378 * h**0.3964


def _gehan_george(h: float, w: float) -> float:
    return 0.0235 * w**0.51456 * h**0.42246


def _boyd(h: float, w: float) -> float:
    # Boyd's formula takes weight in grams; the exponent itself depends on weight.
    g = w * 1000
    return 0.0003207 * h**0.3 * g ** (0.7285 - 0.0188 * math.log10(g))


FORMULAS: dict[str, Formula] = {
    f.key: f
    for f in (
        Formula("mosteller", "Mosteller", "√(H × W / 3600)",
                "Mosteller RD. Simplified calculation of body-surface area. "
                "N Engl J Med 1987;317(17):1098.", _mosteller),
        Formula("dubois", "DuBois & DuBois", "0.007184 × W^0.425 × H^0.725",
                "Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if "
                "height and weight be known. Arch Intern Med 1916;17(6):863-871.", _dubois),
        Formula("haycock", "Haycock", "0.024265 × W^0.5378 × H^0.3964",
                "Haycock GB, Schwartz GJ, Wisotsky DH. Geometric method for measuring body "
                "surface area: a height-weight formula validated in infants, children, and "
                "adults. J Pediatr 1978;93(1):62-66.", _haycock),
        Formula("gehan-george", "Gehan & George", "0.0235 × W^0.51456 × H^0.42246",
                "Gehan EA, George SL. Estimation of human body surface area from height and "
                "weight. Cancer Chemother Rep 1970;54(4):225-235.", _gehan_george),
        Formula("boyd", "Boyd", "0.0003207 × H^0.3 × (1000 W)^(0.7285 − 0.0188 × log10(1000 W))",
                "Boyd E. The Growth of the Surface Area of the Human Body. Minneapolis: "
                "University of Minnesota Press; 1935.", _boyd),
    )
}
DEFAULT_FORMULA = "mosteller"

# Plausibility limits. They are not clinical limits: they catch typing and unit errors (height in
# metres, weight in pounds above 350, height and weight swapped) while accepting every patient a
# chemotherapy protocol doses, from infants to very tall or very heavy adults.
BSA_RANGE = (0.2, 3.5)
"""m²; the range the issue and most order-entry systems accept."""
HEIGHT_RANGE = (40.0, 250.0)
"""cm."""
WEIGHT_RANGE = (2.0, 350.0)
"""kg."""
AGE_RANGE = (0.0, 120.0)
"""years."""
BMI_RANGE = (7.0, 110.0)
"""kg/m²: outside it height and weight cannot belong to one person (swapped, or a unit error)."""
BSA_TOLERANCE = 0.10
"""A BSA given together with height and weight may differ from the one calculated from them by
at most 10 %: the five formulas agree within about 5 % for ordinary adults, so a larger gap means
one of the three numbers is wrong."""


def _bsa_round(x: float) -> float:
    """BSA is used as printed (2 decimals, half up) so the working can be redone on paper."""
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _check_range(name: str, value: float, rng: tuple[float, float], unit: str, hint: str = "") -> None:
    if not math.isfinite(value) or not rng[0] <= value <= rng[1]:
        lo, hi = (format_number(x) for x in rng)
        raise RequestError(
            f"{name} {format_number(value) if math.isfinite(value) else value} {unit} is not"
            f" plausible (accepted {lo}-{hi} {unit}){hint}; check the measurement"
        )


@dataclass(frozen=True)
class Measurements:
    """What dosing needs to know about the patient. Refused at construction when implausible."""

    height_cm: float | None = None
    weight_kg: float | None = None
    bsa_m2: float | None = None
    """BSA as given (`--bsa`); None when it is calculated from height and weight."""
    age_years: float | None = None
    measured_on: date | None = None
    formula: str = DEFAULT_FORMULA
    bsa_cap: float | None = None
    """Institution BSA cap in m²: a larger BSA is replaced by the cap for per-m² doses."""
    height_given: str | None = None
    """The height as given when it was converted (`5 ft 9 in`, `69 in`); shown beside the cm."""
    weight_given: str | None = None
    """The weight as given when it was converted (`154 lb`); shown beside the kg."""
    confirmed: str | None = None
    """Reason a measurement beyond the growth reference's advisory limit for the age is confirmed
    (`--confirm-measurements --reason`); without it such a measurement is refused."""

    def __post_init__(self) -> None:
        if self.formula not in FORMULAS:
            raise RequestError(f"unknown BSA formula {self.formula!r}; use one of {', '.join(FORMULAS)}")
        if self.height_cm is not None:
            hint = (f" (it looks like metres: {format_number(self.height_cm)} m ="
                    f" {format_number(self.height_cm * 100)} cm)") if 0 < self.height_cm < 3 else ""
            _check_range("height", self.height_cm, HEIGHT_RANGE, "cm", hint)
        if self.weight_kg is not None:
            _check_range("weight", self.weight_kg, WEIGHT_RANGE, "kg")
        if self.age_years is not None:
            _check_range("age", self.age_years, AGE_RANGE, "years")
        if self.bsa_m2 is not None:
            _check_range("BSA", self.bsa_m2, BSA_RANGE, "m²")
        if self.bsa_cap is not None:
            _check_range("BSA cap", self.bsa_cap, BSA_RANGE, "m²")
        if self.height_cm is not None and self.weight_kg is None and self.bsa_m2 is None:
            raise RequestError("height alone gives no BSA: give --weight too (or --bsa)")
        if self.height_cm is not None and self.weight_kg is not None:
            bmi = self.weight_kg / (self.height_cm / 100) ** 2
            if not BMI_RANGE[0] <= bmi <= BMI_RANGE[1]:
                # No values in the message: a batch log must not carry a row's measurements
                # (docs/batch.md); the person who typed them has them in front of them.
                raise RequestError(
                    f"height and weight do not fit one person (their BMI is outside"
                    f" {BMI_RANGE[0]:g}-{BMI_RANGE[1]:g} kg/m²); check they are not swapped or in other units"
                )
            self._check_for_age()
            calc = self.bsa_calculated
            _check_range(f"BSA calculated from height and weight ({FORMULAS[self.formula].name})",
                         calc, BSA_RANGE, "m²")
            if self.bsa_m2 is not None and abs(self.bsa_m2 - calc) > BSA_TOLERANCE * calc:
                raise RequestError(
                    f"the BSA given disagrees with height and weight ({FORMULAS[self.formula].name},"
                    f" more than {BSA_TOLERANCE:.0%} apart); correct one, or give --bsa or height/weight alone"
                )

        if self.height_cm is None or self.weight_kg is None:
            self._check_for_age()

    def growth(self) -> list:
        """growth.Finding for each measurement the growth reference covers at this age."""
        from regimens.dosing import growth

        return growth.assess(self.age_years, self.height_cm, self.weight_kg)

    def growth_notes(self) -> list[str]:
        """`weight 30 kg at age 8 years: SDS +0.9 (boys) / +0.8 (girls)` per measurement."""
        from regimens.dosing.growth import REFERENCE

        return [f"{f.text()} ({REFERENCE})" for f in self.growth()]

    def growth_warnings(self) -> list[str]:
        """Confirmed measurements beyond the advisory limit: said on every output."""
        from regimens.dosing.growth import REFERENCE

        # it reaches calendars and sheets: the measure is named, the patient's value is not
        return [f"MEASUREMENT UNUSUAL FOR AGE, confirmed (reason: {self.confirmed}): {f.measure} beyond the"
                f" advisory limit of {REFERENCE}" for f in self.growth() if f.level == "advisory"]

    def _check_for_age(self) -> None:
        from regimens.dosing.growth import REFERENCE

        for f in self.growth():
            if f.level == "ok":
                continue
            hint = ""
            if f.measure == "weight" and f.z > 0 or f.measure == "BMI" and f.z > 0:
                hint = (f"; if it is in pounds write {format_number(self.weight_kg)}lb"
                        f" (= {format_number(round(self.weight_kg * 0.45359237, 2))} kg)")
            elif f.measure == "height" and f.z < 0:
                hint = (f"; if it is in inches write {format_number(self.height_cm)}in"
                        f" (= {format_number(round(self.height_cm * 2.54, 2))} cm)")
            if f.level == "error":
                raise RequestError(f"{f.text()} is not plausible for the age ({REFERENCE}: beyond its error"
                                   f" limit){hint}; check the measurement, its unit and the age")
            if not self.confirmed:
                raise RequestError(f"{f.text()} is far outside the usual range for the age ({REFERENCE}:"
                                   f" beyond its advisory limit){hint}; check the measurement and its unit,"
                                   " or confirm it with --confirm-measurements --reason TEXT")

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.height_cm, self.weight_kg, self.bsa_m2, self.age_years))

    @property
    def bsa_calculated(self) -> float | None:
        if self.height_cm is None or self.weight_kg is None:
            return None
        return _bsa_round(FORMULAS[self.formula].fn(self.height_cm, self.weight_kg))

    @property
    def bsa(self) -> float | None:
        """The patient's BSA (given, else calculated), before any institution cap."""
        return self.bsa_m2 if self.bsa_m2 is not None else self.bsa_calculated

    @property
    def bsa_used(self) -> float | None:
        """The BSA per-m² doses are multiplied by: the institution cap when the BSA exceeds it."""
        b = self.bsa
        if b is None or self.bsa_cap is None:
            return b
        return min(b, self.bsa_cap)

    def bsa_text(self) -> str | None:
        """`BSA 2 m² (Mosteller √(180 cm × 80 kg / 3600), measured 2027-01-02)`."""
        b = self.bsa
        if b is None:
            return None
        if self.bsa_m2 is not None:
            how = "as given"
            calc = self.bsa_calculated
            if calc is not None:
                how += (f"; height {format_number(self.height_cm)} cm and weight"
                        f" {format_number(self.weight_kg)} kg give {format_number(calc)} m² by"
                        f" {FORMULAS[self.formula].name}, within {BSA_TOLERANCE:.0%}")
        else:
            f = FORMULAS[self.formula]
            how = (f"{f.name} {f.expression} with H {format_number(self.height_cm)} cm,"
                   f" W {format_number(self.weight_kg)} kg") if self.formula != "mosteller" else (
                f"Mosteller √({format_number(self.height_cm)} cm × {format_number(self.weight_kg)} kg / 3600)")
            given = [f"{x} = {format_number(v)} {u}" for x, v, u in
                     ((self.height_given, self.height_cm, "cm"), (self.weight_given, self.weight_kg, "kg")) if x]
            if given:
                how += f"; given as {', '.join(given)}"
        text = f"BSA {format_number(b)} m² ({how}{self._when()})"
        if self.bsa_used is not None and self.bsa_used < b:
            text += f", capped at {format_number(self.bsa_used)} m² (institution BSA cap)"
        return text

    def weight_text(self) -> str | None:
        if self.weight_kg is None:
            return None
        given = f" (given as {self.weight_given})" if self.weight_given else ""
        return f"weight {format_number(self.weight_kg)} kg{given}{self._when(paren=True)}"

    def _when(self, paren: bool = False) -> str:
        if self.measured_on is None:
            return ""
        return f" (measured {self.measured_on.isoformat()})" if paren else f", measured {self.measured_on.isoformat()}"
