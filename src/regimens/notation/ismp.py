"""ISMP-safe notation for every output: numbers, units and tall-man drug names.

- no trailing zeros (5 mg, never 5.0 mg); a leading zero below 1 (0.5 mg, never .5 mg);
- `mcg` never µg; `units` spelled out;
- tall-man lettering from a configurable list (ships a US list of verified entries).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

# US list: only entries verified in ../shared/reference/safety-notation-and-exports.md
# (ISMP/FDA list, ASHP monograph titles, an ISMP table copy). cycloPHOSphamide and
# IDArubicin are deliberately absent: they were not verified on the US list. Sites replace
# or extend this with `--tall-man FILE` (see docs/notation.md).
DEFAULT_TALL_MAN: Mapping[str, str] = {
    "carboplatin": "CARBOplatin",
    "cisplatin": "CISplatin",
    "daunorubicin": "DAUNOrubicin",
    "doxorubicin": "DOXOrubicin",
    "cycloserine": "cycloSERINE",
    "cyclosporine": "cycloSPORINE",
    "vincristine": "vinCRIStine",
    "vinblastine": "vinBLAStine",
    "dactinomycin": "DACTINomycin",
    "azacitidine": "azaCITIDine",
    "rituximab": "riTUXimab",
}


@lru_cache(maxsize=8192, typed=True)
def format_number(value: float | Decimal, max_decimals: int = 3) -> str:
    """Format a dose number the ISMP way: no trailing zeros, leading zero below 1.

    Memoised: a whole-course sheet formats the same few hundred numbers tens of thousands of
    times, and the Decimal work is 4 us a call. `typed` keeps 1, 1.0 and Decimal("1.0") apart
    (equal keys otherwise), so each gets the text it would get uncached."""
    d = Decimal(str(value))
    if not d.is_finite():
        return str(value)  # never a dose (the models refuse it), but an error message may quote it
    with localcontext() as ctx:
        # enough digits for any float: quantize fails once a result has more than the context's
        # precision (28), which a mistyped 1e30 would reach
        ctx.prec = max(28, d.adjusted() + (max_decimals or 0) + 3)
        if max_decimals is not None:
            q = d.quantize(Decimal(1).scaleb(-max_decimals), rounding=ROUND_HALF_UP)
            # a small non-zero dose must never print as 0: keep 3 significant digits instead
            d = q if (q != 0 or d == 0) else Decimal(format(d, ".3g"))
        text = format(d.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if text.startswith("."):
        text = "0" + text
    # thousands separators make large doses readable (ISMP: use commas for >= 1,000)
    if "." in text:
        whole, frac = text.split(".")
        return f"{int(whole):,}.{frac}"
    return f"{int(text):,}"


def format_unit(unit: str) -> str:
    """Units as written on outputs: m2 shown as m², nothing else changed (mcg stays mcg)."""
    return unit.replace("m2", "m²")


def format_dose(value: float | Decimal | None, unit: str | None) -> str:
    """A dose as text, e.g. `0.5 mg/m²`; None becomes the not-public marker."""
    if value is None:
        return NOT_PUBLIC_TEXT
    return f"{format_number(value)} {format_unit(unit or '')}".strip()


NOT_PUBLIC_TEXT = "dose per full protocol (not public)"


_PATTERNS: dict[int, tuple[Mapping[str, str], re.Pattern[str]]] = {}


def _pattern(table: Mapping[str, str]) -> re.Pattern[str]:
    """One compiled pattern per table object: sheets and calendars name the same few drugs
    thousands of times, and compiling the alternation each time was a fifth of sheet rendering."""
    hit = _PATTERNS.get(id(table))
    if hit is None or hit[0] is not table:
        words = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
        hit = (table, re.compile(r"\b(" + words + r")\b", re.IGNORECASE))
        _PATTERNS[id(table)] = hit
    return hit[1]


def tall_man(name: str, table: Mapping[str, str] | None = None) -> str:
    """Apply tall-man lettering to every listed drug name inside `name`."""
    table = DEFAULT_TALL_MAN if table is None else table
    if not table:
        return name
    return _pattern(table).sub(lambda m: table[m.group(1).lower()], name)


def display_drug(name: str, table: Mapping[str, str] | None = None) -> str:
    """Generic name for display with tall-man lettering applied."""
    return tall_man(name, table)


_MICRO = re.compile("[µμ]g")


def ismp_clean(text: str) -> str:
    """Last-line defence for free text from protocol notes: µg → mcg."""
    # the substring tests are far cheaper than a regex scan, and almost no text has either sign
    return _MICRO.sub("mcg", text) if "\u00b5" in text or "\u03bc" in text else text


# ISMP's error-prone abbreviations for dose frequency. Source text quoted on the pharmacist sheet
# keeps them (a quotation is evidence); patient and nurse outputs spell them out.
_FREQUENCY = {"QD": "once daily", "BID": "twice daily", "TID": "three times daily",
              "QID": "four times daily"}
_FREQ_PAREN = re.compile(r"(\b(?:once|twice|thrice|three times|four times) daily)\s*\((?:QD|BID|TID|QID)\)")
_FREQ_WORD = re.compile(r"\b(QD|BID|TID|QID)\b")


def has_frequency_abbreviation(text: str) -> bool:
    """Whether `plain_frequency` could change anything in `text` (a cheap substring test)."""
    return any(k in text for k in _FREQUENCY)


def plain_frequency(text: str) -> str:
    """`thrice daily (TID)` → `thrice daily`; `PO QD on days 1-21` → `PO once daily on days 1-21`."""
    if not text or not any(k in text for k in _FREQUENCY):
        return text
    return _FREQ_WORD.sub(lambda m: _FREQUENCY[m.group(1)], _FREQ_PAREN.sub(r"\1", text))
