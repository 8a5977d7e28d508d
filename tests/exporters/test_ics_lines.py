"""The directly written content lines (exporters/ics_lines.py) are the bytes icalendar writes for
the same calendar: each component tree the exporter builds is handed to icalendar property by
property (its own types: vText, vDDDTypes, vRecur, ...) and `Calendar.to_ical()` must give the
bytes the export wrote, for every shipped protocol and arm in three audiences and two languages,
with a location, with omitted and held doses, in zones with and without DST."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from regimens.exporters import ics, ics_lines
from regimens.exporters.ics_lines import CATEGORIES, DT, DTLIST, DURATION, INT, OFFSET, RECUR, TEXT, Component
from regimens.language.site import patient_language
from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

STAMP = datetime(2027, 1, 1, tzinfo=UTC)
_CLASSES = {"VCALENDAR": icalendar.Calendar, "VEVENT": icalendar.Event, "VALARM": icalendar.Alarm,
            "VTIMEZONE": icalendar.Timezone, "STANDARD": icalendar.TimezoneStandard,
            "DAYLIGHT": icalendar.TimezoneDaylight}


def to_icalendar(c: Component) -> icalendar.cal.Component:
    """The same calendar as icalendar objects, built the way icalendar's documentation does."""
    out = _CLASSES[c.name]()
    for name, values in c.props.items():
        for kind, value, params in values:
            if kind == TEXT:
                v = icalendar.vText(value)
            elif kind == INT:
                v = icalendar.vInt(value)
            elif kind == DT:
                v = icalendar.vDDDTypes(value)
            elif kind == DTLIST:
                v = icalendar.vDDDLists(value)
            elif kind == RECUR:
                v = icalendar.vRecur(value)
            elif kind == DURATION:
                v = icalendar.vDuration(value)
            elif kind == OFFSET:
                v = icalendar.vUTCOffset(value)
            else:
                assert kind == CATEGORIES
                v = icalendar.vCategory(value)
            if params:
                v.params.update(params)
            out.add(name, v, encode=False)
    for s in c.subs:
        out.add_component(to_icalendar(s))
    return out


def _timelines():
    cat = Catalog()
    for pid in cat.ids():
        pf = cat.load(pid)
        dec = {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}
        for arm in pf.protocol.arms:
            yield f"{pid}-{arm.label}", compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label,
                                                                              choices=dec))


def test_every_shipped_calendar_is_icalendars_own_bytes():
    variants = [dict(tz="America/Chicago"), dict(tz="Europe/Berlin", audience="staff", location="Tagesklinik, 3. OG"),
                dict(tz="Asia/Kolkata", audience="minimal"), dict(tz="Europe/Lisbon", language=patient_language("es")),
                dict(tz="Australia/Sydney", language=patient_language("zh_Hans"), reminders=False)]
    n = 0
    for name, tl in _timelines():
        doses = [e for e in tl.events if e.drug]
        changed = tl.with_events(tuple(e.with_(status="omitted" if k % 2 else "held") if e in doses[2::5] else e
                                       for k, e in enumerate(tl.events)))
        for t in (tl, changed):
            for kw in variants:
                opts = ics.IcsOptions(**kw)
                cal = ics._Builder(t, opts, STAMP, t).calendar(None)
                data = ics.serialize(cal)
                assert data == ics.to_ics(t, opts, STAMP)
                assert data == to_icalendar(cal).to_ical(), (name, kw)
                n += 1
    assert n >= 50


def test_escapes_and_folds_at_every_position_like_icalendar():
    rnd = random.Random(7)
    for _ in range(500):  # escapes and multi-byte characters at every fold position
        text = "".join(rnd.choice("ab\\^;,:—²µé😀 \n\r") for _ in range(rnd.randint(1, 240)))
        ours = Component("VCALENDAR")
        ours.add("SUMMARY", TEXT, text, {"LANGUAGE": "de"} if rnd.random() < 0.5 else None)
        ours.add("CATEGORIES", CATEGORIES, [text[:20], "b,c"])
        assert ours.to_ical() == to_icalendar(ours).to_ical(), repr(text)


@pytest.mark.parametrize("td", [timedelta(0), timedelta(minutes=-30), timedelta(hours=-1), timedelta(days=-1),
                                timedelta(days=-1, minutes=-30), timedelta(hours=-25, seconds=-5),
                                timedelta(hours=5, minutes=30), timedelta(hours=-3, minutes=-30)])
def test_durations_and_offsets_like_icalendar(td):
    assert ics_lines.duration(td) == icalendar.vDuration(td).to_ical().decode()
    assert ics_lines.utc_offset(td) == icalendar.vUTCOffset(td).to_ical()
