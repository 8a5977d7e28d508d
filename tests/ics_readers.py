"""Read an .ics back with three independent parsers and reduce every occurrence to
(UID, start, end): dates for all-day events, UTC datetimes for timed ones, recurrences expanded.

icalendar + recurring-ical-events, ical (allenporter) and vobject (Radicale's parser) share no
code; vobject takes zone rules from the file's VTIMEZONE, the others from zoneinfo when the TZID
is an IANA name, so `private_tzid()` renames the zone to make all three read our VTIMEZONE.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

Occ = tuple[str, object, object]


def _norm(v):
    if isinstance(v, datetime):
        assert v.tzinfo is not None, f"floating time {v} (medication times must carry a zone)"
        return v.astimezone(UTC)
    return v


def _occ(uid: str, start, end) -> Occ:
    s, e = _norm(start), _norm(end)
    if e is None:
        e = s if isinstance(s, datetime) else s + timedelta(days=1)
    return (str(uid), s, e)


def with_icalendar(data: bytes) -> Counter:
    import icalendar
    import recurring_ical_events

    cal = icalendar.Calendar.from_ical(data)
    occ = recurring_ical_events.of(cal).between(date(1990, 1, 1), date(2100, 1, 1))
    return Counter(_occ(e["UID"], e.start, e.end) for e in occ)


def with_ical(data: bytes) -> Counter:
    from ical.calendar_stream import IcsCalendarStream

    cal = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return Counter(_occ(e.uid, e.dtstart, e.dtend) for e in cal.timeline_tz(UTC))


def with_vobject(data: bytes) -> Counter:
    import vobject

    cal = vobject.readOne(data.decode("utf-8"))
    out: Counter = Counter()
    for ev in getattr(cal, "vevent_list", []):
        start = ev.dtstart.value
        end = ev.dtend.value if hasattr(ev, "dtend") else None
        rs = ev.getrruleset(addRDate=True)
        if rs is None:
            out[_occ(ev.uid.value, start, end)] += 1
            continue
        # RFC 5545 §3.8.5.3: every instance lasts the exact (elapsed) duration of the first
        length = (_norm(end) - _norm(start)) if end is not None else None
        for s in rs:
            if isinstance(start, date) and not isinstance(start, datetime) and isinstance(s, datetime):
                s = s.date()
            elif isinstance(s, datetime) and s.tzinfo is None and isinstance(start, datetime):
                s = s.replace(tzinfo=start.tzinfo)
            e = None
            if length is not None:
                e = s + length if not isinstance(s, datetime) else (s.astimezone(UTC) + length)
            out[_occ(ev.uid.value, s, e)] += 1
    return out


def private_tzid(data: bytes, tzid: str, private: str | None = None) -> bytes:
    """The same calendar with the zone renamed, so no parser can look it up in zoneinfo. The name
    differs per zone because icalendar and vobject cache zones it built from a VTIMEZONE by TZID."""
    private = private or "Clinic-" + tzid.replace("/", "-")
    return data.replace(f"TZID:{tzid}".encode(), f"TZID:{private}".encode()).replace(
        f"TZID={tzid}".encode(), f"TZID={private}".encode())


def all_parsers(data: bytes) -> dict[str, Counter]:
    return {"icalendar": with_icalendar(data), "ical": with_ical(data), "vobject": with_vobject(data)}
