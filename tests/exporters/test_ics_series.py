"""Take-home (PO) series, reminders and the words of dose events, on small hand-made timelines
whose dates and doses are written out here (not compiled), so each expectation is plain."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import icalendar
from ics_readers import all_parsers, private_tzid

from regimens.exporters import ics
from regimens.schedule.timeline import Cycle, DoseEvent, DoseWorking, Timeline

STAMP = datetime(2027, 1, 1, tzinfo=UTC)
C1 = date(2028, 2, 22)  # a Tuesday; day 8 is 29 February 2028 (leap year)


def ev(uid, day, **kw) -> DoseEvent:
    d = C1 + timedelta(days=day - 1)
    base = dict(uid=f"{uid}@regimens", kind="administration", date=d, end_date=d, time=None, end_time=None,
                title="mercaptopurine", phase_id="maintenance", phase="Maintenance", phase_start=C1,
                cycle_id="maintenance.c1", cycle=1, course="POMP", day=day, drug="mercaptopurine",
                route="PO", dose=50, unit="mg/m2", source="seed-000", source_cite="seed record")
    base.update(kw)
    return DoseEvent(**base)


def tl_of(*events, revision=0) -> Timeline:
    cyc = Cycle("maintenance.c1", "maintenance", "Maintenance", "pomp", "POMP", 1, C1, 84, C1)
    return Timeline("demo", "Demo", "1.0.0", "ab" * 32, "demo.yaml", "file", "1", "Arm 1", (), C1, (cyc,),
                    tuple(events), revision=revision)


def vevents(data: bytes):
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_daily_po_course_is_one_recurring_event_with_a_morning_reminder():
    # days 1-28 daily: one VEVENT, RRULE COUNT=28, 22 Feb + 27 days = 20 Mar 2028 (via 29 Feb)
    tl = tl_of(*(ev(f"mp{d}", d, dose_number=d, doses_total=28) for d in range(1, 29)))
    data = ics.to_ics(tl, ics.IcsOptions(tz="Europe/Berlin"), STAMP)
    (v,) = vevents(data)
    assert v["UID"] == "mp1@regimens"
    assert v["RRULE"].to_ical() == b"FREQ=DAILY;COUNT=28"
    assert str(v["SUMMARY"]) == "mercaptopurine 50 mg/m² PO daily — C1 D1–28"
    (alarm,) = v.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt == timedelta(hours=8)
    res = all_parsers(data)
    assert res["icalendar"] == res["ical"] == res["vobject"]
    starts = sorted(s for (_, s, _) in res["vobject"])
    assert len(starts) == 28 and starts[7] == date(2028, 2, 29) and starts[-1] == date(2028, 3, 20)


def test_weekly_and_timed_series_and_reminder_options():
    # methotrexate weekly days 1, 8, 15, 22 at 20:00 Chicago; 2028 US DST starts Sun 12 March:
    # 20:00 CST = 02:00Z next day for 22 Feb, 29 Feb, 7 Mar; 20:00 CDT = 01:00Z on 14 Mar.
    mtx = [ev(f"mtx{d}", d, title="methotrexate", drug="methotrexate", dose=20, time=time(20, 0))
           for d in (1, 8, 15, 22)]
    tl = tl_of(*mtx)
    data = ics.to_ics(tl, ics.IcsOptions(tz="America/Chicago", reminder_minutes=45), STAMP)
    (v,) = vevents(data)
    assert v["RRULE"].to_ical() == b"FREQ=DAILY;COUNT=4;INTERVAL=7"
    assert "weekly" in str(v["SUMMARY"])
    assert v.walk("VALARM")[0]["TRIGGER"].dt == -timedelta(minutes=45)
    for d in (data, private_tzid(data, "America/Chicago")):
        res = all_parsers(d)
        assert res["icalendar"] == res["ical"] == res["vobject"]
        assert sorted(s for (_, s, _) in res["vobject"]) == [
            datetime(2028, 2, 23, 2, tzinfo=UTC), datetime(2028, 3, 1, 2, tzinfo=UTC),
            datetime(2028, 3, 8, 2, tzinfo=UTC), datetime(2028, 3, 15, 1, tzinfo=UTC)]
    off = ics.to_ics(tl, ics.IcsOptions(tz="America/Chicago", reminders=False), STAMP)
    assert b"VALARM" not in off


def test_an_omitted_dose_breaks_the_series_and_is_cancelled():
    days = [ev(f"mp{d}", d) for d in range(1, 8)]
    days[3] = days[3].with_(status="omitted", status_reason="vomiting")  # day 4
    data = ics.to_ics(tl_of(*days), ics.IcsOptions(tz="Europe/Berlin"), STAMP)
    vs = {str(v["UID"]): v for v in vevents(data)}
    assert set(vs) == {"mp1@regimens", "mp4@regimens", "mp5@regimens"}
    assert vs["mp1@regimens"]["RRULE"]["COUNT"] == [3]
    assert vs["mp5@regimens"]["RRULE"]["COUNT"] == [3]
    assert vs["mp4@regimens"]["STATUS"] == "CANCELLED" and not vs["mp4@regimens"].walk("VALARM")
    assert str(vs["mp4@regimens"]["SUMMARY"]).startswith("OMITTED: ")


def test_summary_and_description_of_a_calculated_dose():
    # vincristine 1.5 mg/m² capped at 2 mg: the phone line shows the dose to give, tall-man
    w = DoseWorking("per_m2", "BSA 1.91 m² (Mosteller)", "1.5 mg/m² × 1.91 m² = 2.865 mg", 2.865,
                    cap="capped at 2 mg (−30.2 %)")
    e = ev("vcr", 4, title="vincristine", drug="vincristine", route="IV", dose=1.5, unit="mg/m2",
           time=time(9, 0), duration_minutes=15, patient_dose=2, patient_unit="mg", working=w)
    (v,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin", measurements=True), STAMP))
    assert str(v["SUMMARY"]) == "vinCRIStine 2 mg IV — C1 D4"
    desc = str(v["DESCRIPTION"])
    for line in ("Dose as written: 1.5 mg/m²", "Calculated dose: 2 mg", "1.5 mg/m² × 1.91 m² = 2.865 mg",
                 "capped at 2 mg", "Route: IV", "Given over: 15 min", "Cycle 1, day 4", "Source: seed record"):
        assert line in desc, line
    assert not v.walk("VALARM")  # clinic doses carry no reminder; take-home doses do
    # 09:00 CET on 25 Feb 2028 = 08:00Z, 15 min
    assert v["DTSTART"].dt == datetime(2028, 2, 25, 9, tzinfo=v["DTSTART"].dt.tzinfo)
    assert v["DTEND"].dt - v["DTSTART"].dt == timedelta(minutes=15)


def test_not_public_dose_says_so():
    e = ev("x", 1, dose=None, unit=None, not_public=True)
    (v,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin"), STAMP))
    assert "dose per full protocol (not public)" in str(v["DESCRIPTION"])
    assert "dose not public" in str(v["SUMMARY"])


def test_held_dose_is_tentative_without_reminder():
    e = ev("h", 2, status="held", status_reason="ANC 0.4")
    (v,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin"), STAMP))
    assert v["STATUS"] == "TENTATIVE" and str(v["SUMMARY"]).startswith("HELD: ")
    assert "HELD: ANC 0.4" in str(v["DESCRIPTION"]) and not v.walk("VALARM")
