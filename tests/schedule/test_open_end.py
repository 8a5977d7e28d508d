"""A schedule never looks finished when it is not (issue 10): the last event of an open-ended
schedule, and the header of every output, say that treatment continues per the treating team."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import icalendar

from regimens.exporters.ics import IcsOptions, to_ics
from regimens.exporters.sheet import Selection, SheetOptions, render_html
from regimens.exporters.tabular import to_csv, to_json

TITLE = "Treatment continues per the treating team"


def test_nct03114865_total_cycles_not_public(timeline):
    # seed-004 spells out cycles 1 and 2 only (A14: no public total). Cycle 1 2027-01-04, cycle 2
    # 2027-02-15 (day 43), which ends on 2027-03-28: the continuation is on 2027-03-29.
    tl = timeline("nct03114865")
    last = tl.events[-1]
    assert (last.title, last.date, last.kind) == (TITLE, date(2027, 3, 29), "milestone")
    assert "total number of cycles is not public" in last.note
    assert tl.continues and "total number of cycles is not public" in tl.continues


def test_aall1331_maintenance_has_no_public_end(timeline):
    # seed-001 Arm C: "... Continuation 2 over 8 weeks, and then Maintenance" with no duration.
    tl = timeline("nct02101853", arm="C", actual_starts={"block-2.c1": date(2027, 2, 8)})
    last = tl.events[-1]
    assert last.title == TITLE and last.cycle_id == "maintenance.c1"
    assert "length not public" in last.note


def test_a_schedule_that_ends_says_nothing(timeline):
    # NCT02877303 ends with "After completion of study treatment, patients are followed up"
    tl = timeline("nct02877303")
    assert tl.continues is None and all(e.title != TITLE for e in tl.events)


GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)


def _sheet(tl, kind):
    return render_html(tl, Selection(), SheetOptions(kind=kind), GEN)


def test_every_output_says_it(timeline):
    tl = timeline("nct03114865")
    events = json.loads(to_json(tl))["events"]
    assert json.loads(to_json(tl))["timeline"]["continues"] == tl.continues and tl.continues
    assert events[-1]["title"] == TITLE and events[-1]["date"] == "2027-03-29"
    rows = list(csv.DictReader(io.StringIO(to_csv(tl).decode())))
    assert rows[-1]["title"] == TITLE and "not public" in rows[-1]["note"]
    cal = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz="America/Chicago"), GEN))
    # the patient calendar says it in plain words (a phone shows 40 characters), staff as titled
    last = [ev for ev in cal.walk("VEVENT") if str(ev["SUMMARY"]) == "Treatment continues as your team decides"]
    assert len(last) == 1 and last[0].start == date(2027, 3, 29)
    staff = icalendar.Calendar.from_ical(to_ics(tl, IcsOptions(tz="America/Chicago", audience="staff"), GEN))
    last = [ev for ev in staff.walk("VEVENT") if str(ev["SUMMARY"]).startswith(TITLE)]
    assert len(last) == 1 and last[0].start == date(2027, 3, 29)
    assert "total number of cycles is not public" in str(last[0]["DESCRIPTION"]).replace("\n", " ")
    assert "Not the end of treatment" in str(cal["X-WR-CALDESC"]) or "Not the end of treatment" in str(
        cal.get("DESCRIPTION", ""))
    for kind in ("nurse", "pharmacist"):
        html = _sheet(tl, kind)
        assert "Not the end of treatment" in html and "total number of cycles is not public" in html, kind
    assert "Your treatment does not end with this calendar" in _sheet(tl, "patient")


def test_patient_calendar_says_it_in_the_patients_language(timeline):
    from regimens.language.site import patient_language

    # nct03114865 ends after cycle 2 (seed-004: total cycles not public): day 43 = 2027-03-29
    tl = timeline("nct03114865")
    en = render_html(tl, Selection(), SheetOptions(kind="patient"), GEN)
    assert "Treatment continues as your team decides" in en and TITLE not in en
    es = render_html(tl, Selection(), SheetOptions(kind="patient", language=patient_language("es")), GEN)
    assert "El tratamiento sigue; su equipo decide" in es and "Treatment continues" not in es
