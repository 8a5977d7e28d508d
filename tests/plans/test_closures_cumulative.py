"""Closures on and around a bank holiday (England and Wales 2027, from the `holidays` library:
Good Friday 2027-03-26, Easter Monday 2027-03-29, Early May bank holiday 2027-05-03) and
cumulative doses worked out by hand. Calendar: changes_protocol.py."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from changes_protocol import PROTOCOL, START

from regimens.errors import PlanError
from regimens.plans.changes import Administered, ChangeRefused, Prior, preview, realise
from regimens.plans.closures import closure_on, generate, load_closures
from regimens.plans.cumulative import load_limits, totals
from regimens.plans.plan import Given, merge
from regimens.protocol.loader import load_text

PF = load_text(PROTOCOL, "changetest.yaml")


def _closures(**policy):
    text = generate("GB", range(2027, 2028), "Test unit (England and Wales)", subdiv="ENG")
    c = load_closures(text, "ew.yaml")
    return c.model_copy(update={"policy": {**c.policy, **policy}}) if policy else c


def _plan(closures=None, **kw):
    p = merge(None, PF, Given(start=START, bsa_m2=2.0, **kw))
    return p.model_copy(update={"closures": closures}) if closures else p


def _ev(tl, cycle, day, title):
    return [e for e in tl.events if e.cycle_id == cycle and e.day == day and e.title.lower() == title]


def test_generated_file_has_the_2027_bank_holidays_and_says_how_it_was_made():
    text = generate("GB", range(2027, 2028), "E&W", subdiv="ENG")
    assert "python `holidays`" in text and "not typed by hand" in text
    c = load_closures(text, "ew.yaml")
    assert closure_on(c, date(2027, 3, 29)) == "Easter Monday"
    assert closure_on(c, date(2027, 3, 26)) == "Good Friday"
    assert closure_on(c, date(2027, 5, 3)) is not None
    assert closure_on(c, date(2027, 3, 30)) is None  # the day after Easter Monday is open


def test_easter_monday_moves_day_8_to_tuesday_and_lists_it():
    tl, report = realise(PF, _plan(_closures()))
    # cycle 1 day 8 = Easter Monday 2027-03-29 → Tuesday 2027-03-30 (inside the IT window days 8-10)
    assert [e.date for e in _ev(tl, "main.c1", 8, "vincristine")] == [date(2027, 3, 30)]
    assert [e.date for e in _ev(tl, "main.c1", 8, "methotrexate")] == [date(2027, 3, 30)]
    moved = {(i.cycle_id, i.title.lower(), i.date, i.new_date, i.closure) for i in report.moved}
    assert ("main.c1", "vincristine", "2027-03-29", "2027-03-30", "Easter Monday") in moved
    # Good Friday is day 5: nothing is scheduled, nothing moves that day
    assert not any(i.date == "2027-03-26" for i in (*report.moved, *report.kept, *report.not_moved))


def test_may_day_next_open_day_cannot_split_a_q12h_series_and_says_so():
    tl, report = realise(PF, _plan(_closures(**{"cycle-start": "next-open-day"})))
    # cycle 3 day 1 = 2027-05-03: single doses move to 2027-05-04; the q12h cyclophosphamide
    # cannot move one dose onto the next: listed as not moved, still on 2027-05-03
    assert [e.date for e in _ev(tl, "main.c3", 1, "doxorubicin")] == [date(2027, 5, 4)]
    cyc = _ev(tl, "main.c3", 1, "cyclophosphamide")
    assert [e.date for e in cyc] == [date(2027, 5, 3)] * 2
    not_moved = [i for i in report.not_moved if i.title.lower() == "cyclophosphamide"]
    assert len(not_moved) == 2 and all("timed series" in i.why for i in not_moved)
    # dexamethasone by mouth is taken at home: kept, and listed
    assert any(i.title.lower() == "dexamethasone" and i.policy == "keep" for i in report.kept)


def test_may_day_moves_cycle_3_by_one_day_by_default():
    # the shipped default: anything on a cycle's day 1 moves the whole cycle (and later cycles)
    tl, report = realise(PF, _plan(_closures()))
    c3 = next(c for c in tl.cycles if c.cycle_id == "main.c3")
    assert c3.start == date(2027, 5, 4)
    assert [(e.date, e.time) for e in _ev(tl, "main.c3", 1, "cyclophosphamide")] == [
        (date(2027, 5, 4), time(8)), (date(2027, 5, 4), time(20))]
    assert [e.date for e in _ev(tl, "main.c3", 2, "cyclophosphamide")] == [date(2027, 5, 5)] * 2
    assert [e.date for e in _ev(tl, "main.c3", 8, "vincristine")] == [date(2027, 5, 11)]
    assert [e.date for e in _ev(tl, "main.c3", 1, "dexamethasone")] == [date(2027, 5, 4)]  # day 1 by mouth too
    assert not report.not_moved
    trigger = [i for i in report.moved if i.cycle_id == "main.c3"]
    assert trigger and "later events of main.c3 and the cycles after it move by 1 day(s)" in trigger[0].why


def test_keep_flag_keeps_and_lists():
    tl, report = realise(PF, _plan(_closures(administration="keep-flag", **{"cycle-start": "keep-flag"})))
    assert [e.date for e in _ev(tl, "main.c1", 8, "vincristine")] == [date(2027, 3, 29)]
    assert any(i.title.lower() == "vincristine" and i.date == "2027-03-29" and i.policy == "keep-flag"
               for i in report.kept)


def test_a_bad_closures_file_is_one_clear_error():
    with pytest.raises(PlanError, match="not a closures file"):
        load_closures("dates: []", "x.yaml")
    with pytest.raises(PlanError, match="policy 'bus' is not a kind of event"):
        load_closures("format: regimens-closures/1\nsite: x\nmade_by: y\npolicy: {bus: keep}\n", "x.yaml")


# --- cumulative doses -------------------------------------------------------------------------------


def test_cumulative_doxorubicin_by_hand():
    # 50 mg/m² on day 1 of each of 3 cycles = 150 mg/m² planned; at BSA 2 m² each dose is 100 mg
    plan = _plan()
    tl, _ = realise(PF, plan)
    dox = next(t for t in totals(tl, plan, load_limits()) if t.drug == "doxorubicin")
    assert (dox.given, dox.planned, dox.prior) == (0, 150, 0)
    assert dox.limit.limit == 550 and "adult-regimens.md" in dox.limit.source
    # cycle 1's dose given as 90 mg (45 mg/m²): given 45, planned 100
    out = preview(PF, plan, Administered("main.c1:1:doxorubicin", True, datetime(2027, 3, 22, 9, 5), 90, "mg",
                                         "RN Cole", "RN Diaz"))
    dox = next(t for t in totals(out.after, out.plan, load_limits()) if t.drug == "doxorubicin")
    assert (dox.given, dox.planned) == (45, 100)
    assert any("Cumulative doxorubicin: given 45 mg/m² + planned 100 mg/m² = 145 mg/m²" in w for w in out.warnings)


def test_prior_exposure_that_crosses_the_limit_is_refused_without_a_named_override():
    plan = _plan()
    # 150 planned + 420 prior = 570 mg/m² > 550 mg/m²
    prior = Prior("doxorubicin-equivalent", 420, "mg/m2", "discharge letter 2019; factor: hospital formulary", "AP")
    with pytest.raises(ChangeRefused) as exc:
        preview(PF, plan, prior)
    assert exc.value.rule == "lifetime-limit:doxorubicin" and "570 mg/m²" in str(exc.value)
    out = preview(PF, plan, prior, override="Dr A Smith: cardiology review, LVEF 62%", by="AP")
    assert [o.rule for o in out.plan.overrides] == ["lifetime-limit:doxorubicin"]
    # 400 prior: 550 exactly is at the limit, not over it
    ok = preview(PF, plan, Prior("doxorubicin-equivalent", 400, "mg/m2", "letter", "AP"))
    assert ok.plan.prior_exposure[0].amount == 400


def test_no_conversion_factor_is_shipped():
    assert load_limits().equivalents == ()
    daun = next(x for x in load_limits().limits if x.drug == "daunorubicin")
    assert daun.limit is None and "not public" in daun.source


@pytest.mark.parametrize("name, country, subdiv", [("england-and-wales", "GB", "ENG"), ("us-federal", "US", None)])
def test_shipped_examples_are_the_holidays_library_dates_and_say_so(name, country, subdiv):
    import holidays

    from regimens.plans.closures import read_named

    c = read_named(name)
    assert "regimens closures generate" in c.made_by and "`holidays`" in c.made_by
    years = sorted({d.date.year for d in c.dates})
    want = holidays.country_holidays(country, subdiv=subdiv, years=years)
    assert {d.date for d in c.dates} == set(want)


def test_a_move_onto_a_closed_day_needs_an_override():
    plan = _plan(_closures())
    from regimens.plans.changes import Move

    with pytest.raises(ChangeRefused) as exc:  # cycle 1 day 2 to Good Friday
        preview(PF, plan, Move("main.c1:15", date(2027, 3, 26), reason="x", by="AP"))
    assert exc.value.rule == "closed-day" and "Good Friday" in str(exc.value)


def test_cli_closures_generate_and_record(tmp_path, run_cli):
    out = tmp_path / "c.yaml"
    code, _, err = run_cli("closures", "generate", "--country", "GB", "--subdiv", "ENG", "--years", "2027",
                           "--site", "Ward 5", "-o", str(out))
    assert code == 0, err
    proto = tmp_path / "changetest.yaml"
    proto.write_text(PROTOCOL)
    plan = tmp_path / "p.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-03-22", "--bsa", "2", "-o", str(plan))
    code, text, err = run_cli("plan", "preview", str(plan), "--closures", str(out))
    assert code == 0, err
    assert "main.c1 day 8   vinCRIStine: 2027-03-29 → 2027-03-30 (Easter Monday, next-open-day)" in text
    # cycle 3 day 1 (2027-05-03) moves the cycle: the trigger and the 12 other events of cycle 3
    # (dexamethasone × 4, cyclophosphamide × 3 more, doxorubicin, vincristine × 2, methotrexate, blood count)
    assert ("main.c3 day 1   cyclophosphamide: 2027-05-03 → 2027-05-04 (May Day, move-cycle); with it 12 later"
            " events of main.c3 and the cycles after it move by 1 day(s)") in text
    code, _, err = run_cli("closures", "generate", "--country", "GB", "--years", "2027-1999", "--site", "x")
    assert code == 2 and "--years" in err


def test_pharmacist_sheet_shows_the_cumulative_dose_and_the_calendar_does_not(tmp_path, run_cli):
    proto = tmp_path / "changetest.yaml"
    proto.write_text(PROTOCOL)
    plan = tmp_path / "p.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-03-22", "--bsa", "2", "-o", str(plan))
    code, _, err = run_cli("plan", "record", str(plan), "--prior", "doxorubicin-equivalent=300 mg/m2",
                           "--prior-source", "2020 letter", "--reason", "earlier regimen", "--by", "AP")
    assert code == 0, err
    html = tmp_path / "s.html"
    code, _, err = run_cli("sheet", "--plan", str(plan), "--kind", "pharmacist", "--format", "html", "-o", str(html))
    assert code == 0, err
    text = html.read_text()
    # 3 cycles × 50 mg/m² planned + 300 prior = 450 of 550 mg/m²
    assert "Cumulative doxorubicin: given 0 mg/m² + planned 150 mg/m² + prior 300 mg/m² = 450 mg/m²" in text
    assert "lifetime limit 550 mg/m²" in text
    ics = tmp_path / "p.ics"
    code, _, err = run_cli("ics", "--plan", str(plan), "--tz", "Europe/London", "-o", str(ics))
    assert code == 0, err
    assert "Cumulative" not in ics.read_text()
