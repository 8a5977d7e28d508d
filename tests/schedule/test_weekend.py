"""Procedures on a weekend are flagged on staff outputs (issue 10)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from regimens.exporters.sheet import Selection, SheetOptions, render_html
from regimens.exporters.tabular import to_json

GEN = datetime(2027, 1, 2, 8, 30, tzinfo=UTC)


def test_it_cytarabine_on_a_sunday_is_flagged(timeline):
    # seed-000: "cytarabine IT on day 7 of cycles 1 and 3"; day 1 = Monday 2027-01-04, so day 7
    # is Sunday 2027-01-10 and cycle 3 (day 43, 2027-02-15) has it on Sunday 2027-02-21. IT
    # methotrexate on day 2 (Tuesday 2027-01-05) is not flagged.
    tl = timeline("nct02877303")
    it = [e for e in tl.administrations() if e.route == "IT"]
    flagged = {(e.drug, e.date, e.weekend) for e in it if e.weekend}
    assert ("cytarabine", date(2027, 1, 10), "Sunday") in flagged
    assert ("cytarabine", date(2027, 2, 21), "Sunday") in flagged
    assert all(e.date.weekday() >= 5 for e in it if e.weekend)
    assert all(e.weekend is None for e in it if e.date.weekday() < 5)
    mtx = next(e for e in it if e.drug == "methotrexate" and e.date == date(2027, 1, 5))
    assert mtx.weekend is None
    # nothing but procedures is flagged (oral dexamethasone on the same Sunday is not)
    assert all(e.route == "IT" or e.kind == "procedure" for e in tl.events if e.weekend)
    assert [r["weekend"] for r in json.loads(to_json(tl))["events"] if r["date"] == "2027-01-10" and r["route"] == "IT"] == ["Sunday"]


def test_staff_sheets_say_so_and_the_patient_calendar_does_not(timeline):
    tl = timeline("nct02877303")
    sel = Selection(cycle="intensive.c1")
    for kind in ("nurse", "pharmacist"):
        html = render_html(tl, sel, SheetOptions(kind=kind), GEN)
        assert "WEEKEND PROCEDURE: IT dose on a Sunday, unusual" in html, kind
    assert "WEEKEND" not in render_html(tl, sel, SheetOptions(kind="patient"), GEN)
