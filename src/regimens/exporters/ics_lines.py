"""RFC 5545 content lines written directly: the few property types the calendar export uses,
with the bytes icalendar 7.3 writes for them (`Calendar.to_ical()`), without its object model.

Why: building some 6,000 content lines through icalendar's per-property objects and parameter
dictionaries was most of `regimens ics` for a long protocol, and importing icalendar alone
about a tenth of the whole process (docs/performance.md). What stays icalendar's:

  - property order: a component's canonical properties first (VCALENDAR, VEVENT and VTIMEZONE
    order below, icalendar's own), then the others in alphabetical order; repeated properties in
    the order added;
  - TEXT escaping (RFC 5545 §3.3.11: backslash, semicolon, comma, newline), parameter quoting
    (a value with `,`, `;`, `:` or `’` in double quotes) and sorted parameters;
  - DATE (`VALUE=DATE`), DATE-TIME (`Z` in UTC, else `TZID=` the zone's IANA key, naive without
    either), DURATION, UTC-OFFSET, RECUR (FREQ, COUNT, INTERVAL, BYDAY, BYMONTH order) and
    CATEGORIES as icalendar writes them;
  - folding at 75 octets on bytes, never inside a UTF-8 character nor right after a backslash
    or `^` (icalendar issue #1501), CRLF line ends.

Each property keeps its Python value and kind, so tests/exporters/test_ics_lines.py can give the
same tree to icalendar and check that it writes the same bytes for every shipped calendar.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

CANONICAL = {
    "VCALENDAR": ("VERSION", "PRODID", "CALSCALE", "METHOD", "DESCRIPTION", "X-WR-CALDESC", "NAME",
                  "X-WR-CALNAME"),
    "VEVENT": ("SUMMARY", "DTSTART", "DTEND", "DURATION", "DTSTAMP", "UID", "RECURRENCE-ID", "SEQUENCE",
               "RRULE", "RDATE", "EXDATE"),
    "VTIMEZONE": ("TZID",),
}
RECUR_ORDER = ("FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS")
_QUOTABLE = re.compile("[,;:’]")  # noqa: RUF001 - icalendar's own set

# kinds of property value
TEXT, INT, DT, DTLIST, RECUR, DURATION, OFFSET, CATEGORIES = range(8)


class Component:
    """A calendar component: properties (name → list of (kind, value, params)) and sub-components."""

    __slots__ = ("name", "props", "subs")

    def __init__(self, name: str) -> None:
        self.name = name
        self.props: dict[str, list[tuple[int, object, dict[str, str] | None]]] = {}
        self.subs: list[Component] = []

    def set(self, name: str, kind: int, value: object, params: dict[str, str] | None = None) -> None:
        """The property, replacing any value it had (icalendar's `component[name] = value`)."""
        self.props[name] = [(kind, value, params)]

    def add(self, name: str, kind: int, value: object, params: dict[str, str] | None = None) -> None:
        """One more value of the property (icalendar's `component.add(name, value)`)."""
        self.props.setdefault(name, []).append((kind, value, params))

    def value(self, name: str) -> object:
        return self.props[name][0][1]

    def add_component(self, c: Component) -> None:
        self.subs.append(c)

    def lines(self, out: list[str]) -> None:
        out.append(f"BEGIN:{self.name}")
        canon = CANONICAL.get(self.name, ())
        names = [n for n in canon if n in self.props] + sorted(n for n in self.props if n not in canon)
        for n in names:
            for kind, value, params in self.props[n]:
                out.append(_line(n, kind, value, params))
        for c in self.subs:
            c.lines(out)
        out.append(f"END:{self.name}")

    def to_ical(self) -> bytes:
        out: list[str] = []
        self.lines(out)
        # most lines need no folding: the length test here saves a call per line
        return b"\r\n".join(b if len(b) <= 74 else fold(b) for b in (line.encode("utf-8") for line in out)) + b"\r\n"


_ESCAPED = re.compile(r"[\\;,\r\n]")


def escape(text: str) -> str:
    """RFC 5545 TEXT escaping, in icalendar's order (a literal `\\N` reads as a newline first)."""
    if _ESCAPED.search(text) is None:  # nothing to escape (one scan instead of seven replaces)
        return text
    return (text.replace(r"\N", "\n").replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,")
            .replace("\r\n", r"\n").replace("\n", r"\n").replace("\r", r"\n"))


def _param(value: str) -> str:
    # RFC 6868 escaping (^ ' and newline) and double quotes where needed, as icalendar does
    value = value.replace("^", "^^").replace("\n", "^n").replace('"', "^'")
    return f'"{value}"' if _QUOTABLE.search(value) else value


def date_time(dt: date) -> tuple[str, dict[str, str] | None]:
    """(value, parameters) of a DATE or DATE-TIME."""
    if not isinstance(dt, datetime):
        return f"{dt.year:04}{dt.month:02}{dt.day:02}", {"VALUE": "DATE"}
    s = f"{dt.year:04}{dt.month:02}{dt.day:02}T{dt.hour:02}{dt.minute:02}{dt.second:02}"
    tz = dt.tzinfo
    if tz is None:
        return s, None
    if tz is UTC or dt.utcoffset() == timedelta(0) and dt.tzname() in ("UTC", "Z"):
        return s + "Z", None
    return s, {"TZID": tz.key}  # a ZoneInfo: the export makes no other aware datetimes


def duration(td: timedelta) -> str:
    sign = ""
    if td.days < 0:
        sign, td = "-", -td
    part = ""
    if td.seconds:
        h, m, s = td.seconds // 3600, td.seconds % 3600 // 60, td.seconds % 60
        part = "T" + (f"{h}H" if h else "") + (f"{m}M" if m or (h and s) else "") + (f"{s}S" if s else "")
    if td.days == 0 and part:
        return f"{sign}P{part}"
    return f"{sign}P{abs(td.days)}D{part}"


def utc_offset(td: timedelta) -> str:
    sign = "-" if td < timedelta(0) else "+"
    td = -td if td < timedelta(0) else td
    h = abs(td.days * 24 + td.seconds // 3600)
    m, s = abs(td.seconds % 3600 // 60), abs(td.seconds % 60)
    return f"{sign}{h:02}{m:02}{s:02}" if s else f"{sign}{h:02}{m:02}"


def recur(rule: dict[str, object]) -> str:
    return ";".join(f"{k}={rule[k]}" for k in RECUR_ORDER if k in rule)


def _line(name: str, kind: int, value, params: dict[str, str] | None) -> str:
    if kind == TEXT:
        v = escape(value)
    elif kind == INT:
        v = str(value)
    elif kind == DT:
        v, dp = date_time(value)
        if dp:
            params = {**dp, **params} if params else dp
    elif kind == DTLIST:
        vals = [date_time(d) for d in value]
        v = ",".join(x for x, _ in vals)
        tzid = next((p["TZID"] for _, p in reversed(vals) if p and "TZID" in p), None)
        if tzid:
            params = {**(params or {}), "TZID": tzid}
    elif kind == RECUR:
        v = recur(value)
    elif kind == DURATION:
        v = duration(value)
    elif kind == OFFSET:
        v = utc_offset(value)
    elif kind == CATEGORIES:
        v = ",".join(escape(c) for c in value)
    else:  # pragma: no cover - a kind this module does not write
        raise ValueError(kind)
    if params:
        return f"{name};{';'.join(f'{k}={_param(params[k])}' for k in sorted(params))}:{v}"
    return f"{name}:{v}"


def fold(b: bytes, limit: int = 74) -> bytes:
    """RFC 5545 §3.1 folding as icalendar does it: pieces of at most 74 octets joined by CRLF +
    space, never inside a UTF-8 character, and never right after a backslash or `^` (clients
    misread an escape split over a fold; icalendar issue #1501)."""
    if len(b) <= limit:
        return b
    out = []
    i, n = 0, len(b)
    while i < n:
        j = min(i + limit, n)
        if j < n:
            while b[j] & 0xC0 == 0x80:  # a continuation byte: the character starts earlier
                j -= 1
            if j - i > 1 and b[j - 1] in (0x5C, 0x5E):
                j -= 1
        out.append(b[i:j])
        i = j
    return b"\r\n ".join(out)
