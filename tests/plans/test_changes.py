"""Moves, cease, resume, recorded administrations and the rules they may not break, against the
calendar worked out by hand in changes_protocol.py (dates written from the protocol text)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from changes_protocol import C2, C3, PROTOCOL, START

from regimens.plans.changes import (
    Administered,
    Cease,
    ChangeRefused,
    Move,
    Resume,
    preview,
    realise,
)
from regimens.plans.plan import Given, load_plan, merge
from regimens.protocol.loader import load_text

PF = load_text(PROTOCOL, "changetest.yaml")


def _plan(**kw):
    return merge(None, PF, Given(start=START, bsa_m2=2.0, **kw))


def _at(tl, cycle, day, title):
    found = [e for e in tl.events if e.cycle_id == cycle and e.day == day and e.title == title]
    assert found, (cycle, day, title)
    return found


def _dates(tl, cycle, day, title):
    return [(e.date, e.time) for e in _at(tl, cycle, day, title)]


def _cycle_start(tl, cid):
    return next(c.start for c in tl.cycles if c.cycle_id == cid)


def test_hand_worked_calendar_before_any_change():
    tl, _ = realise(PF, _plan())
    assert _dates(tl, "main.c1", 1, "cyclophosphamide") == [(date(2027, 3, 22), time(8)), (date(2027, 3, 22), time(20))]
    assert _dates(tl, "main.c1", 2, "cyclophosphamide") == [(date(2027, 3, 23), time(8)), (date(2027, 3, 23), time(20))]
    assert _dates(tl, "main.c1", 8, "methotrexate") == [(date(2027, 3, 29), time(9))]
    assert _dates(tl, "main.c1", 15, "Blood count") == [(date(2027, 4, 5), None)]
    assert [c.start for c in tl.cycles] == [date(2027, 3, 22), C2, C3]


# --- the three move modes ---------------------------------------------------------------------


def test_move_one_day_only():
    # defer cycle 1 day 8 (2027-03-29) by one day to 2027-03-30; day 15 and cycle 2 stay
    out = preview(PF, _plan(), Move("main.c1.d8", date(2027, 3, 30), mode="dose", reason="bank holiday", by="AP"))
    tl = out.after
    assert _dates(tl, "main.c1", 8, "vincristine") == [(date(2027, 3, 30), time(9))]
    assert _dates(tl, "main.c1", 8, "methotrexate") == [(date(2027, 3, 30), time(9))]
    assert _dates(tl, "main.c1", 15, "Blood count") == [(date(2027, 4, 5), None)]
    assert _cycle_start(tl, "main.c2") == C2
    assert {i.title.lower() for i in out.preview.moved} == {"vincristine", "methotrexate"}
    assert all(i.shift_days == 1 for i in out.preview.moved)
    assert "moved from 2027-03-29 (bank holiday)" in _at(tl, "main.c1", 8, "vincristine")[0].note


def test_move_the_rest_of_the_cycle():
    # day 8 to 2027-03-31 (+2): day 15 goes from 2027-04-05 to 2027-04-07; cycle 2 still 2027-04-12
    out = preview(PF, _plan(), Move("main.c1:8", date(2027, 3, 31), mode="cycle", reason="counts", by="AP"))
    tl = out.after
    assert _dates(tl, "main.c1", 15, "Blood count") == [(date(2027, 4, 7), None)]
    assert _cycle_start(tl, "main.c2") == C2
    assert _dates(tl, "main.c1", 1, "vincristine") == [(date(2027, 3, 22), time(9))]


def test_move_everything_later():
    # +2 days from cycle 1 day 8: cycle 2 day 1 2027-04-12 → 2027-04-14, cycle 3 2027-05-03 → 2027-05-05
    out = preview(PF, _plan(), Move("main.c1:8", date(2027, 3, 31), mode="later", reason="counts", by="AP"))
    tl = out.after
    assert _cycle_start(tl, "main.c2") == date(2027, 4, 14)
    assert _cycle_start(tl, "main.c3") == date(2027, 5, 5)
    assert _dates(tl, "main.c3", 8, "vincristine") == [(date(2027, 5, 12), time(9))]
    assert _dates(tl, "main.c2", 1, "cyclophosphamide") == [(date(2027, 4, 14), time(8)), (date(2027, 4, 14), time(20))]
    # every event that still exists keeps its uid
    assert sorted(e.uid for e in out.before.events) == sorted(e.uid for e in out.after.events)


# --- refusals, each quoting its rule ------------------------------------------------------------


def test_two_q12h_doses_two_hours_apart_are_refused():
    plan = _plan()
    mv = Move("main.c1:1:cyclophosphamide#2", date(2027, 3, 22), at="10:00", mode="dose", reason="x", by="AP")
    with pytest.raises(ChangeRefused) as exc:
        preview(PF, plan, mv)
    assert exc.value.rule == "series-interval"
    assert "2 h after dose 1" in str(exc.value) and "every_hours: 12" in str(exc.value)
    # dose 4 (2027-03-23 20:00) two hours later is 14 h after dose 3: allowed
    ok = preview(PF, plan, Move("main.c1:2:cyclophosphamide#4", date(2027, 3, 23), at="22:00", reason="x", by="AP"))
    assert _at(ok.after, "main.c1", 2, "cyclophosphamide")[1].time == time(22)


def test_a_day_outside_its_window_is_refused_unless_overridden():
    plan = _plan()
    # window days 8-10 of cycle 1 = 2027-03-29..2027-03-31; 2027-04-01 is day 11
    with pytest.raises(ChangeRefused) as exc:
        preview(PF, plan, Move("main.c1:8:methotrexate", date(2027, 4, 1), reason="theatre list", by="AP"))
    assert exc.value.rule == "window" and exc.value.overridable
    assert "day 11 of main.c1, outside its window (days 8-10)" in str(exc.value)
    assert "'8-10'" in exc.value.quote
    inside = preview(PF, plan, Move("main.c1:8:methotrexate", date(2027, 3, 31), reason="theatre list", by="AP"))
    assert _dates(inside.after, "main.c1", 8, "methotrexate") == [(date(2027, 3, 31), time(9))]
    over = preview(PF, plan, Move("main.c1:8:methotrexate", date(2027, 4, 1), reason="theatre list", by="AP"),
                   override="Dr B Jones: lumbar puncture list full")
    assert over.plan.moves[-1].override == "Dr B Jones: lumbar puncture list full"


def test_a_dose_moved_into_the_next_cycle_is_refused():
    with pytest.raises(ChangeRefused) as exc:
        preview(PF, _plan(), Move("main.c1:15", date(2027, 4, 13), mode="dose", reason="x", by="AP"))
    assert exc.value.rule == "cycles-overlap" and not exc.value.overridable
    assert "day 1 of main.c2 (2027-04-12)" in str(exc.value)


def test_a_given_dose_never_moves():
    plan = _plan()
    given = preview(PF, plan, Administered("main.c1:1:vincristine", True, datetime(2027, 3, 22, 9, 40), 2, "mg",
                                           "RN Cole", checked_by="RN Diaz"))
    plan = given.plan
    e = _at(given.after, "main.c1", 1, "vincristine")[0]
    assert (e.status, e.date, e.time) == ("given", date(2027, 3, 22), time(9, 40))
    assert "by RN Cole, checked by RN Diaz" in e.status_reason
    # moving everything from day 1 would move the given dose: refused
    with pytest.raises(ChangeRefused) as exc:
        preview(PF, plan, Move("main.c1:1", date(2027, 3, 23), mode="later", reason="x", by="AP"))
    assert exc.value.rule == "given-stays"
    # so is a new start date for the plan
    with pytest.raises(ChangeRefused):
        preview(PF, merge(plan, PF, Given(start=date(2027, 3, 29))), [], base=plan)
    # moving the rest of cycle 1 from day 8 leaves the given dose where it was given
    out = preview(PF, plan, Move("main.c1:8", date(2027, 3, 30), mode="later", reason="x", by="AP"))
    assert _at(out.after, "main.c1", 1, "vincristine")[0].time == time(9, 40)
    assert not any(i.uid == e.uid for i in out.preview.moved)


def test_not_given_needs_a_reason_and_cancels_the_dose():
    plan = _plan()
    with pytest.raises(Exception, match="reason"):
        preview(PF, plan, Administered("main.c1:8:vincristine", False, None, None, None, "RN Cole"))
    out = preview(PF, plan, Administered("main.c1:8:vincristine", False, None, None, None, "RN Cole",
                                         reason="ileus"))
    e = _at(out.after, "main.c1", 8, "vincristine")[0]
    assert e.status == "omitted" and "not given: ileus" in e.status_reason


# --- cease and resume ------------------------------------------------------------------------------


def test_cease_one_drug_from_a_date():
    out = preview(PF, _plan(), Cease("vincristine", C2, "toxicity", "neuropathy grade 3", "Dr A"))
    tl = out.after
    assert _at(tl, "main.c1", 8, "vincristine")[0].status == "planned"
    for cid in ("main.c2", "main.c3"):
        for day in (1, 8):
            e = _at(tl, cid, day, "vincristine")[0]
            assert e.status == "omitted" and "vincristine ceased from 2027-04-12 (toxicity" in e.status_reason
        assert _at(tl, cid, 1, "doxorubicin")[0].status == "planned"
    assert any("vincristine ceased from 2027-04-12" in w for w in tl.warnings)
    assert len(out.preview.status_changed) == 4


def test_cease_the_whole_treatment():
    out = preview(PF, _plan(), Cease(None, date(2027, 4, 20), "progression", "relapse on marrow", "Dr A"))
    tl = out.after
    after = [e for e in tl.events if e.date >= date(2027, 4, 20) and e.kind not in ("phase", "rest")]
    assert after and all(e.status == "omitted" for e in after)
    assert _at(tl, "main.c2", 8, "vincristine")[0].date == date(2027, 4, 19)
    assert _at(tl, "main.c2", 8, "vincristine")[0].status == "planned"


def test_resume_a_held_cycle_with_its_new_start():
    plan = merge(_plan(), PF, Given(hold={"main.c2": "neutrophils 0.4"}))
    out = preview(PF, plan, Resume("main.c2", date(2027, 4, 19), "neutrophils 1.6", "AP"))
    tl = out.after
    assert out.plan.hold == {}
    # one week late: cycle 2 day 1 2027-04-19, cycle 3 day 1 2027-05-10
    assert _cycle_start(tl, "main.c2") == date(2027, 4, 19)
    assert _cycle_start(tl, "main.c3") == date(2027, 5, 10)
    assert all(e.status == "planned" for e in tl.by_cycle("main.c2"))
    with pytest.raises(Exception, match="not on hold"):
        preview(PF, _plan(), Resume("main.c2", date(2027, 4, 19), "x", "AP"))


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def planfile(tmp_path, run_cli):
    proto = tmp_path / "changetest.yaml"
    proto.write_text(PROTOCOL)
    out = tmp_path / "plan.yaml"
    code, _, err = run_cli("plan", "new", str(proto), "--start", "2027-03-22", "--bsa", "2", "-o", str(out))
    assert code == 0, err
    return out


def test_cli_preview_shows_each_mode_and_record_needs_one(planfile, run_cli):
    code, text, err = run_cli("plan", "preview", str(planfile), "--move", "main.c1.d8=2027-03-31")
    assert code == 0, err
    assert "--mode dose" in text and "--mode cycle" in text and "--mode later" in text
    assert "main.c2                  +2 days  2027-04-12..2027-04-26 → 2027-04-14..2027-04-28" in text
    before = planfile.read_bytes()
    code, _, err = run_cli("plan", "record", str(planfile), "--move", "main.c1.d8=2027-03-31", "--reason", "x",
                           "--by", "AP")
    assert code == 2 and "--mode" in err and planfile.read_bytes() == before
    code, text, err = run_cli("plan", "record", str(planfile), "--move", "main.c1.d8=2027-03-31", "--mode", "dose",
                              "--reason", "theatre list", "--by", "A Pharmacist")
    assert code == 0, err
    plan = load_plan(planfile.read_text(), "p")
    assert plan.moves[0].target == "main.c1.d8" and plan.moves[0].mode == "dose"
    assert plan.history[-1].note == "move main.c1.d8 to 2027-03-31 (mode dose)"
    code, text, _ = run_cli("plan", "show", str(planfile))
    assert "by A Pharmacist: move main.c1.d8 to 2027-03-31 (mode dose) — theatre list" in text


def test_cli_refusal_is_one_line_and_writes_nothing(planfile, run_cli):
    before = planfile.read_bytes()
    code, _, err = run_cli("plan", "record", str(planfile), "--move", "main.c1:8:methotrexate=2027-04-02",
                           "--mode", "dose", "--reason", "x", "--by", "AP")
    assert code == 2 and err.count("\n") == 1 and "outside its window" in err and "--override" in err
    assert planfile.read_bytes() == before


def test_cli_ceased_doses_are_cancelled_in_the_calendar(planfile, run_cli, tmp_path):
    import icalendar

    code, _, err = run_cli("plan", "record", str(planfile), "--cease", "vincristine", "--cease-from", "2027-04-12",
                           "--cease-why", "toxicity", "--reason", "neuropathy", "--by", "Dr A")
    assert code == 0, err
    ics = tmp_path / "p.ics"
    code, _, err = run_cli("ics", "--plan", str(planfile), "--tz", "Europe/London", "-o", str(ics))
    assert code == 0, err
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    vinc = [c for c in cal.walk("VEVENT") if "VINCRIStine" in str(c.get("SUMMARY")) or
            "vincristine" in str(c.get("SUMMARY")).lower()]
    assert len(vinc) == 6
    cancelled = [c for c in vinc if str(c.get("STATUS", "")) == "CANCELLED"]
    # cycles 2 and 3, days 1 and 8: 2027-04-12, 2027-04-19, 2027-05-03, 2027-05-10
    assert sorted(c.decoded("DTSTART").date() for c in cancelled) == [
        date(2027, 4, 12), date(2027, 4, 19), date(2027, 5, 3), date(2027, 5, 10)]
    assert all(int(c["SEQUENCE"]) == 2 for c in cancelled)  # revision 2 > revision 1's SEQUENCE
    # read back by an independent parser (vobject, Radicale's): same four cancelled, same SEQUENCE
    import vobject

    vcal = vobject.readOne(ics.read_text())
    vv = [v for v in vcal.vevent_list if "vincristine" in v.summary.value.lower()]
    gone = [v for v in vv if getattr(v, "status", None) and v.status.value == "CANCELLED"]
    assert sorted(v.dtstart.value.date() for v in gone) == [
        date(2027, 4, 12), date(2027, 4, 19), date(2027, 5, 3), date(2027, 5, 10)]
    assert {v.sequence.value for v in gone} == {"2"}


def test_cli_history_lists_every_change_with_person_and_reason(planfile, run_cli):
    code, _, err = run_cli("plan", "record", str(planfile), "--given", "main.c1:1:doxorubicin", "--given-at",
                           "2027-03-22T09:10", "--dose-given", "100 mg", "--checked-by", "RN Diaz",
                           "--reason", "as prescribed", "--by", "RN Cole")
    assert code == 0, err
    code, _, err = run_cli("plan", "record", str(planfile), "--not-given", "main.c1:8:vincristine",
                           "--reason", "constipation grade 3", "--by", "RN Cole")
    assert code == 0, err
    code, text, _ = run_cli("plan", "show", str(planfile), "--history")
    assert ("revision 2 " in text and "by RN Cole: given main.c1:1:doxorubicin at 2027-03-22 09:10 100 mg,"
            " checked by RN Diaz — reason: as prescribed" in text)
    assert "by RN Cole: not given main.c1:8:vincristine — reason: constipation grade 3" in text
    assert "NOT given (constipation grade 3) recorded by RN Cole" in text
    # the timeline shows planned against given
    code, out, _ = run_cli("timeline", "--plan", str(planfile), "--format", "csv")
    row = next(r for r in out.splitlines() if "doxorubicin" in r and "2027-03-22" in r)
    assert "given" in row and "100 mg" in row and "RN Diaz" in row


def test_the_service_path_realises_the_same_timeline():
    # plans.verification.compile_plan is what a second pharmacist verifies in the clinic service
    from regimens.plans.verification import compile_plan, timeline_digest

    out = preview(PF, _plan(), Move("main.c1.d8", date(2027, 3, 30), mode="dose", reason="x", by="AP"))
    served = compile_plan(PF, out.plan)
    assert _dates(served, "main.c1", 8, "vincristine") == [(date(2027, 3, 30), time(9))]
    assert timeline_digest(served) == timeline_digest(realise(PF, out.plan)[0])
    assert timeline_digest(served) != timeline_digest(compile_plan(PF, _plan()))


@pytest.mark.parametrize("args, words", [
    (("--move", "main.c1.d8", "--mode", "dose"), "give SELECTOR=YYYY-MM-DD"),
    (("--move", "main.c1.d8=2027-03-30"), "--move needs --mode"),
    (("--move", "main.c1.d8=2027-03-30T25:00", "--mode", "dose"), "HH:MM"),
    (("--move", "main.c9.d8=2027-03-30", "--mode", "dose"), "matches no event"),
    (("--given", "main.c1:1", "--given-at", "2027-03-22T09:00", "--dose-given", "1 mg"), "names 5 doses"),  # dexamethasone, 2 × cyclophosphamide, doxorubicin, vincristine
    (("--given", "main.c1:1:doxorubicin", "--given-at", "soon", "--dose-given", "1 mg"), "YYYY-MM-DDTHH:MM"),
    (("--given", "main.c1:1:doxorubicin", "--given-at", "2027-03-22T09:00", "--dose-given", "1 ug"), "unit"),
    (("--cease", "vincristine"), "--cease-from"),
    (("--prior", "doxorubicin-equivalent=abc"), "amount and a unit"),
    (("--resume", "main.c2=2027-04-20"), "not on hold"),
    (("--closures", "no-such-file.yaml"), "not found"),
])
def test_bad_change_options_are_one_line_exit_2(planfile, run_cli, args, words):
    before = planfile.read_bytes()
    code, _, err = run_cli("plan", "record", str(planfile), *args, "--reason", "x", "--by", "AP")
    assert code == 2 and words in err and err.count("\n") == 1, err
    assert planfile.read_bytes() == before
