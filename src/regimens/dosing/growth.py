"""Is a height, weight or BMI plausible for the patient's age? Answered from a growth reference,
not from numbers chosen here (docs/dosing.md#measurements-for-age).

Reference: the CDC growth charts as packaged by the Royal College of Paediatrics and Child Health
in `rcpchgrowth` (CDC 2000 growth charts, 2-20 years, with the WHO 2006 growth standard from birth
to 2 years as CDC recommends; Kuczmarski RJ et al., 2000 CDC Growth Charts for the United States:
methods and development. Vital Health Stat 11. 2002;(246):1-190). Limits: rcpchgrowth's own
validation constants (MINIMUM/MAXIMUM_..._ADVISORY_SDS ±4 and ..._ERROR_SDS ±8 for height and
weight, ±15 for BMI; rcpchgrowth-python issue #32). Beyond the error SDS a value is refused;
beyond the advisory SDS it needs a named confirmation. The patient's sex is not asked for, so a
value counts as beyond a limit only when it is beyond it for both sexes.

The reference ends at 20 years; adults keep the range checks of bsa.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

REFERENCE = "CDC 2000 growth charts (WHO 2006 under 2 years), via rcpchgrowth (RCPCH)"
LAST_AGE = 20.0


@dataclass(frozen=True)
class Finding:
    measure: str
    """height, weight or BMI."""
    value: float
    unit: str
    age: float
    z_male: float
    z_female: float
    level: str
    """ok, advisory (needs confirmation) or error (refused)."""

    @property
    def z(self) -> float:
        """The less extreme of the two sexes (what the limits are judged on)."""
        return self.z_male if abs(self.z_male) < abs(self.z_female) else self.z_female

    def text(self) -> str:
        return (f"{self.measure} {_fmt(self.value)} {self.unit} at age {_fmt(self.age)} years: SDS"
                f" {self.z_male:+.1f} (boys) / {self.z_female:+.1f} (girls)")


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=1)
def _lib():
    # scipy and the reference tables load in about a second: only when a child is measured
    from rcpchgrowth.constants import validation_constants as vc
    from rcpchgrowth.global_functions import sds_for_measurement

    limits = {
        "height": (vc.MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS, vc.MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
                   vc.MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS, vc.MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS),
        "weight": (vc.MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS, vc.MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
                   vc.MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS, vc.MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS),
        "bmi": (vc.MINIMUM_BMI_ADVISORY_SDS, vc.MAXIMUM_BMI_ADVISORY_SDS,
                vc.MINIMUM_BMI_ERROR_SDS, vc.MAXIMUM_BMI_ERROR_SDS),
    }
    return sds_for_measurement, limits


def _beyond(zm: float, zf: float, lo: float, hi: float) -> bool:
    return (zm < lo and zf < lo) or (zm > hi and zf > hi)


def assess(age: float | None, height_cm: float | None, weight_kg: float | None) -> list[Finding]:
    """Findings for each measurement the reference covers at this age (empty for adults or when
    the age is unknown)."""
    if age is None or age >= LAST_AGE or (height_cm is None and weight_kg is None):
        return []
    sds, limits = _lib()
    todo = []
    if height_cm is not None:
        todo.append(("height", "height", height_cm, "cm"))
    if weight_kg is not None:
        todo.append(("weight", "weight", weight_kg, "kg"))
    if height_cm is not None and weight_kg is not None and age >= 2:  # the CDC BMI reference starts at 2
        todo.append(("BMI", "bmi", weight_kg / (height_cm / 100) ** 2, "kg/m²"))
    out = []
    for label, method, value, unit in todo:
        try:
            zm, zf = (float(sds("cdc", age, method, value, sex)) for sex in ("male", "female"))
        except (LookupError, ValueError, ZeroDivisionError):
            continue  # no reference value at this age for this measure: nothing to judge by
        if not (math.isfinite(zm) and math.isfinite(zf)):
            zm = zf = math.copysign(99.0, zm if math.isfinite(zm) else 1.0)
        adv_lo, adv_hi, err_lo, err_hi = limits[method]
        level = ("error" if _beyond(zm, zf, err_lo, err_hi)
                 else "advisory" if _beyond(zm, zf, adv_lo, adv_hi) else "ok")
        out.append(Finding(label, value, unit, age, zm, zf, level))
    return out
