"""End times across a daylight-saving change (issue 10): a continuous infusion given on days 1-7
from 09:00 stops at 09:00 on day 8, the moment the next bag (a step-up) starts, on the clock
of the clinic's zone, in the .ics as in the timeline; never an hour later after spring forward."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import icalendar
import pytest

from regimens.exporters.ics import IcsOptions, to_ics

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)
CHI = "America/Chicago"


def _blina_c1(tl):
    # seed-004: "Cycle 1 - Days 1-7: 9 ug/day IV daily"; "Cycle 1 - Days 8-28: 28 ug/day"
    first = next(e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1 and e.day == 1)
    step = next(e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1 and e.day == 8)
    return first, step


def _mine(cal, e):
    base = e.uid.removesuffix("@regimens")
    return [v for v in cal.walk("VEVENT") if base in str(v["UID"])]


@pytest.mark.parametrize(("start", "change"), [
    # US daylight saving 2027 starts Sunday 14 March (02:00 -> 03:00) and ends Sunday 7 November
    (date(2027, 3, 8), "spring forward on day 7"),
    (date(2027, 11, 1), "fall back on day 7"),
])
@pytest.mark.parametrize("audience", ["patient", "staff"])
def test_step_up_starts_when_the_old_bag_stops(timeline, start, change, audience):
    tl = timeline("nct03114865", start=start)
    first, step = _blina_c1(tl)
    assert (step.date - first.date).days == 7 and first.time == step.time == time(9)
    tz = ZoneInfo(CHI)
    step_start = datetime.combine(step.date, time(9), tzinfo=tz)  # day 8, 09:00 local
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience=audience), GEN))
    timed = [v for v in _mine(cal, first) if isinstance(v["DTSTART"].dt, datetime)]
    assert timed, change
    # no event of the 9 mcg/day bag at or after the instant the 28 mcg/day bag starts
    late = [(str(v["SUMMARY"]), v["DTSTART"].dt) for v in timed if v["DTSTART"].dt >= step_start]
    assert late == [], change
    # and the step-up's first bag starts at 09:00 on the clock
    new = [v for v in _mine(cal, step) if "-bag1-" in str(v["UID"])]
    assert len(new) == 1
    got = new[0]["DTSTART"].dt
    assert (got.astimezone(tz).time(), got.astimezone(tz).date()) == (time(9), step.date), change


def test_without_a_following_bag_the_pump_stops_at_the_same_clock_time(timeline):
    # started Monday 2027-02-22: cycle 1's 28 mcg/day bag runs days 8-28 from Monday 1 March
    # 09:00 CST across the 14 March change and stops at 09:00 CDT on day 29, Monday 22 March,
    # where the timeline says (the rest interval starts that day); nothing follows it at once, so
    # the .ics has an end-of-infusion event there, not at 10:00.
    tl = timeline("nct03114865", start=date(2027, 2, 22))
    _, step = _blina_c1(tl)
    tz = ZoneInfo(CHI)
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience="staff"), GEN))
    end = [v for v in _mine(cal, step) if "-end-" in str(v["UID"])]
    assert len(end) == 1
    assert end[0]["DTSTART"].dt.astimezone(tz).replace(tzinfo=None) == datetime(2027, 3, 22, 9, 0)


# --- one stop time on every output (issue 10) ------------------------------------------------
# The rule, in the library (schedule/timeline.infusion_stop): an infusion over a number of hours
# runs that many elapsed hours; a continuous infusion on whole days stops at its start time on
# the clock. JSON, CSV, the table, the nurse and pharmacist sheets, the patient calendar and the
# .ics all print DoseEvent.stops / infusion_stop, so they cannot disagree.

import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
from datetime import timedelta  # noqa: E402

from regimens.exporters import tabular  # noqa: E402
from regimens.exporters.sheet import Selection, SheetOptions, render_html  # noqa: E402
from regimens.schedule.timeline import in_zone, infusion_stop  # noqa: E402


def _mesna(tl):
    return next(e for e in tl.events if e.drug == "mesna")


# Hand-computed. NCT02877303 course A day 1: mesna from 08:00 over 69 h (adult-regimens.md §2).
# Without a clock change: 08:00 Friday + 69 h = 05:00 Monday.
# Spring forward Sun 14 Mar 2027: Fri 12 Mar 08:00 CST = 14:00 UTC; + 69 h = Mon 15 Mar 11:00 UTC
#   = 06:00 CDT (UTC-5).
# Fall back Sun 7 Nov 2027: Fri 5 Nov 08:00 CDT = 13:00 UTC; + 69 h = Mon 8 Nov 10:00 UTC
#   = 04:00 CST (UTC-6).
MESNA = [
    (date(2027, 3, 12), datetime(2027, 3, 15, 6, 0), "Mon 15 Mar 06:00", "Monday 15 March 2027 at 6:00"),
    (date(2027, 11, 5), datetime(2027, 11, 8, 4, 0), "Mon 8 Nov 04:00", "Monday 8 November 2027 at 4:00"),
]


@pytest.mark.parametrize(("start", "stop", "staff", "patient"), MESNA)
def test_mesna_over_69_hours_stops_after_69_real_hours_on_every_output(timeline, start, stop, staff, patient):
    raw = timeline("nct02877303", start=start)
    m = _mesna(raw)
    assert (m.date, m.time, m.duration_minutes, m.whole_days) == (start, time(8), 69 * 60, False)
    # no zone: a clock without changes, 05:00 on Monday
    assert infusion_stop(m) == datetime.combine(start + timedelta(days=3), time(5))
    tl = in_zone(raw, CHI)
    m = _mesna(tl)
    tz = ZoneInfo(CHI)
    # the instant is 69 h after the start, whatever the clock shows
    assert (infusion_stop(m, CHI).astimezone(UTC) - datetime.combine(start, time(8), tzinfo=tz).astimezone(UTC)
            == timedelta(hours=69))
    assert m.stops == stop and (m.end_date, m.end_time) == (stop.date(), stop.time())
    # staff are told the clock change moved the stop (doses at clock times did not move)
    # (after fall back it ends 1 h earlier relative to the clock-time cyclophosphamide it covers)
    shift = "1 h later" if stop.hour == 6 else "1 h earlier"
    assert any(w.startswith(f"CLOCK CHANGE: mesna from {start.isoformat()} 08:00: the clocks change")
               and f"stops at {stop:%H:%M}" in w and f"{shift} than doses kept at their clock times" in w
               for w in tl.warnings)
    # JSON and CSV
    rec = next(r for r in json.loads(tabular.to_json(tl))["events"] if r["uid"] == m.uid)
    assert (rec["stops"], rec["end_date"], rec["end_time"]) == (stop.strftime("%Y-%m-%dT%H:%M"),
                                                               stop.date().isoformat(), stop.strftime("%H:%M"))
    row = next(r for r in csv.DictReader(io.StringIO(tabular.to_csv(tl).decode())) if r["uid"] == m.uid)
    assert row["stops"] == rec["stops"]
    assert f"(stops {stop:%Y-%m-%d %H:%M})" in tabular.to_table(tl).decode()
    # .ics (read back with icalendar): the end-of-infusion event at the same local time
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience="staff"), GEN))
    end = [v for v in _mine(cal, m) if "-end-" in str(v["UID"])]
    assert [v["DTSTART"].dt.astimezone(tz).replace(tzinfo=None) for v in end] == [stop]
    # nurse and pharmacist sheets, patient calendar
    sel = Selection(cycle="intensive.c1")
    for kind in ("nurse", "pharmacist"):
        html = render_html(tl, sel, SheetOptions(kind=kind), GEN)
        assert f"pump stops {staff}" in html, kind
    html = render_html(tl, sel, SheetOptions(kind="patient"), GEN)
    assert f"your pump comes off on {patient}" in html


def test_blinatumomab_28_days_stops_at_9_on_day_29_on_every_output(timeline):
    # seed-004 (NCT03114865): cycle 2 "Days 1-28: 28 ug/day". Started Mon 4 Jan 2027, cycle 2 is
    # days 43-70 (Mon 15 Feb to Sun 14 Mar); from 09:00 on day 1 it runs 28 whole days and stops at
    # 09:00 on day 29, Mon 15 Mar, the day after the spring-forward change: 09:00 CDT, not 10:00.
    tl = in_zone(timeline("nct03114865", start=date(2027, 1, 4)), CHI)
    e = next(x for x in tl.events if x.drug == "blinatumomab" and x.cycle == 2 and x.continuous)
    assert (e.date, e.end_date, e.time, e.whole_days) == (date(2027, 2, 15), date(2027, 3, 14), time(9), True)
    stop = datetime(2027, 3, 15, 9, 0)
    assert e.stops == stop
    assert infusion_stop(e, CHI) == datetime(2027, 3, 15, 9, 0, tzinfo=ZoneInfo(CHI))
    assert not any("clocks change" in w for w in tl.warnings)  # on the clock: nothing moved
    rec = next(r for r in json.loads(tabular.to_json(tl))["events"] if r["uid"] == e.uid)
    assert rec["stops"] == "2027-03-15T09:00"
    row = next(r for r in csv.DictReader(io.StringIO(tabular.to_csv(tl).decode())) if r["uid"] == e.uid)
    assert (row["stops"], row["whole_days"]) == ("2027-03-15T09:00", "true")
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience="staff"), GEN))
    end = [v for v in _mine(cal, e) if "-end-" in str(v["UID"])]
    assert [v["DTSTART"].dt.astimezone(ZoneInfo(CHI)).replace(tzinfo=None) for v in end] == [stop]
    sel = Selection(cycle="2")
    for kind in ("nurse", "pharmacist"):
        assert "pump stops Mon 15 Mar 09:00" in render_html(tl, sel, SheetOptions(kind=kind), GEN), kind
    html = render_html(tl, sel, SheetOptions(kind="patient"), GEN)
    assert "your pump comes off on Monday 15 March 2027 at 9:00" in html
    assert "<strong>Pump</strong> comes off at 9:00" in html  # the square of Mon 15 Mar
    assert "<strong>Pump</strong> last day" not in html  # never 'last day' on day 28: a day early


def test_the_cli_puts_timeline_and_sheet_on_the_clinic_clock(run_cli):
    args = ("nct02877303", "--start", "2027-03-12", "--tz", "America/Chicago")
    code, out, err = run_cli("timeline", *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["timeline"]["zone"] == CHI
    assert [r["stops"] for r in data["events"] if r["drug"] == "mesna"][0] == "2027-03-15T06:00"
    assert "the clocks change (America/Chicago)" in err
    code, html, err = run_cli("sheet", *args, "--kind", "nurse", "--cycle", "intensive.c1")
    assert code == 0, err
    assert "pump stops Mon 15 Mar 06:00" in html
    code, out, err = run_cli("timeline", "nct02877303", "--start", "2027-03-12", "--tz", "EST")
    assert code == 2 and "fixed offset" in err


def test_the_clock_change_note_is_for_staff(timeline):
    tl = in_zone(timeline("nct02877303", start=date(2027, 3, 12)), CHI)
    note = next(w for w in tl.warnings if "clocks change" in w)
    staff = to_ics(tl, IcsOptions(tz=CHI, audience="staff"), GEN).decode()
    patient = to_ics(tl, IcsOptions(tz=CHI, audience="patient"), GEN).decode()
    unfold = lambda t: t.replace("\r\n ", "")  # noqa: E731
    assert "the clocks change (America/Chicago)" in unfold(staff) and note.startswith("CLOCK CHANGE: ")
    assert "clocks change" not in unfold(patient)
    plain = in_zone(timeline("nct02877303", start=date(2027, 3, 12)), None)
    # the patient calendar's 'dates not known yet' line depends on the other warnings only
    assert ("Some dates are not known yet" in unfold(patient)) == bool(plain.warnings)


def test_the_service_path_puts_stops_on_the_clinic_clock(load):
    # the clinic service compiles plans with compile_plan(..., zone=REGIMENS_TZ): its sheets,
    # plan pages and feeds get the same stop as `regimens timeline --tz` and the .ics
    from regimens.plans.plan import Given, merge
    from regimens.plans.verification import compile_plan, timeline_digest

    pf = load("nct02877303")
    plan = merge(None, pf, Given(start=date(2027, 3, 12)))
    chicago, bare = compile_plan(pf, plan, zone=CHI), compile_plan(pf, plan)
    assert _mesna(chicago).stops == datetime(2027, 3, 15, 6, 0) and _mesna(bare).stops == datetime(2027, 3, 15, 5, 0)
    # a different clock is a different schedule: verified under one zone, re-verified under another
    assert timeline_digest(chicago) != timeline_digest(bare)


def test_doxorubicin_over_24_hours_runs_24_real_hours(timeline):
    # NCT02877303 course A day 4, doxorubicin over 24 h (seed-000 "continuously on day 4"; UTD,
    # SRL 24 h). Started Wed 10 Mar 2027: day 4 is Sat 13 Mar 09:00 CST = 15:00 UTC; + 24 h =
    # Sun 14 Mar 15:00 UTC = 10:00 CDT (spring forward at 02:00 that night).
    tl = in_zone(timeline("nct02877303", start=date(2027, 3, 10)), CHI)
    d = next(e for e in tl.events if e.drug == "doxorubicin" and e.cycle_id == "intensive.c1")
    assert (d.date, d.time, d.whole_days) == (date(2027, 3, 13), time(9), False)
    assert d.stops == datetime(2027, 3, 14, 10, 0)
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz=CHI, audience="staff"), GEN))
    end = [v for v in _mine(cal, d) if "-end-" in str(v["UID"])]
    assert [v["DTSTART"].dt.astimezone(ZoneInfo(CHI)).replace(tzinfo=None) for v in end] == [d.stops]
    assert "pump stops Sun 14 Mar 10:00" in render_html(tl, Selection(cycle="intensive.c1"),
                                                        SheetOptions(kind="nurse"), GEN)
