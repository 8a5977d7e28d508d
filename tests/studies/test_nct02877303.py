"""NCT02877303 (MD Anderson 2014-0845) against its trial record, 000_5a4e198ba8bc01c2.txt, and
../shared/reference/adult-regimens.md. Each expectation quotes the record (or names the reference
entry); dates are worked out by hand from day numbers with day 1 of cycle 1 = 2027-01-04, a
Monday, and the default clock times (clinic 09:00, q12h from 08:00, TID 08:00/14:00/20:00).

Hand-computed element starts (intensive cycles 21 days, blinatumomab cycles 42 days):
  cycle 1 2027-01-04 (+0)   cycle 2 2027-01-25 (+21)  cycle 3 2027-02-15 (+42)  cycle 4 2027-03-08 (+63)
  cycle 5 2027-03-29 (+84)  cycle 6 2027-05-10 (+126) cycle 7 2027-06-21 (+168) cycle 8 2027-08-02 (+210)
  maintenance cycle 1 2027-09-13 (+252), each maintenance cycle 42 days (pomp_cycle=6-weeks),
  maintenance cycle 4 2028-01-17 (+378), 8 2028-07-03 (+546), 12 2028-12-18 (+714),
  follow-up 2029-06-04 (+252 + 15 x 42 = +882).
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, time, timedelta

P = "nct02877303"
START = date(2027, 1, 4)
SUPPORTIVE = {"mesna", "leucovorin", "methylprednisolone"}


def _d(n: int) -> date:
    """Day 1 + n days."""
    return START + timedelta(days=n)


def _admin(tl, drug, route=None):
    return [e for e in tl.events
            if e.kind == "administration" and e.drug == drug and (route is None or e.route == route)]


def _start_dt(e) -> datetime:
    return datetime.combine(e.date, e.time)


def _end_dt(e) -> datetime:
    return _start_dt(e) + timedelta(minutes=e.duration_minutes)


# --- element boundaries ---------------------------------------------------------------------


def test_intensive_phase_alternates_course_a_and_b_every_21_days(timeline):
    # "Treatment repeats every 3 weeks for up to 4 cycles"; course A (hyper-CVAD) in cycles 1 and 3,
    # course B (methotrexate/cytarabine) in cycles 2 and 4 (adult-regimens.md §1)
    tl = timeline(P)
    intensive = [c for c in tl.cycles if c.phase_id == "intensive"]
    assert [(c.cycle, c.course_id, c.start, c.length_days) for c in intensive] == [
        (1, "course-a", date(2027, 1, 4), 21),
        (2, "course-b", date(2027, 1, 25), 21),
        (3, "course-a", date(2027, 2, 15), 21),
        (4, "course-b", date(2027, 3, 8), 21),
    ]


def test_blinatumomab_cycles_5_to_8_every_6_weeks(timeline):
    # "BLINATUMOMAB AND INOTUZUMAB OZOGAMICIN PHASE (CYCLES 5-8) ... Treatment repeats every 6 weeks
    # for up to 4 cycles": cycle 5 day 1 = start + 84 days
    tl = timeline(P)
    cons = [c for c in tl.cycles if c.phase_id == "consolidation"]
    assert [(c.cycle, c.start, c.length_days) for c in cons] == [
        (5, date(2027, 3, 29), 42), (6, date(2027, 5, 10), 42),
        (7, date(2027, 6, 21), 42), (8, date(2027, 8, 2), 42),
    ]
    assert cons[0].start == START + timedelta(days=84)


def test_maintenance_15_cycles_with_blinatumomab_in_cycles_4_8_12(timeline):
    # "Patients also receive blinatumomab IV after every 3 cycles of maintenance therapy for a
    # total of about 15 cycles"; ASH22: maintenance cycles 4, 8 and 12; "Cycles repeat every 6 weeks"
    tl = timeline(P)
    maint = [c for c in tl.cycles if c.phase_id == "maintenance"]
    assert [c.cycle for c in maint] == list(range(1, 16))
    assert [c.cycle for c in maint if c.course_id == "blina-maintenance"] == [4, 8, 12]
    assert all(c.course_id == "pomp" for c in maint if c.cycle not in (4, 8, 12))
    assert all(c.length_days == 42 for c in maint)
    assert maint[0].start == date(2027, 9, 13)  # start + 252
    assert {c.cycle: c.start for c in maint if c.cycle in (4, 8, 12)} == {
        4: date(2028, 1, 17), 8: date(2028, 7, 3), 12: date(2028, 12, 18)}
    # blinatumomab only in 4, 8, 12; POMP drugs never in those cycles
    for drug in ("mercaptopurine", "prednisone", "vincristine"):
        assert not [e for e in _admin(tl, drug) if e.phase_id == "maintenance" and e.cycle in (4, 8, 12)]
    blina_m = [e for e in _admin(tl, "blinatumomab") if e.phase_id == "maintenance"]
    assert [(e.cycle, e.date, e.end_date) for e in blina_m] == [
        (4, date(2028, 1, 17), date(2028, 2, 13)),
        (8, date(2028, 7, 3), date(2028, 7, 30)),
        (12, date(2028, 12, 18), date(2029, 1, 14)),
    ]
    # "After completion of study treatment, patients are followed up 1 time each month"
    fu = [e for e in tl.events if e.kind == "milestone"]
    assert [(e.date, e.phase_id) for e in fu] == [(date(2029, 6, 4), "follow-up")]


def test_high_risk_path_two_intensive_cycles(timeline):
    # ASH19/ASH25: high-risk patients start blinatumomab after 2 hyper-CVAD cycles (A9)
    tl = timeline(P, choices={"intensive_cycles": "2"})
    assert [(c.phase_id, c.cycle, c.start) for c in tl.cycles[:3]] == [
        ("intensive", 1, date(2027, 1, 4)), ("intensive", 2, date(2027, 1, 25)),
        ("consolidation", 5, date(2027, 2, 15)),  # start + 42
    ]


# --- intensive phase ------------------------------------------------------------------------


def test_it_methotrexate_days(timeline):
    # "methotrexate intrathecally (IT) on day 2 of cycles 1 and 3, day 8 of cycles 2 and 4"
    it = _admin(timeline(P), "methotrexate", "IT")
    assert [(e.cycle, e.day, e.date) for e in it] == [
        (1, 2, date(2027, 1, 5)), (2, 8, date(2027, 2, 1)),
        (3, 2, date(2027, 2, 16)), (4, 8, date(2027, 3, 15)),
    ]
    assert {(e.dose, e.unit) for e in it} == {(12, "mg")}  # TH10 via adult-regimens.md §2-3


def test_it_cytarabine_days(timeline):
    # "cytarabine IT on day 7 of cycles 1 and 3, day 5 of cycles 2 and 4"
    it = _admin(timeline(P), "cytarabine", "IT")
    assert [(e.cycle, e.day, e.date) for e in it] == [
        (1, 7, date(2027, 1, 10)), (2, 5, date(2027, 1, 29)),
        (3, 7, date(2027, 2, 21)), (4, 5, date(2027, 3, 12)),
    ]
    # ASH19/ASH20: 8 intrathecal doses in cycles 1-4
    tl = timeline(P)
    assert len([e for e in tl.events if e.route == "IT"]) == 8


def test_cyclophosphamide_six_doses_12_hours_apart_cycles_1_and_3(timeline):
    # "cyclophosphamide intravenously (IV) over 3 hours twice daily (BID) on days 1-3"; hyper-CVAD:
    # 300 mg/m2 every 12 h x 6 doses, course A only
    cy = _admin(timeline(P), "cyclophosphamide")
    assert {e.cycle for e in cy} == {1, 3}
    c1 = [e for e in cy if e.cycle == 1]
    assert [_start_dt(e) for e in c1] == [
        datetime(2027, 1, 4, 8), datetime(2027, 1, 4, 20), datetime(2027, 1, 5, 8),
        datetime(2027, 1, 5, 20), datetime(2027, 1, 6, 8), datetime(2027, 1, 6, 20),
    ]
    assert [(e.dose_number, e.doses_total) for e in c1] == [(n, 6) for n in range(1, 7)]
    assert all(e.duration_minutes == 180 and e.dose == 300 and e.unit == "mg/m2" for e in cy)
    assert [e.date for e in cy if e.cycle == 3][0] == date(2027, 2, 15)


def test_course_a_drugs_absent_from_cycles_2_and_4(timeline):
    # A2: the record lists these drugs without limiting them to cycles 1 and 3; in hyper-CVAD they
    # belong to course A only. Conversely the systemic methotrexate/cytarabine are "of cycles 2 and 4".
    tl = timeline(P, choices={"anti_cd20": "rituximab"})
    for drug in ("cyclophosphamide", "doxorubicin", "vincristine", "dexamethasone", "mesna"):
        assert not [e for e in _admin(tl, drug) if e.phase_id == "intensive" and e.cycle in (2, 4)], drug
    for drug in ("methotrexate", "cytarabine"):
        assert {e.cycle for e in _admin(tl, drug, "IV")} == {2, 4}
    assert {e.cycle for e in _admin(tl, "methylprednisolone")} == {2, 4}


def test_dexamethasone_doxorubicin_vincristine_days(timeline):
    tl = timeline(P)
    # "dexamethasone orally (PO) once daily (QD) on days 1-4 and 11-14"
    dex = [e for e in _admin(tl, "dexamethasone", "PO") if e.cycle == 1]
    assert [e.date for e in dex] == [_d(n) for n in (0, 1, 2, 3, 10, 11, 12, 13)]
    assert {(e.dose, e.unit) for e in dex} == {(40, "mg")}
    # "doxorubicin hydrochloride IV continuously on day 4": 24-h infusion from 2027-01-07 09:00
    dox = [e for e in _admin(tl, "doxorubicin") if e.cycle == 1]
    assert [(_start_dt(e), _end_dt(e)) for e in dox] == [(datetime(2027, 1, 7, 9), datetime(2027, 1, 8, 9))]
    # "vincristine sulfate IV over 15 minutes on days 4 and 11", 2 mg flat and never more (cap)
    vcr = [e for e in _admin(tl, "vincristine") if e.phase_id == "intensive"]
    assert [(e.cycle, e.date) for e in vcr] == [
        (1, date(2027, 1, 7)), (1, date(2027, 1, 14)), (3, date(2027, 2, 18)), (3, date(2027, 2, 25))]
    assert all(e.duration_minutes == 15 and e.dose_spec.cap == 2 and e.dose_spec.cap_unit == "mg" for e in vcr)


def test_high_dose_methotrexate_over_24_hours_then_cytarabine(timeline):
    # "methotrexate ... IV over 24 hours on day 1 of cycles 2 and 4": TH10 200 mg/m2 over 2 h then
    # 800 mg/m2 over 22 h, i.e. 09:00 day 1 to 09:00 day 2
    tl = timeline(P)
    mtx = [e for e in _admin(tl, "methotrexate", "IV") if e.cycle == 2]
    assert [(e.dose, _start_dt(e), _end_dt(e)) for e in mtx] == [
        (200, datetime(2027, 1, 25, 9), datetime(2027, 1, 25, 11)),
        (800, datetime(2027, 1, 25, 11), datetime(2027, 1, 26, 9)),
    ]
    # "cytarabine ... IV over 2 hours on days 2 and 3 of cycles 2 and 4": q12h x 4, from the end of
    # the methotrexate infusion
    ara = [e for e in _admin(tl, "cytarabine", "IV") if e.cycle == 2]
    assert [_start_dt(e) for e in ara] == [
        datetime(2027, 1, 26, 9), datetime(2027, 1, 26, 21), datetime(2027, 1, 27, 9), datetime(2027, 1, 27, 21)]
    assert all(e.duration_minutes == 120 and (e.dose, e.unit) == (3, "g/m2") for e in ara)
    # age band: 1 g/m2 at age >= 60 (TH10, UTD)
    band = ara[0].dose_spec.bands[0]
    assert (band.age_ge, band.value, band.unit) == (60, 1, "g/m2")
    assert "not public" in ara[0].note  # this trial's own cytarabine dose (A5)


def test_supportive_drugs_follow_their_anchor_and_can_be_left_out(timeline):
    tl = timeline(P)
    cy = [e for e in _admin(tl, "cyclophosphamide") if e.cycle == 1]
    mesna = [e for e in _admin(tl, "mesna") if e.cycle == 1]
    # mesna "started with the first cyclophosphamide dose and stopped 6 h after the last one"
    assert len(mesna) == 1
    assert _start_dt(mesna[0]) == _start_dt(cy[0])
    assert _end_dt(mesna[0]) == _end_dt(cy[-1]) + timedelta(hours=6) == datetime(2027, 1, 7, 5)
    # leucovorin 50 mg "12 h after the MTX infusion ends; then 15 mg q6h x 8"
    mtx_end = max(_end_dt(e) for e in _admin(tl, "methotrexate", "IV") if e.cycle == 2)
    lv = [e for e in _admin(tl, "leucovorin") if e.cycle == 2]
    assert [(e.dose, _start_dt(e)) for e in lv[:2]] == [
        (50, mtx_end + timedelta(hours=12)), (15, mtx_end + timedelta(hours=18))]
    assert len(lv) == 9 and _start_dt(lv[-1]) == datetime(2027, 1, 28, 21)
    # each names its source (not the record) with the reference's confidence
    for e in _admin(tl, "mesna") + lv + _admin(tl, "methylprednisolone"):
        assert e.confidence == "medium" and e.source.startswith(("adult-2", "adult-3"))
        assert "Not named in the trial record" in e.note
    # record-only: the record names none of them
    bare = timeline(P, choices={"hcvad_supportive": "record-only"})
    assert not [e for e in bare.events if e.drug in SUPPORTIVE]
    assert not [e for e in bare.events if e.kind == "lab"]


def test_anti_cd20_is_an_either_or_choice(timeline):
    # "Patients may also receive ofatumumab IV or rituximab IV over 4-6 hours on days 1 and 11 of
    # cycles 1 and 3, and days 1 and 8 of cycles 2 and 4 at the discretion of the treating physician"
    assert not [e for e in timeline(P).events if e.drug in ("rituximab", "ofatumumab")]
    rtx = _admin(timeline(P, choices={"anti_cd20": "rituximab"}), "rituximab")
    assert [(e.cycle, e.day) for e in rtx] == [(1, 1), (1, 11), (2, 1), (2, 8), (3, 1), (3, 11), (4, 1), (4, 8)]
    assert all(e.optional and (e.dose, e.unit) == (375, "mg/m2") for e in rtx)
    tl = timeline(P, choices={"anti_cd20": "ofatumumab"})
    assert not _admin(tl, "rituximab")
    ofa = _admin(tl, "ofatumumab")
    # "Patients may receive ofatumumab IV over 4-6 hours on day 2 of cycle 1": split not public (A7)
    assert [(e.cycle, e.day, e.not_public, e.dose) for e in ofa] == [
        (1, 1, True, None), (1, 2, True, None), (1, 11, False, 2000),
        (2, 1, False, 2000), (2, 8, False, 2000), (3, 1, False, 2000), (3, 11, False, 2000),
        (4, 1, False, 2000), (4, 8, False, 2000),
    ]


def test_count_gate_before_cycles_2_to_4(timeline):
    # A17: "repeats every 3 weeks"; classic hyper-CVAD starts when counts recover
    gates = [e for e in timeline(P).events if e.kind == "gate"]
    assert [(e.cycle, e.date) for e in gates] == [
        (2, date(2027, 1, 25)), (3, date(2027, 2, 15)), (4, date(2027, 3, 8))]


# --- blinatumomab and inotuzumab ------------------------------------------------------------


def test_blinatumomab_weeks_1_to_4_and_nothing_on_days_29_to_42(timeline):
    # "Patients receive blinatumomab IV continuously on weeks 1-4. ... repeats every 6 weeks"
    for choice in ("flat-28", "label-step"):
        tl = timeline(P, choices={"blina_start": choice, "ino_schedule": "ash22-ash25"})
        blina_cycles = [c for c in tl.cycles if c.course_id in ("blina-consolidation", "blina-maintenance")]
        assert len(blina_cycles) == 7  # ASH25: 7 blinatumomab cycles in total
        for c in blina_cycles:
            rest_first, rest_last = c.start + timedelta(days=28), c.start + timedelta(days=41)
            drugs = [e for e in tl.administrations() if e.cycle_id == c.cycle_id]
            assert drugs and all(e.end_date < rest_first for e in drugs), c.cycle_id
            rest = [e for e in tl.events if e.cycle_id == c.cycle_id and e.kind == "rest"]
            assert [(r.date, r.end_date) for r in rest] == [(rest_first, rest_last)]
            # nothing else at all falls on days 29-42 except the rest marker
            assert not [e for e in tl.events if e.cycle_id == c.cycle_id and e.kind not in ("rest", "phase")
                        and e.date >= rest_first]
    c5 = [e for e in _admin(timeline(P), "blinatumomab") if e.cycle == 5]
    assert [(e.date, e.end_date, e.dose, e.unit, e.continuous) for e in c5] == [
        (date(2027, 3, 29), date(2027, 4, 25), 28, "mcg/day", True)]  # day 28 = start + 84 + 27


def test_blinatumomab_step_variant_and_premedication(timeline):
    tl = timeline(P, choices={"blina_start": "label-step"})
    c5 = [e for e in _admin(tl, "blinatumomab") if e.cycle == 5]
    assert [(e.day, e.dose, e.date, e.end_date) for e in c5] == [
        (1, 9, date(2027, 3, 29), date(2027, 4, 4)), (8, 28, date(2027, 4, 5), date(2027, 4, 25))]
    assert c5[1].step == "step-up"
    pre = [e for e in tl.events if e.kind == "premedication"]
    # label: dexamethasone 20 mg IV 1 h before each cycle start and each step-up (A8, A15)
    assert [(e.cycle_id, e.day, e.time) for e in pre[:3]] == [
        ("consolidation.c5", 1, time(8)), ("consolidation.c5", 8, time(8)), ("consolidation.c6", 1, time(8))]
    assert len(pre) == 8 and all((e.dose, e.unit, e.route) == (20, "mg", "IV") for e in pre)
    hosp = [e for e in tl.events if e.kind == "hospitalization"]
    assert [(e.date, e.end_date) for e in hosp] == [
        (date(2027, 3, 29), date(2027, 4, 6)), (date(2027, 5, 10), date(2027, 5, 11))]


def test_default_premedication_and_hospitalization(timeline):
    tl = timeline(P)
    pre = [e for e in tl.events if e.kind == "premedication"]
    # one before each of the 7 blinatumomab cycles (4 consolidation + 3 maintenance)
    assert len(pre) == 7 and all(e.premed_for == "blinatumomab" and e.confidence == "medium" for e in pre)
    hosp = [e for e in tl.events if e.kind == "hospitalization"]
    # label (MRD/consolidation): first 3 days of the first cycle, first 2 days of the second
    assert [(e.date, e.end_date) for e in hosp] == [
        (date(2027, 3, 29), date(2027, 3, 31)), (date(2027, 5, 10), date(2027, 5, 11))]


def test_inotuzumab_record_days_by_default(timeline):
    # "Patients also receive inotuzumab ozogamicin IV over 1 hour on days 5 and 11 of cycles 6 and 8"
    ino = _admin(timeline(P), "inotuzumab ozogamicin")
    assert [(e.cycle, e.day, e.date) for e in ino] == [
        (6, 5, date(2027, 5, 14)), (6, 11, date(2027, 5, 20)),
        (8, 5, date(2027, 8, 6)), (8, 11, date(2027, 8, 12)),
    ]
    assert all(e.duration_minutes == 60 and e.confidence == "low" for e in ino)


def test_inotuzumab_abstract_variant(timeline):
    # ASH22/ASH25: 0.3 mg/m2 on days 1 and 8 in the 2 MTX/Ara-C cycles and 2 blinatumomab cycles (A1)
    ino = _admin(timeline(P, choices={"ino_schedule": "ash22-ash25"}), "inotuzumab ozogamicin")
    assert [(e.cycle, e.day, e.date) for e in ino] == [
        (2, 1, date(2027, 1, 25)), (2, 8, date(2027, 2, 1)),
        (4, 1, date(2027, 3, 8)), (4, 8, date(2027, 3, 15)),
        (6, 1, date(2027, 5, 10)), (6, 8, date(2027, 5, 17)),
        (8, 1, date(2027, 8, 2)), (8, 8, date(2027, 8, 9)),
    ]
    assert {(e.dose, e.unit) for e in ino} == {(0.3, "mg/m2")}


def test_no_inotuzumab_in_the_cohort_without_it(timeline):
    # ASH22/ASH25: inotuzumab from patient #39 onward; patients 1-38 received none
    for sched in ("record", "ash22-ash25"):
        tl = timeline(P, choices={"ino_cohort": "without-ino", "ino_schedule": sched})
        assert not [e for e in tl.events if e.drug == "inotuzumab ozogamicin"]
        assert len(_admin(tl, "blinatumomab")) == 7


# --- maintenance ----------------------------------------------------------------------------


def test_pomp_content_in_a_6_week_cycle(timeline):
    # "mercaptopurine PO thrice daily (TID), methotrexate PO every week, vincristine sulfate IV over
    # 15 minutes every month, and prednisone PO on days 1-5. Cycles repeat every 6 weeks"
    tl = timeline(P)
    m1 = [e for e in tl.administrations() if e.cycle_id == "maintenance.c1"]
    mp = [e for e in m1 if e.drug == "mercaptopurine"]
    assert len(mp) == 42 * 3 and mp[-1].date == date(2027, 10, 24)  # day 42 = 2027-09-13 + 41
    assert [e.time for e in mp[:3]] == [time(8), time(14), time(20)]
    mtx = [e for e in m1 if e.drug == "methotrexate"]
    assert [e.day for e in mtx] == [1, 8, 15, 22, 29, 36] and all(e.route == "PO" for e in mtx)
    assert all(e.not_public and e.dose is None for e in mtx)  # weekly dose not public (A11)
    assert [e.day for e in m1 if e.drug == "prednisone"] == [1, 2, 3, 4, 5]
    # "vincristine ... every month" (issue 10): a dated line a month after day 1 as well, day 29 =
    # 2027-10-11 (window days 29-31); the POMP vincristine dose is stated by no source read
    # (adult-regimens.md §5), so both are "dose per full protocol (not public)".
    vcr = [e for e in m1 if e.drug == "vincristine"]
    assert [(e.day, e.date, e.confidence) for e in vcr] == [(1, date(2027, 9, 13), "low"),
                                                            (29, date(2027, 10, 11), "low")]
    assert all(e.not_public and e.dose is None for e in vcr) and vcr[1].window == "day 29 to 31"
    once = [e for e in timeline(P, choices={"pomp_vincristine": "day-1"}).administrations()
            if e.cycle_id == "maintenance.c1" and e.drug == "vincristine"]
    assert [e.day for e in once] == [1]


def test_maintenance_for_12_months_is_a_named_variant(timeline):
    # seed-000: "Cycles repeat every 6 weeks for 12 months": 8 cycles of 42 days = 336 days fit in
    # 12 months (a 9th would end on day 378). Maintenance cycle 1 starts 2027-09-13 (+252), so
    # the 8th cycle (blinatumomab) starts 2027-09-13 + 7 * 42 = 2028-07-03 and follow-up follows
    # on 2028-08-14 (+ 42). Default: 15 cycles ("a total of about 15 cycles"; ASH22).
    tl = timeline(P, choices={"maintenance_cycles": "8"})
    maint = [c for c in tl.cycles if c.phase_id == "maintenance"]
    assert [c.cycle for c in maint] == list(range(1, 9))
    assert [c.cycle for c in maint if c.course_id == "blina-maintenance"] == [4, 8]
    assert maint[-1].start == date(2028, 7, 3)
    assert tl.cycles[-1].course_id == "follow-up" and tl.cycles[-1].start == date(2028, 8, 14)
    assert (tl.cycles[-1].start - maint[0].start).days == 336
    default = timeline(P)
    assert len([c for c in default.cycles if c.phase_id == "maintenance"]) == 15


def test_pomp_monthly_variant_does_not_invent_a_length(timeline):
    # A10: monthly vincristine/prednisone suggest monthly cycles, but no source gives the length
    tl = timeline(P, choices={"pomp_cycle": "monthly"})
    last = tl.cycles[-1]
    assert (last.cycle_id, last.length_days) == ("maintenance-monthly.c1", None)
    assert any("maintenance-monthly.c2" in w for w in tl.warnings)
    m1 = [e for e in tl.administrations() if e.cycle_id == "maintenance-monthly.c1"]
    assert max(e.day for e in m1) == 28
    assert [e.day for e in m1 if e.drug == "methotrexate"] == [1, 8, 15, 22]
    # the treating team gives the next day 1; later cycles follow from it
    tl2 = timeline(P, choices={"pomp_cycle": "monthly"},
                   actual_starts={"maintenance-monthly.c2": date(2027, 10, 13)})
    assert [c.start for c in tl2.cycles if c.cycle_id == "maintenance-monthly.c2"] == [date(2027, 10, 13)]


# --- every documented choice, sources, CLI --------------------------------------------------


def test_every_documented_choice_compiles(load, timeline):
    decisions = load(P).protocol.decisions
    names = list(decisions)
    for values in itertools.product(*[[c.value for c in decisions[n].choices] for n in names]):
        choices = dict(zip(names, values))
        tl = timeline(P, choices=choices)
        assert dict(tl.choices) == choices
        assert tl.cycles[0].start == START and tl.administrations()
        for e in tl.administrations():
            assert e.source and (e.not_public or e.dose is not None), (choices, e)


def test_every_administration_cites_a_declared_source(load, timeline):
    keys = load(P).protocol.source_keys()
    tl = timeline(P, choices={"anti_cd20": "ofatumumab", "ino_schedule": "ash22-ash25"})
    for e in tl.events:
        if e.kind in ("administration", "premedication"):
            assert e.source.split()[0] in keys and e.source_cite != e.source, e


def test_cli_list_show_and_json(run_cli):
    code, out, _ = run_cli("list", "--format", "json")
    assert code == 0
    rec = [r for r in json.loads(out) if r["id"] == P][0]
    assert (rec["nct"], rec["group"], rec["arms"]) == ("NCT02877303", "2014-0845", ["1"])
    code, out, _ = run_cli("show", P)
    assert code == 0
    for text in ("OPEN AMBIGUITIES", "A1:", "A10:", "A17:", "NOT PUBLIC", "POMP: methotrexate PO dose"):
        assert text in out
    code, out, _ = run_cli("timeline", P, "--start", "2027-01-04", "--format", "json")
    assert code == 0
    events = json.loads(out)["events"]
    assert "µg" not in out and "ug/day" not in out
    assert [e["date"] for e in events if e["drug"] == "methotrexate" and e["route"] == "IT"] == [
        "2027-01-05", "2027-02-01", "2027-02-16", "2027-03-15"]
    code, _, err = run_cli("timeline", P, "--start", "2027-01-04", "--choose", "pomp_cycle=weekly")
    assert code == 2 and "pomp_cycle" in err and "6-weeks" in err


def test_patient_doses_age_band_and_vincristine_cap(timeline):
    # TH10/UTD (adult-regimens.md §3): cytarabine 3 g/m2 per dose, 1 g/m2 if age >= 60; BSA 2 m2
    # gives 6 g at 59 and 2 g at 60. Vincristine 2 mg flat, never more (cap) in course A.
    from regimens.dosing.bsa import Measurements
    from regimens.dosing.doses import resolve_doses

    tl = timeline(P)
    for age, grams in ((59, 6), (60, 2)):
        dosed = resolve_doses(tl, Measurements(bsa_m2=2.0, weight_kg=80, age_years=age))
        ara = [e for e in dosed.events if e.drug == "cytarabine" and e.route == "IV"]
        assert len(ara) == 8 and {(e.patient_dose, e.patient_unit) for e in ara} == {(grams, "g")}, age
        vcr = [e for e in dosed.events if e.drug == "vincristine" and e.phase_id == "intensive"]
        assert vcr and {(e.patient_dose, e.patient_unit) for e in vcr} == {(2, "mg")}
        # POMP vincristine: no source states its dose (issue 10), so none is calculated
        pomp = [e for e in dosed.events if e.drug == "vincristine" and e.phase_id == "maintenance"]
        assert pomp and all(e.not_public and e.patient_dose is None for e in pomp)
        # a dose no source gives is never calculated
        po_mtx = [e for e in dosed.events if e.drug == "methotrexate" and e.route == "PO"]
        assert po_mtx and all(e.patient_dose is None for e in po_mtx)
    # without an age the band cannot be chosen: no cytarabine dose is guessed
    dosed = resolve_doses(tl, Measurements(bsa_m2=2.0, weight_kg=80))
    assert all(e.patient_dose is None for e in dosed.events if e.drug == "cytarabine" and e.route == "IV")
    assert any("age" in w for w in dosed.warnings)


def test_monthly_variant_warning_points_at_the_next_cycle_not_the_phase(timeline):
    # Following the warning must continue with maintenance cycle 2; `--start-at maintenance-monthly`
    # would restart the phase at its cycle 1 and number every later cycle wrongly.
    tl = timeline(P, choices={"pomp_cycle": "monthly"})
    (w,) = [w for w in tl.warnings if "maintenance-monthly.c2" in w]
    assert "--start-at maintenance-monthly.c2" in w
    tl2 = timeline(P, start=date(2027, 10, 13), choices={"pomp_cycle": "monthly"},
                   start_at="maintenance-monthly.c2")
    assert (tl2.cycles[0].cycle_id, tl2.cycles[0].cycle, tl2.cycles[0].start) == (
        "maintenance-monthly.c2", 2, date(2027, 10, 13))


# --- a dose that is not the trial's never reads as the trial's (issue 10) ----------------------

def test_cytarabine_3_g_is_labelled_as_classic_hyper_cvad(timeline, run_cli):
    # adult-regimens.md §10 A5: "this trial's systemic cytarabine dose is not public (classic
    # 3 g/m2; 1 g/m2 at age >= 60 per TH10/UTD)". Course B is cycle 2 (2027-01-25), cytarabine
    # on days 2-3 every 12 h: 2027-01-26 09:00 is its first dose.
    from regimens.exporters.sheet import Selection, SheetOptions, render_html
    from regimens.exporters.tabular import to_csv, to_json

    tl = timeline(P)
    ara = [e for e in tl.administrations() if e.drug == "cytarabine" and e.route == "IV"]
    assert ara[0].date == date(2027, 1, 26) and ara[0].time == time(9)
    row = json.loads(to_json(tl))["events"]
    ara_json = [r for r in row if r["drug"] == "cytarabine" and r["route"] == "IV"]
    assert {r["dose_reference"] for r in ara_json} == {"classic hyper-CVAD"}
    assert "classic hyper-CVAD" in to_csv(tl).decode()
    code, out, _ = run_cli("timeline", P, "--start", "2027-01-04")
    line = next(x for x in out.splitlines() if "2027-01-26  09:00" in x and "cytarabine" in x)
    assert "3 g/m² (classic hyper-CVAD dose; this trial's dose not public)" in line
    from datetime import UTC, datetime

    html = render_html(tl, Selection(cycle="intensive.c2"), SheetOptions(kind="pharmacist"),
                       datetime(2027, 1, 2, tzinfo=UTC))
    assert "classic hyper-CVAD dose; this trial&#39;s dose not public" in html or \
        "classic hyper-CVAD dose; this trial's dose not public" in html
    # the trial's own published values are not labelled (ASH22/ASH25 inotuzumab 0.3 mg/m2)
    ino = [r for r in row if r["drug"] == "inotuzumab ozogamicin"]
    assert ino and all(r["dose_reference"] is None for r in ino)


def test_up_to_28_mcg_per_day_is_not_high_confidence(timeline):
    # LH22: blinatumomab "up to 28 mcg/day ... 28 days, every 42 days": an upper bound, not the
    # dose given, so no consolidation blinatumomab dose is "high"; the words are kept.
    tl = timeline(P)
    blina = [e for e in tl.administrations() if e.drug == "blinatumomab" and e.phase_id == "consolidation"]
    assert blina and all(e.confidence != "high" for e in blina)
    assert all(e.dose_spec.text and "up to 28 mcg/day" in e.dose_spec.text for e in blina)


def test_patient_calendar_never_prints_a_reference_regimens_dose(timeline):
    # adult-regimens.md §10 A5: the trial's systemic cytarabine dose is not public; 3 g/m2 is the
    # classic hyper-CVAD value. Course B (cycle 2, 2027-01-25): cytarabine IV on days 2-3, every
    # 12 h. Course A day 1 (2027-01-04): dexamethasone 40 mg (MD Anderson hyper-CVAD, reference).
    import html as _html
    import re
    from datetime import UTC, datetime

    from regimens.dosing.doses import Measurements, resolve_doses
    from regimens.exporters.sheet import Selection, SheetOptions, render_html

    tl = resolve_doses(timeline(P), Measurements(height_cm=175, weight_kg=75, age_years=50))
    ara = next(e for e in tl.events if e.drug == "cytarabine" and e.route == "IV")
    # 3 g/m² × 1.9094 m² (Mosteller: sqrt(175 × 75 / 3600)) = 5.728 g, shown on staff outputs only
    assert ara.patient_dose == 5.73 and ara.patient_unit == "g"
    page = render_html(tl, Selection(cycle="intensive.c2"), SheetOptions(kind="patient"),
                       datetime(2027, 1, 2, tzinfo=UTC))
    text = re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "cytarabine" in text and "5.73 g" not in text and "3 g/m" not in text
    assert re.search(r"cytarabine: [^.]*your team will tell you the dose", text)
