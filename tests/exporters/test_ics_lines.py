"""The directly written content lines (exporters/ics_lines.py) are the bytes icalendar writes for
the same calendar: each component tree the exporter builds is handed to icalendar property by
property (its own types: vText, vDDDTypes, vRecur, ...) and `Calendar.to_ical()` must give the
bytes the export wrote, for every shipped protocol and arm in the three audiences and the four
patient languages, with a location, with omitted and held doses, with a plan (a delayed element,
an omitted day, a held dose, a revision), split per phase, in zones with and without DST; and the
folding is checked on its own (75 octets, never inside a UTF-8 character)."""

from __future__ import annotations

import random
from dataclasses import replace
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
            yield f"{pid}-{arm.label}", pf, arm.label, dec, compile_timeline(
                pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=dec))


def _plan(pf, arm, dec, tl):
    """What a plan gives: the second element a week late, one day omitted, one dose held, revision 3
    (SEQUENCE), starting just before spring forward in Chicago."""
    if len(tl.cycles) < 2:
        return None
    c1, c2 = tl.cycles[:2]
    shift = date(2027, 2, 22) - date(2027, 1, 4)
    doses = [e for e in tl.events if e.cycle_id == c1.cycle_id and e.drug]
    req = ScheduleRequest(start=date(2027, 2, 22), arm=arm, choices=dec,
                          actual_starts={c2.cycle_id: c2.start + shift + timedelta(days=7)},
                          omit={f"{c1.cycle_id}:{doses[-1].day}": "platelets low"} if doses else {},
                          hold={doses[0].uid: "fever"} if doses else {})
    return replace(compile_timeline(pf, req), revision=3)


# every audience, every patient language, a location, a UID salt, reminders on and off, zones with
# and without DST (and a zero winter offset)
VARIANTS = [dict(tz="America/Chicago"), dict(tz="Europe/Berlin", audience="staff", location="Tagesklinik, 3. OG"),
            dict(tz="Asia/Kolkata", audience="minimal"), dict(tz="Europe/Lisbon", language=patient_language("es")),
            dict(tz="Australia/Sydney", language=patient_language("zh_Hans"), reminders=False),
            dict(tz="Europe/London", language=patient_language("ar"), phone="+44 20 7946 0000",
                 uid_salt="0123456789abcdef"),
            dict(tz="America/New_York", language=patient_language("vi"), audience="minimal")]


def _same_as_icalendar(t, kw, name, split=None):
    opts = ics.IcsOptions(**kw)
    whole = t
    for part, sub in (ics.parts(t, split) if split else [(None, t)]):
        cal = ics._Builder(sub, opts, STAMP, whole).calendar(part)
        data = ics.serialize(cal)
        assert data == to_icalendar(cal).to_ical(), (name, kw, part)
        _folded_right(data)
    if split is None:
        assert data == ics.to_ics(t, opts, STAMP)


def _folded_right(data: bytes) -> None:
    # independently of icalendar: CRLF line ends, no physical line over 75 octets, none split
    # inside a UTF-8 character (each decodes alone), and a piece cut short of 74 octets only where
    # the next character would not fit or an escape (backslash, ^) is kept whole on the next line
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")
    for logical in data.replace(b"\r\n ", b"\x00").split(b"\r\n")[:-1]:
        pieces = logical.split(b"\x00")
        for piece, nxt in zip(pieces, pieces[1:]):
            width = len(nxt.decode("utf-8")[:1].encode("utf-8"))
            assert len(piece) == 74 or len(piece) + width > 74 or nxt[:1] in (b"\\", b"^"), logical


def test_every_shipped_calendar_is_icalendars_own_bytes():
    n = 0
    for name, pf, arm, dec, tl in _timelines():
        doses = [e for e in tl.events if e.drug]
        changed = tl.with_events(tuple(e.with_(status="omitted" if k % 2 else "held") if e in doses[2::5] else e
                                       for k, e in enumerate(tl.events)))
        for kw in VARIANTS:
            _same_as_icalendar(tl, kw, name)
            n += 1
        for kw in VARIANTS[:3]:
            _same_as_icalendar(changed, kw, name)
            n += 1
        planned = _plan(pf, arm, dec, tl)
        if planned is not None:
            for kw in (VARIANTS[0], VARIANTS[1], VARIANTS[3], VARIANTS[5]):
                _same_as_icalendar(planned, kw, name)
                n += 1
        _same_as_icalendar(tl, VARIANTS[5], name, split="phase")
    assert n >= 100


def test_escapes_and_folds_at_every_position_like_icalendar():
    rnd = random.Random(7)
    # ASCII escapes, 2-byte (é, Arabic), 3-byte (—, Chinese, Vietnamese tone marks) and 4-byte
    # characters at every fold position
    alphabet = "ab\\^;,:—²µé😀 \n\r" + "治疗日历第天" + "جرعةالعلاج" + "Liềuthuốc"
    for _ in range(800):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 240)))
        ours = Component("VCALENDAR")
        ours.add("SUMMARY", TEXT, text, {"LANGUAGE": "de"} if rnd.random() < 0.5 else None)
        ours.add("CATEGORIES", CATEGORIES, [text[:20], "b,c"])
        data = ours.to_ical()
        assert data == to_icalendar(ours).to_ical(), repr(text)
        _folded_right(data)
        # unfolding gives the text back (icalendar's own parser)
        assert str(icalendar.Calendar.from_ical(data)["SUMMARY"]) == text.replace("\r\n", "\n").replace("\r", "\n")


def test_chinese_and_arabic_fold_on_character_boundaries():
    # a line holds 74 octets: "SUMMARY:" (8) and 22 Chinese characters of 3 octets, then 24 per
    # continuation line (72 octets: a 25th would cut a character); Arabic letters are 2 octets
    zh = "治" * 60
    data = _one("SUMMARY", zh)
    lines = data.split(b"\r\n")
    assert lines[1] == b"SUMMARY:" + ("治" * 22).encode()
    assert lines[2] == b" " + ("治" * 24).encode()
    ar = "ج" * 80  # 2-byte
    lines = _one("SUMMARY", ar).split(b"\r\n")
    assert lines[1] == b"SUMMARY:" + ("ج" * 33).encode()  # 8 + 66 = 74
    assert lines[2] == b" " + ("ج" * 37).encode()  # 74


def _one(name, text):
    c = Component("VCALENDAR")
    c.add(name, TEXT, text)
    data = c.to_ical()
    assert data == to_icalendar(c).to_ical()
    return data


@pytest.mark.parametrize("td", [timedelta(0), timedelta(minutes=-30), timedelta(hours=-1), timedelta(days=-1),
                                timedelta(days=-1, minutes=-30), timedelta(hours=-25, seconds=-5),
                                timedelta(hours=5, minutes=30), timedelta(hours=-3, minutes=-30)])
def test_durations_and_offsets_like_icalendar(td):
    assert ics_lines.duration(td) == icalendar.vDuration(td).to_ical().decode()
    assert ics_lines.utc_offset(td) == icalendar.vUTCOffset(td).to_ical()
