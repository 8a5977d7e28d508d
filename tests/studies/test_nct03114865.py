"""NCT03114865 against its trial record, 004_94d9d143a40d8968.txt. Each expectation quotes the
record's words; dates are computed by hand from day numbers (start 2027-01-04, a Monday)."""

from __future__ import annotations

from datetime import date, time

P = "nct03114865"
START = date(2027, 1, 4)


def _blina(tl):
    return [e for e in tl.events if e.drug == "blinatumomab"]


def test_cycle1_step_dosing(timeline):
    # "Cycle 1 - Days 1-7: 9 ug/day IV daily"; "Cycle 1 - Days 8-28: 28 ug/day IV daily"
    c1 = [e for e in _blina(timeline(P)) if e.cycle == 1]
    assert [(e.day, e.date, e.end_date, e.dose, e.unit) for e in c1] == [
        (1, date(2027, 1, 4), date(2027, 1, 10), 9, "mcg/day"),  # day 7 = Jan 4 + 6
        (8, date(2027, 1, 11), date(2027, 1, 31), 28, "mcg/day"),  # day 28 = Jan 4 + 27
    ]
    assert all(e.continuous and e.route == "IV" for e in c1)
    assert c1[1].step == "step-up"


def test_cycle2_no_step_and_six_week_cycles(timeline):
    # "continuous IV infusion over four weeks followed by a two-week treatment free interval":
    # cycle 2 day 1 = day 43 = 2027-01-04 + 42 days = 2027-02-15. "Cycle 2 - Days 1-28: 28 ug/day"
    c2 = [e for e in _blina(timeline(P)) if e.cycle == 2]
    assert [(e.date, e.end_date, e.dose) for e in c2] == [(date(2027, 2, 15), date(2027, 3, 14), 28)]
    assert c2[0].step is None


def test_treatment_free_interval_has_no_drug(timeline):
    tl = timeline(P)
    for e in tl.events:
        if e.drug:
            # days 29-42 of each cycle carry no administration
            assert e.day <= 28, e
    rest = [e for e in tl.events if e.kind == "rest"]
    assert [(r.date, r.end_date) for r in rest] == [
        (date(2027, 2, 1), date(2027, 2, 14)),
        (date(2027, 3, 15), date(2027, 3, 28)),
    ]


def test_dexamethasone_premedication(timeline):
    # "Day 1 of Cycle 1 and 2, prior to a step dose (such as cycle 1 day 8) ...: 20 mg IV"
    dex = [e for e in timeline(P, choices={"cycles": "3"}).events if e.drug == "dexamethasone"]
    assert [(e.cycle, e.day, e.dose, e.unit, e.route, e.confidence) for e in dex] == [
        (1, 1, 20, "mg", "IV", "high"), (1, 8, 20, "mg", "IV", "high"), (2, 1, 20, "mg", "IV", "high"),
        # cycle 3 repeats cycle 2 (the record spells out cycles 1 and 2 only; ambiguity later-cycles),
        # so it gets cycle 2's day-1 premedication, with the confidence of that assumption
        (3, 1, 20, "mg", "IV", "medium"),
    ]
    assert all(e.kind == "premedication" and e.premed_for == "blinatumomab" for e in dex)
    # label: 1 h before the infusion, which starts at the 09:00 clinic time
    assert dex[0].time == time(8, 0)


def test_hospitalization_windows(timeline):
    # "hospitalized at least during the first three days of the first cycle and the first two
    # days of the second cycles"
    hosp = [e for e in timeline(P).events if e.kind == "hospitalization"]
    assert [(e.date, e.end_date) for e in hosp] == [
        (date(2027, 1, 4), date(2027, 1, 6)),
        (date(2027, 2, 15), date(2027, 2, 16)),
    ]


def test_cycle_count_is_a_decision(timeline):
    for n in (1, 2, 4):
        tl = timeline(P, choices={"cycles": str(n)})
        assert [c.cycle for c in tl.cycles] == list(range(1, n + 1))
    # later cycles repeat cycle 2 and say the record does not spell them out
    c3 = [e for e in _blina(timeline(P, choices={"cycles": "3"})) if e.cycle == 3]
    assert c3[0].confidence == "medium" and "does not spell out" in c3[0].note
