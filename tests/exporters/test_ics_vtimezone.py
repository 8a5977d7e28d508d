"""The hand-built VTIMEZONE against the IANA database: read back by vobject (Radicale's parser,
which takes zone rules from the file) and by icalendar's VTIMEZONE reader, the UTC offset of
every day's 00:30 and 12:00 and of the hours around every change must equal zoneinfo's.
Zones chosen for their rules: US and EU DST, southern hemisphere, a 30-minute DST (Lord Howe),
negative DST (Dublin), Ramadan suspensions (Casablanca), no DST (Kolkata, UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from regimens.exporters.vtimezone import vtimezone

ZONES = ["America/Chicago", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
         "Pacific/Auckland", "America/St_Johns", "Europe/Dublin", "Africa/Casablanca",
         "Asia/Kolkata", "UTC", "America/Sao_Paulo"]
FIRST, LAST = date(2027, 1, 1), date(2028, 12, 31)


def _instants(tz: ZoneInfo):
    d = FIRST
    while d <= LAST:
        for h, m in ((0, 30), (12, 0)):
            yield datetime(d.year, d.month, d.day, h, m)
        d += timedelta(days=1)


def _unambiguous(local: datetime, tz: ZoneInfo) -> bool:
    a, b = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    return a.utcoffset() == b.utcoffset()


@pytest.mark.parametrize("zone", ZONES)
def test_offsets_match_zoneinfo(zone):
    tz = ZoneInfo(zone)
    vtz = vtimezone(zone, FIRST, LAST)
    text = vtz.to_ical().decode()
    assert "RDATE" not in text
    private = "Check-" + zone.replace("/", "-")
    text = text.replace(f"TZID:{zone}", f"TZID:{private}")
    cal = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{text}END:VCALENDAR\r\n"
    v_tz = vobject.readOne(cal).vtimezone.gettzinfo()
    i_tz = icalendar.Timezone.from_ical(text).to_tz()
    # also 30 and 90 minutes either side of every change, where an onset an hour off would show
    changes = []
    t = datetime(FIRST.year, 1, 1, tzinfo=tz)
    while t.date() <= LAST:
        n = t + timedelta(hours=1)
        if n.utcoffset() != t.utcoffset():
            changes.append(n.replace(tzinfo=None))
        t = n
    near = [c + timedelta(minutes=k) for c in changes for k in (-90, -30, 30, 90)]
    checked = 0
    for local in [*_instants(tz), *near]:
        if not _unambiguous(local, tz):
            continue
        want = local.replace(tzinfo=tz).utcoffset()
        assert local.replace(tzinfo=v_tz).utcoffset() == want, (zone, local, "vobject")
        assert local.replace(tzinfo=i_tz).utcoffset() == want, (zone, local, "icalendar")
        checked += 1
    assert checked > 1400
    # and from UTC to local (what a server does with a UTC time-range query): 30 and 90 minutes
    # either side of every change instant; this is where an onset written an hour late shows
    for c in changes:
        at = c.replace(tzinfo=tz).astimezone(UTC)
        for k in (-90, -30, 30, 90):
            u = at + timedelta(minutes=k)
            want = u.astimezone(tz).utcoffset()
            assert u.astimezone(v_tz).utcoffset() == want, (zone, u, "vobject")
            assert u.astimezone(i_tz).utcoffset() == want, (zone, u, "icalendar")


def test_us_rule_form():
    # 2nd Sunday of March 02:00 → CDT; 1st Sunday of November 02:00 → CST (Energy Policy Act 2005)
    text = vtimezone("America/Chicago", FIRST, LAST).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11" in text
    # the rules start in 1970, as Google and Apple write them (vobject/Radicale misplace DST-period
    # instances when they start just before the events): 8 March 1970 was the 2nd Sunday
    assert "DTSTART:19700308T020000" in text and "DTSTART:19701101T020000" in text
