"""Take-home (PO) series, reminders and the words of dose events, on small hand-made timelines
whose dates and doses are written out here (not compiled), so each expectation is plain."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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


def uid(v) -> str:
    """The timeline uid inside a calendar UID (`<timeline uid>-<patient tag>@regimens`)."""
    return str(v["UID"]).removesuffix("@regimens").rsplit("-", 1)[0] + "@regimens"


BER = ZoneInfo("Europe/Berlin")


def test_daily_po_course_is_one_recurring_event_with_a_morning_reminder():
    # days 1-28 daily: one VEVENT, RRULE COUNT=28, 22 Feb + 27 days = 20 Mar 2028 (via 29 Feb).
    # No time in the protocol: the dose sits at the take-home time (08:00) for 5 minutes, with
    # its reminder at that time (a relative trigger on an all-day event crashes
    # recurring-ical-events' alarm expansion, an absolute one fires once for a whole series)
    tl = tl_of(*(ev(f"mp{d}", d, dose_number=d, doses_total=28) for d in range(1, 29)))
    data = ics.to_ics(tl, ics.IcsOptions(tz="Europe/Berlin", audience="staff"), STAMP)
    (v,) = vevents(data)
    assert uid(v) == "mp1@regimens"
    assert v["RRULE"].to_ical() == b"FREQ=DAILY;COUNT=28"
    assert str(v["SUMMARY"]) == "mercaptopurine 50 mg/m² PO daily — C1 D1–28"
    assert v["TRANSP"] == "TRANSPARENT"  # not an appointment: the day is not shown busy
    (alarm,) = v.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm["TRIGGER"].dt == timedelta(0)
    res = all_parsers(data)
    assert res["icalendar"] == res["ical"] == res["vobject"]
    starts = sorted(s for (_, s, _) in res["vobject"])
    # 08:00 CET = 07:00Z; 28 Feb 2028 is before EU DST (26 March 2028)
    assert len(starts) == 28 and starts[7] == datetime(2028, 2, 29, 7, tzinfo=UTC)
    assert starts[-1] == datetime(2028, 3, 20, 7, tzinfo=UTC)
    assert {e - s for (_, s, e) in res["vobject"]} == {timedelta(minutes=5)}
    # every alarm instance expands in recurring-ical-events (it crashed on TRIGGER:PT8H all-day)
    import recurring_ical_events
    alarms = recurring_ical_events.of(icalendar.Calendar.from_ical(data), components=["VALARM"]).between(
        date(2028, 1, 1), date(2028, 12, 31))
    assert len(list(alarms)) == 28
    # the patient's words: plain, short, no route code
    (p,) = vevents(ics.to_ics(tl, ics.IcsOptions(tz="Europe/Berlin"), STAMP))
    assert str(p["SUMMARY"]) == "Take mercaptopurine 50 mg/m², daily · cycle 1, days 1–28"
    assert "How: by mouth" in str(p["DESCRIPTION"]) and "Source" not in str(p["DESCRIPTION"])


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


def test_an_omitted_or_held_dose_is_an_exdate_of_the_same_series():
    # dexamethasone days 1-4 and 11-14 (two runs); day 3 omitted, day 12 held. Each run stays one
    # series under the same UID as without the change; the omitted and held days are EXDATEs.
    days = [ev(f"dex{d}", d, title="dexamethasone", drug="dexamethasone", dose=40, unit="mg")
            for d in (1, 2, 3, 4, 11, 12, 13, 14)]
    plain = {uid(v): v for v in vevents(ics.to_ics(tl_of(*days), ics.IcsOptions(tz="Europe/Berlin"), STAMP))}
    assert set(plain) == {"dex1@regimens", "dex11@regimens"}
    days[2] = days[2].with_(status="omitted", status_reason="vomiting")
    days[5] = days[5].with_(status="held", status_reason="ANC 0.4")
    data = ics.to_ics(tl_of(*days), ics.IcsOptions(tz="Europe/Berlin"), STAMP)
    vs = {uid(v): v for v in vevents(data)}
    assert set(vs) == set(plain)
    assert {str(v["UID"]) for v in vs.values()} == {str(v["UID"]) for v in plain.values()}
    a, b = vs["dex1@regimens"], vs["dex11@regimens"]
    assert a["RRULE"]["COUNT"] == [4] and b["RRULE"]["COUNT"] == [4]
    assert str(a["SUMMARY"]) == str(plain["dex1@regimens"]["SUMMARY"])  # the title does not change
    # 24 Feb 2028 (day 3) and 4 Mar 2028 (day 12), 08:00 CET
    assert [d.dt for d in a["EXDATE"].dts] == [datetime(2028, 2, 24, 8, tzinfo=BER)]
    assert [d.dt for d in b["EXDATE"].dts] == [datetime(2028, 3, 4, 8, tzinfo=BER)]
    assert "Not on Thu 24 Feb 2028: cancelled (vomiting)" in str(a["DESCRIPTION"])
    assert "on hold" in str(b["DESCRIPTION"]) and "ANC 0.4" in str(b["DESCRIPTION"])
    assert "STATUS" not in a and a.walk("VALARM")
    # SEQUENCE without a plan: 1 held, 2 omitted, so the changed series are not re-sent as they were
    assert (a["SEQUENCE"], b["SEQUENCE"]) == (2, 1)
    res = all_parsers(data)
    assert res["icalendar"] == res["ical"] == res["vobject"]
    starts = sorted(s for (_, s, _) in res["icalendar"])
    assert len(starts) == 6 and datetime(2028, 2, 24, 7, tzinfo=UTC) not in starts
    # every dose of a run omitted: the series itself is cancelled, still under its UID
    for i in (4, 5, 6, 7):
        days[i] = days[i].with_(status="omitted", status_reason="stopped")
    vs = {uid(v): v for v in vevents(ics.to_ics(tl_of(*days), ics.IcsOptions(tz="Europe/Berlin"), STAMP))}
    assert vs["dex11@regimens"]["STATUS"] == "CANCELLED" and "EXDATE" not in vs["dex11@regimens"]
    assert not vs["dex11@regimens"].walk("VALARM")


def test_three_times_a_day_is_dose_k_of_3_today():
    tid = [ev(f"mp{d}-{t}", d, time=time(t, 0), dose=50, unit="mg") for d in (1, 2, 3) for t in (8, 14, 20)]
    vs = vevents(ics.to_ics(tl_of(*tid), ics.IcsOptions(tz="Europe/Berlin"), STAMP))
    assert sorted(str(v["SUMMARY"]) for v in vs) == [
        f"Take mercaptopurine 50 mg ({k} of 3 today) · cycle 1, days 1–3" for k in (1, 2, 3)]
    assert all("Dose 2 of 3 today" in str(v["DESCRIPTION"]) for v in vs if "(2 of 3" in str(v["SUMMARY"]))


def test_summary_and_description_of_a_calculated_dose():
    # vincristine 1.5 mg/m² capped at 2 mg: the phone line shows the dose to give, tall-man
    w = DoseWorking("per_m2", "BSA 1.91 m² (Mosteller)", "1.5 mg/m² × 1.91 m² = 2.865 mg", 2.865,
                    cap="capped at 2 mg (−30.2 %)")
    e = ev("vcr", 4, title="vincristine", drug="vincristine", route="IV", dose=1.5, unit="mg/m2",
           time=time(9, 0), duration_minutes=15, patient_dose=2, patient_unit="mg", working=w)
    (v,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin", audience="staff", measurements=True),
                              STAMP))
    assert str(v["SUMMARY"]) == "vinCRIStine 2 mg IV — C1 D4"
    desc = str(v["DESCRIPTION"])
    for line in ("Dose as written: 1.5 mg/m²", "Calculated dose: 2 mg", "1.5 mg/m² × 1.91 m² = 2.865 mg",
                 "capped at 2 mg", "Route: IV", "Given over: 15 min", "Cycle 1, day 4", "Source: seed record"):
        assert line in desc, line
    # the first clinic appointment of the day is reminded an hour before (--clinic-reminder)
    assert [a["TRIGGER"].dt for a in v.walk("VALARM")] == [-timedelta(hours=1)]
    assert v["TRANSP"] == "OPAQUE"
    (p,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin"), STAMP))
    assert str(p["SUMMARY"]) == "Vincristine 2 mg into a vein · cycle 1, day 4"
    assert "How: into a vein, over 15 min" in str(p["DESCRIPTION"]) and "vinCRIS" not in str(p["DESCRIPTION"])
    # 09:00 CET on 25 Feb 2028 = 08:00Z, 15 min
    assert v["DTSTART"].dt == datetime(2028, 2, 25, 9, tzinfo=v["DTSTART"].dt.tzinfo)
    assert v["DTEND"].dt - v["DTSTART"].dt == timedelta(minutes=15)


def test_not_public_dose_says_so():
    e = ev("x", 1, dose=None, unit=None, not_public=True)
    (v,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin", audience="staff"), STAMP))
    assert "dose per full protocol (not public)" in str(v["DESCRIPTION"])
    assert "dose not public" in str(v["SUMMARY"])


def test_held_dose_is_tentative_without_reminder():
    e = ev("h", 2, status="held", status_reason="ANC 0.4")
    (v,) = vevents(ics.to_ics(tl_of(e), ics.IcsOptions(tz="Europe/Berlin", audience="staff"), STAMP))
    assert v["STATUS"] == "TENTATIVE" and str(v["SUMMARY"]).startswith("HELD: ")
    assert "HELD: ANC 0.4" in str(v["DESCRIPTION"]) and not v.walk("VALARM")
