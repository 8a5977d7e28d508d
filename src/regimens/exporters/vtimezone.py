"""VTIMEZONE components that every calendar client reads the same way.

Why not icalendar's `add_missing_timezones()`: its output (icalendar 7.3) lists DST onsets as
comma-separated RDATEs, of which Thunderbird (ical.js) and vobject/Radicale read only the first
value, and writes the DAYLIGHT onset one hour late by the RFC 5545 rule (onset = DTSTART -
TZOFFSETFROM). Both put DST-period doses an hour off in those clients (measured; see
shared/reference/calendar-interop.md §4).

What this module writes instead, from the IANA database (zoneinfo):
  - the form Outlook, Google and Apple emit themselves: one STANDARD and one DAYLIGHT
    sub-component, each with a yearly RRULE (`BYMONTH=3;BYDAY=2SU`) and DTSTART at the local
    wall-clock time *before* the change (02:00 for US spring-forward), when the zone's changes
    over the covered years follow one such rule pair (true for every zone with DST today);
  - otherwise (a zone whose rules changed inside the covered years) one sub-component per
    change, each with a single DTSTART and no RDATE lists, which every parser reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from regimens.exporters.ics_lines import DT, OFFSET, RECUR, TEXT, Component


@dataclass(frozen=True)
class _Change:
    local: datetime
    """Wall-clock time of the change, in the offset in force before it (naive)."""
    offset_from: timedelta
    offset_to: timedelta
    name: str
    dst: bool


def _changes(tz: ZoneInfo, first: date, last: date) -> list[_Change]:
    """Every UTC-offset change in [first, last], found by a daily scan and bisection to the
    minute (tz changes happen on whole minutes)."""
    t = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    out: list[_Change] = []
    prev = t.astimezone(tz).utcoffset()
    step = timedelta(days=1)
    while t < end:
        nxt = t + step
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = t, nxt  # offset(lo) == prev, offset(hi) != prev
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= lo:
                    mid = lo + timedelta(minutes=1)
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            after = hi.astimezone(tz)
            # DAYLIGHT = the clocks go forward. Not zoneinfo's dst(): Dublin's and Casablanca's
            # "DST" is negative, and dateutil (vobject, Radicale) misplaces UTC instants near a
            # DAYLIGHT onset that moves the clocks back.
            out.append(_Change(local=(hi + prev).replace(tzinfo=None), offset_from=prev,
                               offset_to=after.utcoffset(), name=after.tzname() or "",
                               dst=after.utcoffset() > prev))
            prev = off
        t = nxt
    return out


def _byday(d: date) -> str | None:
    """`2SU` (second Sunday) or `-1SU` (last Sunday) style rule for a date, preferring the
    from-the-end form for the last week (EU rules) and the nth form otherwise (US rules)."""
    wd = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[d.weekday()]
    nth = (d.day - 1) // 7 + 1
    nxt_month = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    from_end = (nxt_month - d).days
    if from_end <= 7:
        return f"-1{wd}"
    return f"{nth}{wd}"


def _rule_for(changes: list[_Change]) -> dict[str, str] | None:
    """A yearly RRULE that reproduces every change, or None."""
    if not changes:
        return None
    a = changes[0]
    rule = (a.local.month, _byday(a.local.date()), a.local.time(), a.offset_from, a.offset_to, a.name)
    years = [c.local.year for c in changes]
    if years != list(range(years[0], years[0] + len(years))):
        return None
    for c in changes:
        if (c.local.month, _byday(c.local.date()), c.local.time(), c.offset_from, c.offset_to, c.name) != rule:
            return None
    return {"FREQ": "YEARLY", "BYMONTH": str(a.local.month), "BYDAY": rule[1]}


RULES_FROM = 1970


def _in_year(c: _Change, year: int) -> _Change:
    """The same yearly change (same month, same `2SU`/`-1SU` weekday rule, same wall-clock time)
    in another year: the DTSTART an RRULE pair starts from."""
    byday = _byday(c.local.date())
    wd = ("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(byday[-2:])
    nth = int(byday[:-2])
    first = date(year, c.local.month, 1)
    if nth > 0:
        d = first + timedelta(days=(wd - first.weekday()) % 7 + 7 * (nth - 1))
    else:
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        d = last - timedelta(days=(last.weekday() - wd) % 7)
    return _Change(datetime.combine(d, c.local.time()), c.offset_from, c.offset_to, c.name, c.dst)


def _sub(c: _Change, rrule: dict[str, str] | None) -> Component:
    sub = Component("DAYLIGHT" if c.dst else "STANDARD")
    sub.add("TZNAME", TEXT, c.name)
    sub.add("TZOFFSETFROM", OFFSET, c.offset_from)
    sub.add("TZOFFSETTO", OFFSET, c.offset_to)
    sub.add("DTSTART", DT, c.local)
    if rrule:
        sub.add("RRULE", RECUR, rrule)
    return sub


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first: date, last: date) -> Component:
    """A VTIMEZONE for `tzid` valid for every instant from `first` to `last` (dates in the zone).

    Covers the year before `first` so that the observance in force at `first` has a DTSTART
    before it, and the year after `last` for events that end after it.
    """
    tz = ZoneInfo(tzid)
    lo, hi = date(first.year - 1, 1, 1), date(last.year + 1, 12, 31)
    changes = _changes(tz, lo, hi)
    vtz = Component("VTIMEZONE")
    vtz.add("TZID", TEXT, tzid)
    if not changes:
        # No change in the covered years: one STANDARD observance from the start.
        noon = datetime(lo.year, 1, 1, 12, tzinfo=UTC).astimezone(tz)
        off = noon.utcoffset()
        vtz.add_component(_sub(_Change(datetime(RULES_FROM, 1, 1), off, off, noon.tzname() or tzid, False), None))
        return vtz
    dst = [c for c in changes if c.dst]
    std = [c for c in changes if not c.dst]
    rules = (_rule_for(dst), _rule_for(std))
    if dst and std and all(rules):
        # The rule pair holds over the covered years; its DTSTART is put in RULES_FROM (1970, as
        # Google and Apple write it) rather than the year before `first`: vobject and Radicale
        # (dateutil) put take-home series an hour off in Europe/London, Dublin and Lisbon when
        # the observances start just before the events (measured with icscheck's compare.py).
        # Only the covered years are claimed to match IANA; earlier years are never used.
        for c, r in sorted([(dst[0], rules[0]), (std[0], rules[1])], key=lambda x: x[0].local):
            vtz.add_component(_sub(_in_year(c, RULES_FROM), r))
        return vtz
    # Irregular changes: the observance in force before the first one, then one per change.
    before = datetime(lo.year, 1, 1, 12, tzinfo=UTC).astimezone(tz)
    off = changes[0].offset_from
    vtz.add_component(_sub(_Change(datetime(lo.year, 1, 1), off, off, before.tzname() or tzid, False), None))
    for c in changes:
        vtz.add_component(_sub(c, None))
    return vtz
