"""Totals of continuous infusions are totals (issue 10). NCT02877303 course A, from the shipped
protocol: mesna 600 mg/m²/day as a continuous infusion from the first cyclophosphamide dose to 6 h
after the last (adult-regimens.md §2 mesna row, "continuous infusion"; 08:00 day 1 to 05:00 day 4 =
69 h), doxorubicin 50 mg/m² "IV continuously on day 4" (000_5a4e198ba8bc01c2.txt) over 24 h.

Patient 175 cm, 75 kg: Mosteller √(175 × 75 / 3600) = √3.6458 = 1.9094 → 1.91 m².
  mesna rate   600 × 1.91 = 1,146 mg/day
  mesna total  1,146 × 69 / 24 = 1,146 × 2.875 = 3,294.75 mg → 3,295 mg (nearest 1 mg from 100 mg)
  as written   600 × 2.875 = 1,725 mg/m² over the infusion
  doxorubicin  50 × 1.91 = 95.5 mg over 24 h, i.e. 95.5 mg/day
"""

from __future__ import annotations

import html
import json
import re

import pytest

from regimens.protocol.catalog import Catalog

ARGS = ("nct02877303", "--start", "2027-01-04", "--height", "175", "--weight", "75", "--age", "50")


def _events(out: str) -> list:
    """The events of a timeline JSON (an object with `events`, or a bare list in older formats)."""
    data = json.loads(out)
    return data["events"] if isinstance(data, dict) else data


def test_mesna_and_doxorubicin_are_continuous_in_the_protocol():
    items = {i.drug: i for i in Catalog(None).load("nct02877303").protocol.courses["course-a"].items if i.drug}
    assert items["mesna"].continuous and items["mesna"].over == "69 h"
    assert items["doxorubicin"].continuous and items["doxorubicin"].over == "24 h"
    assert "continuously on day 4" in items["doxorubicin"].source  # the record's own word
    assert "continuous infusion" in items["mesna"].source


@pytest.fixture(scope="module")
def events():
    from datetime import date

    from regimens.dosing.doses import Measurements, resolve_doses
    from regimens.schedule.compiler import compile as compile_timeline
    from regimens.schedule.request import ScheduleRequest

    pf = Catalog(None).load("nct02877303")
    tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4)))
    return resolve_doses(tl, Measurements(height_cm=175, weight_kg=75, age_years=50))


def _c1(tl, drug):
    return next(e for e in tl.events if e.drug == drug and e.cycle_id == "intensive.c1")


def test_mesna_total_over_69_hours(events):
    e = _c1(events, "mesna")
    assert (e.continuous, e.duration_minutes) == (True, 69 * 60)
    assert (e.patient_dose, e.patient_unit) == (1146, "mg/day")
    assert (e.working.total, e.working.total_unit) == (3295, "mg")
    assert e.working.total_text == "total over the infusion: 1,146 mg/day × 69 h = 3,294.75 mg ≈ 3,295 mg"


def test_doxorubicin_total_and_rate(events):
    e = _c1(events, "doxorubicin")
    assert (e.patient_dose, e.patient_unit, e.working.total) == (95.5, "mg", 95.5)
    assert "(rate 95.5 mg/day)" in e.working.total_text


def test_blinatumomab_total_is_rate_times_days(events):
    # consolidation cycle 5: 28 mcg/day × 28 days = 784 mcg (flat, no measurement needed)
    e = next(e for e in events.events if e.drug == "blinatumomab" and e.patient_dose == 28
             and e.duration_minutes == 28 * 1440)
    assert (e.working.total, e.working.total_unit) == (784, "mcg")


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_pharmacist_sheet_shows_total_beside_rate_and_sums_totals(run_cli):
    code, out, err = run_cli("sheet", *ARGS, "--kind", "pharmacist", "--cycle", "intensive.c1", "--format", "html")
    assert code == 0, err
    text = _text(out)
    assert "1,146 mg/day (3,295 mg over 69 h)" in text            # beside the rate
    assert "600 mg/m²/day (1,725 mg/m² over 69 h)" in text         # as written
    # cumulative table: the term is rate × length, the calculated sum the total as prepared
    row = re.search(r"mesna 600 mg/m²/day × 69 h = 1,725 mg/m² .{0,80}?(\S+ mg) ", text)
    assert row and row.group(1) == "3,295 mg", text[text.find("Cumulative"):][:600]


def test_json_csv_and_ics_carry_the_total(run_cli):
    code, out, _ = run_cli("timeline", *ARGS, "--format", "json")
    mesna = next(e for e in _events(out) if e["drug"] == "mesna")
    assert (mesna["working"]["total"], mesna["working"]["total_unit"]) == (3295, "mg")
    code, out, _ = run_cli("timeline", *ARGS, "--format", "csv")
    assert "1,146 mg/day × 69 h = 3,294.75 mg ≈ 3,295 mg" in out
    code, out, _ = run_cli("ics", *ARGS, "--tz", "America/Chicago", "--audience", "staff")
    assert code == 0
    assert "= 3,294.75 mg ≈ 3,295 mg" in out.replace("\r\n ", "").replace("\\,", ",")


def test_continuous_with_over_needs_one_day(tmp_path, run_cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""id: bad
title: t
version: "1.0"
registry: {}
sources: [{key: s, kind: site, cite: x}]
courses:
  a:
    name: A
    length_days: 21
    length_source: s
    items:
      - {drug: mesna, route: IV, dose: {value: 600, unit: mg/m2/day}, days: "1-3", over: 69 h, continuous: true, source: s}
arms: [{label: "1", name: A, sequence: [a], source: s}]
""")
    code, _, err = run_cli("validate", str(bad))
    assert code == 2 and "a continuous infusion with `over` starts on one listed day" in err


def test_nurse_sheet_gives_the_infusion_length_not_calendar_days(run_cli):
    # doxorubicin day 4 09:00 to day 5 09:00 is 24 h (two calendar days); mesna 69 h over four
    code, out, err = run_cli("sheet", *ARGS, "--kind", "nurse", "--cycle", "intensive.c1", "--format", "html")
    assert code == 0, err
    text = _text(out)
    # and when the pump stops (issue 10): Thu 7 Jan 09:00 + 24 h; Mon 4 Jan 08:00 + 69 h
    assert "continuous infusion over 24 h; pump stops Fri 8 Jan 09:00" in text
    assert "continuous infusion over 69 h; pump stops Thu 7 Jan 05:00" in text
