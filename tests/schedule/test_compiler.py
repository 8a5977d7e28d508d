"""Compiler constructs on a small hand-written protocol. Expected dates and times are worked out
by hand from the day numbers (start 2027-03-01, a Monday) and the default clock times
(clinic 09:00, q12h from 08:00, TID 08:00/14:00/20:00)."""

from __future__ import annotations

from datetime import date, time

import pytest

from regimens.errors import RequestError
from regimens.protocol.loader import load_text
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

PROTOCOL = """
id: demo
title: Demo regimen
version: "1.0"
registry: {nct: NCT00000001, group: DEMO1}
sources:
  - {key: s, kind: seed, cite: demo.txt}
decisions:
  cd20:
    label: Anti-CD20
    kind: either_or
    choices: [{value: none, label: None}, {value: rituximab, label: Rituximab}]
    default: none
    why_default: test
  response:
    label: Response
    kind: response
    choices: [{value: cr, label: CR}, {value: no-cr, label: No CR}]
    default: cr
    why_default: test
  n:
    label: cycles
    kind: count
    choices: [{value: "1", label: one}, {value: "2", label: two}]
    default: "2"
    why_default: test
courses:
  a:
    name: Course A
    length_days: 21
    length_source: s
    items:
      - {drug: cyclophosphamide, route: IV, dose: {value: 300, unit: mg/m2}, days: "1-3", every_hours: 12, doses: 6, over: 3 h, source: s}
      - {drug: dexamethasone, route: PO, dose: {value: 40, unit: mg}, days: "1-4, 11-14", source: s}
      - {drug: methotrexate, route: IT, dose: {value: 12, unit: mg}, days: "2", cycles: odd, source: s}
      - {drug: methotrexate, route: IT, dose: {value: 12, unit: mg}, days: "8", cycles: even, source: s}
      - {drug: doxorubicin, route: IV, dose: {value: 50, unit: mg/m2}, days: "4", over: 24 h, source: s}
      - {drug: rituximab, route: IV, dose: {value: 375, unit: mg/m2}, days: "1, 11", when: {cd20: rituximab}, source: s}
      - {drug: mercaptopurine, route: PO, dose: {value: 50, unit: mg}, days: "15-21", times_per_day: 3, source: s}
      - {drug: methotrexate, route: PO, dose: {not_public: true}, days: "1-21", every_days: 7, source: s}
      - {drug: methotrexate, route: IT, dose: {value: 15, unit: mg}, days: "22", window: "22-23", beyond_cycle: true, cycles: "1", source: s}
  b:
    name: Course B
    length_days: 14
    length_source: s
    items:
      - {event: lab, title: Blood counts, days: "1", source: s}
  unknown:
    name: Block of unknown length
    length_not_public: true
    content_not_public: true
  ib:
    name: Course IB
    length_days: 28
    length_source: s
    content_not_public: true
  hsct:
    name: HSCT
    terminal: true
    items:
      - {event: procedure, title: Stem cell transplant, days: "1", source: s}
phases:
  intensive: {name: Intensive, pattern: [a, b], cycles: n, source: s}
  repeat-a: {name: Repeated A, pattern: [a], cycles: 2, number_from: 3, source: s}
arms:
  - {label: "1", name: Arm one, sequence: [intensive, {decision: response, options: {cr: [], no-cr: [ib]}}, hsct], source: s}
  - {label: "2", name: Arm two, sequence: [unknown, b], source: s}
  - {label: "3", name: Arm three, sequence: [repeat-a], source: s}
"""


@pytest.fixture(scope="module")
def pf():
    return load_text(PROTOCOL, "demo.yaml")


def tl(pf, **kw):
    kw.setdefault("start", date(2027, 3, 1))
    kw.setdefault("arm", "1")
    return compile_timeline(pf, ScheduleRequest(**kw))


def drug(t, name, route=None):
    return [e for e in t.events if e.drug == name and (route is None or e.route == route)]


def test_q12h_six_doses_over_days_1_to_3(pf):
    cyc = drug(tl(pf), "cyclophosphamide")
    # 08:00 and 20:00 on Mar 1, 2, 3: six doses, 3 h each
    assert [(e.date.day, e.time, e.dose_number, e.doses_total) for e in cyc] == [
        (1, time(8), 1, 6), (1, time(20), 2, 6), (2, time(8), 3, 6),
        (2, time(20), 4, 6), (3, time(8), 5, 6), (3, time(20), 6, 6)]
    assert cyc[0].end_time == time(11) and cyc[0].duration_minutes == 180


def test_split_day_list_and_alternating_it_days(pf):
    t = tl(pf)
    assert [e.day for e in drug(t, "dexamethasone") if e.cycle == 1] == [1, 2, 3, 4, 11, 12, 13, 14]
    it = [(e.cycle, e.day) for e in drug(t, "methotrexate", "IT") if e.window is None]
    assert it == [(1, 2)]  # cycle 2 is course B (pattern a, b), which has no IT
    # displayed cycles 3 and 4 (number_from 3): odd -> day 2, even -> day 8
    t3 = tl(pf, arm="3")
    it3 = [(e.cycle, e.day, e.date) for e in drug(t3, "methotrexate", "IT") if e.window is None]
    assert it3 == [(3, 2, date(2027, 3, 2)), (4, 8, date(2027, 3, 29))]  # Mar 22 + 7


def test_infusion_over_24h_crosses_midnight(pf):
    dox = drug(tl(pf), "doxorubicin")[0]
    assert (dox.date, dox.time, dox.end_date, dox.end_time) == (date(2027, 3, 4), time(9), date(2027, 3, 5), time(9))


def test_optional_drug_only_when_chosen(pf):
    assert drug(tl(pf), "rituximab") == []
    r = drug(tl(pf, choices={"cd20": "rituximab"}), "rituximab")
    assert [e.day for e in r] == [1, 11] and all(e.optional for e in r)
    assert r[0].decision == "cd20=rituximab"


def test_tid_and_weekly(pf):
    t = tl(pf)
    mp = drug(t, "mercaptopurine")
    assert len(mp) == 7 * 3 and mp[0].time == time(8) and mp[2].time == time(20)
    weekly = drug(t, "methotrexate", "PO")
    assert [e.day for e in weekly] == [1, 8, 15] and all(e.not_public and e.dose is None for e in weekly)


def test_window_day_outside_cycle(pf):
    it = [e for e in drug(tl(pf), "methotrexate", "IT") if e.window]
    assert [(e.day, e.date, e.window) for e in it] == [(22, date(2027, 3, 22), "day 22 to 23")]


def test_cycle_lengths_branch_and_terminal(pf):
    t = tl(pf)
    assert [(c.cycle_id, c.start) for c in t.cycles] == [
        ("intensive.c1", date(2027, 3, 1)), ("intensive.c2", date(2027, 3, 22)),  # +21
        ("hsct.c1", date(2027, 4, 5))]  # +14
    t2 = tl(pf, choices={"response": "no-cr"})
    assert [c.cycle_id for c in t2.cycles] == ["intensive.c1", "intensive.c2", "ib.c1", "hsct.c1"]
    assert t2.cycles[2].start == date(2027, 4, 5) and t2.cycles[3].start == date(2027, 5, 3)  # +28
    assert [c.cycle_id for c in tl(pf, choices={"n": "1"}).cycles] == ["intensive.c1", "hsct.c1"]


def test_every_cycle_has_a_phase_event(pf):
    t = tl(pf, choices={"response": "no-cr"})
    phases = [e for e in t.events if e.kind == "phase"]
    assert [e.cycle_id for e in phases] == [c.cycle_id for c in t.cycles]
    ib = phases[2]
    assert ib.not_public and "not public" in ib.note
    assert (ib.date, ib.end_date) == (date(2027, 4, 5), date(2027, 5, 2))


def test_actual_start_moves_later_cycles_and_keeps_uids(pf):
    base = tl(pf)
    moved = tl(pf, actual_starts={"intensive.c2": date(2027, 3, 25)})  # 3 days late
    assert {e.uid for e in base.events} == {e.uid for e in moved.events}
    before = {e.uid: e.date for e in base.events}
    for e in moved.events:
        delta = (e.date - before[e.uid]).days
        assert delta == (3 if e.cycle_id != "intensive.c1" else 0), e


def test_unknown_length_stops_with_warning_then_continues(pf):
    t = tl(pf, arm="2")
    assert [c.cycle_id for c in t.cycles] == ["unknown.c1"]
    assert t.warnings and "--actual-start b.c1=" in t.warnings[0]
    gate = [e for e in t.events if e.kind == "gate"]
    assert gate and "date set by the treating team" in gate[0].title
    t2 = tl(pf, arm="2", actual_starts={"b.c1": date(2027, 4, 12)})
    assert [(c.cycle_id, c.start) for c in t2.cycles] == [("unknown.c1", date(2027, 3, 1)), ("b.c1", date(2027, 4, 12))]
    t3 = tl(pf, arm="2", start_at="b")
    assert [(c.cycle_id, c.start) for c in t3.cycles] == [("b.c1", date(2027, 3, 1))]


def test_request_errors_name_the_valid_values(pf):
    with pytest.raises(RequestError, match="valid arms: 1, 2, 3"):
        tl(pf, arm="9")
    with pytest.raises(RequestError, match="valid values: none, rituximab"):
        tl(pf, choices={"cd20": "ofatumumab"})
    with pytest.raises(RequestError, match="valid choices: cd20, response, n"):
        tl(pf, choices={"bogus": "1"})
    with pytest.raises(RequestError, match="valid: intensive.c1"):
        tl(pf, actual_starts={"nope.c1": date(2027, 3, 1)})


def test_omit_marks_status_and_unknown_selector_refused(pf):
    t = tl(pf, omit={"intensive.c1:4:doxorubicin": "LVEF 45%"})
    dox = drug(t, "doxorubicin")[0]
    assert dox.status == "omitted" and dox.status_reason == "LVEF 45%"
    with pytest.raises(RequestError, match="matches no dose"):
        tl(pf, omit={"intensive.c9:1": "x"})


def test_uids_unique_and_deterministic(pf):
    a, b = tl(pf), tl(pf)
    assert a == b
    uids = [e.uid for e in a.events]
    assert len(uids) == len(set(uids))


def test_implies_names_a_real_decision_and_value():
    from regimens.errors import ProtocolError
    from regimens.protocol.loader import load_text

    text = """
id: implies
title: Coupled decisions
version: "1.0"
registry: {}
sources: [{key: s1, kind: site, cite: test}]
decisions:
  path:
    label: Path
    kind: response
    choices:
      - {value: a, label: A, implies: {count: "9"}, implies_source: s1}
      - {value: b, label: B, implies: {nope: "1"}}
    default: a
    why_default: test
  count:
    label: Count
    kind: count
    choices: [{value: "1", label: one}, {value: "2", label: two}]
    default: "1"
    why_default: test
courses:
  c: {name: C, length_days: 21, length_source: s1, items: [{event: lab, title: Counts, days: "1", source: s1}]}
arms: [{label: A, name: Arm A, sequence: [c], source: s1}]
"""
    with pytest.raises(ProtocolError) as err:
        load_text(text, "implies.yaml")
    assert "implies_source" in str(err.value)
    fixed = text.replace('implies: {nope: "1"}', 'implies: {nope: "1"}, implies_source: s1')
    with pytest.raises(ProtocolError) as err:
        load_text(fixed, "implies.yaml")
    assert "'9' is not a choice of 'count'" in str(err.value) and "'nope'" in str(err.value)
