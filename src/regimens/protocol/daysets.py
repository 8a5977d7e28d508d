"""Parsers for the small text notations protocol authors write: day lists, cycle filters and
durations. Each raises ValueError with a message that says what is expected."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")

MAX_DAY = 1000
"""Largest day number of a course (docs/protocol-format.md). Courses are at most 400 days; days
after a course (`beyond_cycle`) stay well inside this. Checked before a range is expanded, so
`1-2000000` is refused at once instead of filling memory."""


def _day(digits: str, text: str) -> int:
    # Length first: int() of a 5,000-digit string raises with a Python-internal hint.
    if len(digits) > len(str(MAX_DAY)) or int(digits) > MAX_DAY:
        shown = digits if len(digits) <= 12 else digits[:9] + "..."
        raise ValueError(f"day {shown} in {_brief(text)} is too large; day numbers run from 1 to {MAX_DAY}")
    return int(digits)


def _brief(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


@lru_cache(maxsize=1024)
def parse_days(text: str) -> tuple[int, ...]:
    """`1-4, 11-14` → (1, 2, 3, 4, 11, 12, 13, 14). Days are >= 1, ascending, no repeats."""
    if not isinstance(text, str):
        text = str(text)
    out: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            raise ValueError(f"empty entry in day list {text!r}; write e.g. '1-4, 11-14'")
        m = _RANGE.match(part)
        if m:
            lo, hi = _day(m.group(1), text), _day(m.group(2), text)
            if hi < lo:
                raise ValueError(f"day range {part!r} runs backwards; write {hi}-{lo}")
            out.extend(range(lo, hi + 1))
        elif part.isdigit():
            out.append(_day(part, text))
        elif part.startswith("-") and part[1:].strip().isdigit():
            raise ValueError(
                f"day list {text!r} has a negative day {part!r}; day 1 is the first day of a course,"
                " so days before it belong to an earlier element"
            )
        else:
            raise ValueError(
                f"cannot read day list {_brief(text)}: days are whole numbers >= 1 or ranges like '1-7'"
            )
    if any(d < 1 for d in out):
        raise ValueError(f"day list {text!r} has a day below 1; day 1 is the first day of a course")
    if sorted(set(out)) != out:
        raise ValueError(f"day list {text!r} overlaps or is out of order; list each day once, ascending")
    return tuple(out)


def runs(days: tuple[int, ...]) -> list[tuple[int, int]]:
    """Consecutive runs: (1,2,3,8,9) → [(1,3), (8,9)]."""
    result: list[tuple[int, int]] = []
    for d in days:
        if result and d == result[-1][1] + 1:
            result[-1] = (result[-1][0], d)
        else:
            result.append((d, d))
    return result


def format_days(days: tuple[int, ...]) -> str:
    """(1,2,3,4,11) → `1-4, 11` (CTEP: ranges for contiguous days, lists otherwise)."""
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs(days))


@lru_cache(maxsize=256)
def parse_cycle_filter(text: str) -> Callable[[int], bool]:
    """`all`, `odd`, `even`, `2+`, `1`, `1,3`, `1-2`, `5-8` → a predicate on the displayed cycle number."""
    t = str(text).strip().lower()
    if t == "all":
        return lambda n: True
    if t == "odd":
        return lambda n: n % 2 == 1
    if t == "even":
        return lambda n: n % 2 == 0
    m = re.fullmatch(r"(\d+)\+", t)
    if m:
        first = _day(m.group(1), t)
        return lambda n: n >= first
    try:
        chosen = frozenset(parse_days(t))
    except ValueError:
        raise ValueError(
            f"cannot read cycles {text!r}: write all, odd, even, 2+, 1, 1,3 or 5-8"
        ) from None
    return lambda n: n in chosen


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(min|minutes?|h|hours?|days?)$")


def parse_duration(text: str) -> int:
    """`15 min` → 15, `3 h` → 180, `7 days` → 10080 (minutes)."""
    m = _DURATION.match(str(text).strip().lower())
    if not m:
        raise ValueError(f"cannot read duration {text!r}: write e.g. '15 min', '3 h', '24 h'")
    if len(m.group(1)) > 8:
        raise ValueError(f"duration {_brief(str(text))} is too long; write e.g. '15 min', '3 h', '24 h'")
    n = float(m.group(1))
    unit = m.group(2)
    minutes = n if unit.startswith("min") else n * 60 if unit.startswith("h") else n * 1440
    if minutes <= 0 or minutes != int(minutes):
        raise ValueError(f"duration {text!r} must be a positive whole number of minutes")
    return int(minutes)
