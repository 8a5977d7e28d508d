"""Height and weight with their units: `70kg`, `154lb`, `175cm`, `1.75m`, `69in`, `5ft9in`,
`5'9"`. A bare number stays kilograms or centimetres, as before. Every conversion is exact by
definition (1 lb = 0.45359237 kg and 1 in = 2.54 cm, International Yard and Pound Agreement, 1959)
and is shown: the value used and the value given travel together (docs/dosing.md#units).

Used by the command line (--height, --weight), plan files and batch rows alike, so the three
accept the same spellings and refuse the same mistakes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from regimens.errors import RequestError
from regimens.notation.ismp import format_number

KG_PER_LB = 0.45359237
CM_PER_IN = 2.54

_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_WEIGHT = re.compile(rf"^{_NUM}\s*(kg|kgs|kilograms?|g|grams?|lb|lbs|pounds?)?$", re.IGNORECASE)
_HEIGHT_ONE = re.compile(rf"^{_NUM}\s*(cm|m|in|inch|inches|\"|ft|feet|')?$", re.IGNORECASE)
_HEIGHT_FT_IN = re.compile(rf"^{_NUM}\s*(?:ft|feet|')\s*{_NUM}\s*(?:in|inch|inches|\"|'')?$", re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    value: float
    """In the tool's unit: kg or cm."""
    given: str
    """As written, normalised (`154 lb`, `5 ft 9 in`); equal to `70 kg` when given as a bare 70."""
    converted: bool

    def text(self, unit: str) -> str:
        """`69.85 kg (154 lb)` or `70 kg`."""
        main = f"{format_number(self.value)} {unit}"
        return f"{main} (given as {self.given})" if self.converted else main


def _round2(x: float) -> float:
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _finite(x: float, what: str, text: str) -> float:
    if not math.isfinite(x) or x <= 0:
        raise RequestError(f"{what} {text!r} must be a positive number")
    return x


def _decimal_comma(raw: str, what: str) -> None:
    # `80,5` as European keyboards write it: say what to type instead of "not a weight".
    if re.fullmatch(r"\d+,\d+\s*[a-zA-Z']*", raw):
        raise RequestError(f"{what} {raw!r}: use a decimal point ({raw.replace(',', '.')})")


def parse_weight(text: str | float, what: str = "--weight") -> Quantity:
    """`70`, `70kg`, `154lb`, `154 lbs`, `3500 g` → kilograms."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Quantity(_finite(float(text), what, str(text)), f"{format_number(float(text))} kg", False)
    raw = str(text).strip()
    m = _WEIGHT.match(raw)
    if not m:
        _decimal_comma(raw, what)
        raise RequestError(f"{what} {raw!r} is not a weight; write kilograms (70 or 70kg) or pounds (154lb)")
    n = _finite(float(m.group(1)), what, raw)
    unit = (m.group(2) or "kg").lower()
    if unit.startswith("k"):
        return Quantity(n, f"{format_number(n)} kg", False)
    if unit.startswith("g"):
        return Quantity(_round2(n / 1000), f"{format_number(n)} g", True)
    return Quantity(_round2(n * KG_PER_LB), f"{format_number(n)} lb", True)


def parse_height(text: str | float, what: str = "--height") -> Quantity:
    """`175`, `175cm`, `1.75m`, `69in`, `5ft9in`, `5'9"`, `6ft` → centimetres."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Quantity(_finite(float(text), what, str(text)), f"{format_number(float(text))} cm", False)
    raw = str(text).strip()
    if m := _HEIGHT_FT_IN.match(raw):
        ft, inch = float(m.group(1)), float(m.group(2))
        if inch >= 12:
            raise RequestError(f"{what} {raw!r}: {format_number(inch)} inches is a foot or more; write e.g. 5ft9in")
        total = ft * 12 + inch
        return Quantity(_round2(_finite(total, what, raw) * CM_PER_IN),
                        f"{format_number(ft)} ft {format_number(inch)} in", True)
    m = _HEIGHT_ONE.match(raw)
    if not m:
        _decimal_comma(raw, what)
        raise RequestError(f"{what} {raw!r} is not a height; write centimetres (175 or 175cm), metres (1.75m),"
                           " inches (69in) or feet and inches (5ft9in)")
    n = _finite(float(m.group(1)), what, raw)
    unit = (m.group(2) or "cm").lower()
    if unit == "cm":
        return Quantity(n, f"{format_number(n)} cm", False)
    if unit == "m":
        return Quantity(_round2(n * 100), f"{format_number(n)} m", True)
    if unit in ("ft", "feet", "'"):
        return Quantity(_round2(n * 12 * CM_PER_IN), f"{format_number(n)} ft", True)
    return Quantity(_round2(n * CM_PER_IN), f"{format_number(n)} in", True)
