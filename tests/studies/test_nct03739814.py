"""NCT03739814 (Alliance A041703) against its sources.

Words quoted from the seed record 002_d6c9d33ca6508c9a.txt ("seed") and from the ASCO 2023
abstract of cohort 1 as recorded in cog-alliance-ecog.md §2.3-2.4 ("ASCO"). Dates are computed by
hand from day numbers; day 1 of course IA is 2027-01-04, a Monday, so every weekly dose falls on
a Monday.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, time, timedelta

import pytest

from regimens.errors import RequestError

P = "nct03739814"
START = date(2027, 1, 4)


def d(day: int, start: date = START) -> date:
    """Calendar date of `day` of an element starting on `start` (day 1 = start)."""
    return start + timedelta(days=day - 1)


def _drug(tl, name):
    return [e for e in tl.events if e.drug == name and e.kind == "administration"]


def _blina(tl):
    return _drug(tl, "blinatumomab")


def _ino(tl):
    return [(e.date, e.dose, e.unit, e.route) for e in _drug(tl, "inotuzumab ozogamicin")]


def _all_timelines(timeline):
    """Every cohort with every combination of the decisions it uses."""
    out = []
    for arm in ("1", "2", "3"):
        names = ["it_day1"] if arm != "1" else ["it_day1", "ia_response", "more_blina",
                                                 "later_blina_cycle_length"]
        values = {
            "it_day1": ["day-1", "pre-registration"],
            "ia_response": ["cr", "no-cr", "no-cytoreduction"],
            "more_blina": ["2", "3"],
            "later_blina_cycle_length": ["not-public", "42"],
        }
        for combo in itertools.product(*(values[n] for n in names)):
            choices = dict(zip(names, combo))
            if choices.get("ia_response") == "no-cytoreduction" and choices["more_blina"] == "2":
                continue  # a contradiction, refused (test_contradicting_a_coupled_decision_is_refused)
            out.append((arm, choices, timeline(P, arm=arm, choices=choices)))
    return out


# --- identity ---------------------------------------------------------------------------------


def test_registry_numbers(run_cli):
    # Seed: "Trial ID NCT03739814"; Alliance number from ASCO 2023 / press release (reference §2.1).
    code, out, _ = run_cli("list", "--format", "json")
    assert code == 0
    rec = next(r for r in json.loads(out) if r["id"] == P)
    assert (rec["nct"], rec["group"]) == ("NCT03739814", "A041703")
    # Cohorts 1-3 are the arms, labelled as the record labels them ("COHORT 1: ...").
    assert rec["arms"] == ["1", "2", "3"]


def test_arm_is_required(timeline):
    with pytest.raises(RequestError, match="give --arm with one of 1, 2, 3"):
        timeline(P)


# --- cohort 1: course IA ------------------------------------------------------------------------


def test_course_ia_inotuzumab_days_and_doses(timeline):
    # ASCO: "Induction IA was InO 0.8 mg/m2 day (d) 1, 0.5 mg/m2 d8, d15 IV on a 21d cycle."
    tl = timeline(P, arm="1", choices={"ia_response": "no-cytoreduction"})
    assert _ino(tl) == [
        (date(2027, 1, 4), 0.8, "mg/m2", "IV"),   # day 1
        (date(2027, 1, 11), 0.5, "mg/m2", "IV"),  # day 8 = Jan 4 + 7
        (date(2027, 1, 18), 0.5, "mg/m2", "IV"),  # day 15 = Jan 4 + 14
    ]
    ia = tl.cycles[0]
    assert (ia.cycle_id, ia.start, ia.length_days, ia.end) == (
        "course-ia.c1", START, 21, date(2027, 1, 24))  # day 21 = Jan 24
    # Infusion time is not public: no duration is invented (label 1 h only in the note).
    for e in _drug(tl, "inotuzumab ozogamicin"):
        assert e.duration_minutes is None and "not public" in e.note and e.confidence == "high"


def test_it_methotrexate_day_1_of_course_ia(timeline):
    # Seed: "the day 1 of course IA dose of intrathecal (IT) methotrexate"; ASCO: "CNS prophylaxis
    # was methotrexate 15 mg intrathecal x 8". Only day 1 is dated anywhere public.
    tl = timeline(P, arm="1")
    mtx = _drug(tl, "methotrexate")
    assert [(e.date, e.day, e.dose, e.unit, e.route, e.cycle_id) for e in mtx] == [
        (START, 1, 15, "mg", "IT", "course-ia.c1")
    ]
    assert "1 of 8" in mtx[0].note and "not public" in mtx[0].note
    assert not mtx[0].optional  # the dose is given; only where (day 1 or before) is a choice


def test_no_other_it_dose_is_invented(timeline):
    # Negative: doses 2-8 have no public date, so no path places a second IT methotrexate.
    for arm, choices, tl in _all_timelines(timeline):
        its = [e for e in tl.events if e.route == "IT"]
        if choices["it_day1"] == "pre-registration":
            assert its == [], (arm, choices)
        else:
            assert [(e.date, e.cycle_id.endswith(".c1"), e.day) for e in its] == [(START, True, 1)], (arm, choices)


def test_it_at_pre_registration_lumbar_puncture(timeline):
    # Seed: "Patients may receive the day 1 of course IA dose of intrathecal (IT) methotrexate
    # during the prior-to-registration lumbar puncture ... then systemic chemotherapy must begin
    # within 7 days of this IT chemotherapy."
    tl = timeline(P, arm="1", choices={"it_day1": "pre-registration"})
    assert _drug(tl, "methotrexate") == []
    gates = [e for e in tl.events if e.kind == "gate" and e.date == START]
    assert any("within 7 days" in g.title for g in gates)
    # Day 1 still carries the inotuzumab dose.
    assert _ino(tl)[0] == (START, 0.8, "mg/m2", "IV")


def test_pre_registration_mrd_sample_reminder(timeline):
    # Seed: "STEP 0: Submission of bone marrow aspirate and peripheral blood for MRD analysis is
    # mandatory prior to registration"
    for arm in ("1", "2", "3"):
        tl = timeline(P, arm=arm)
        g = [e for e in tl.events if e.kind == "gate" and "MRD" in e.title]
        assert len(g) == 1 and g[0].date == START and "first pull" in g[0].title


# --- cohort 1: IB / IC / straight to course II ------------------------------------------------


def test_response_cr_gives_course_ib(timeline):
    # ASCO: "went to IB if in CR/CRi (InO 0.5 mg/m2 d1, d8, d15 IV; 28d cycle)". IB day 1 = IA
    # day 22 = Jan 25; course II day 1 = IB day 29 = Feb 22.
    tl = timeline(P, arm="1", choices={"ia_response": "cr"})
    assert _ino(tl)[3:] == [
        (date(2027, 1, 25), 0.5, "mg/m2", "IV"),
        (date(2027, 2, 1), 0.5, "mg/m2", "IV"),
        (date(2027, 2, 8), 0.5, "mg/m2", "IV"),
    ]
    ids = [(c.cycle_id, c.start, c.length_days) for c in tl.cycles[:3]]
    assert ids == [
        ("course-ia.c1", date(2027, 1, 4), 21),
        ("course-ib.c1", date(2027, 1, 25), 28),
        ("course-ii.c1", date(2027, 2, 22), 42),
    ]
    # Nothing on IB days 16-28 ("28d cycle" with doses on d1, d8, d15 only).
    assert not [e for e in tl.by_cycle("course-ib.c1") if e.drug and e.day > 15]


def test_response_no_cr_gives_course_ic_at_0_8_on_all_three_days(timeline):
    # ASCO: "IC if no CR/CRi (InO 0.8 mg/m2 d1, d8, d15 IV; 28d cycle)". Higher than the label's
    # non-CR cycle (0.8, 0.5, 0.5): the protocol must not be "corrected" to the label.
    tl = timeline(P, arm="1", choices={"ia_response": "no-cr"})
    assert _ino(tl)[3:] == [
        (date(2027, 1, 25), 0.8, "mg/m2", "IV"),
        (date(2027, 2, 1), 0.8, "mg/m2", "IV"),
        (date(2027, 2, 8), 0.8, "mg/m2", "IV"),
    ]
    assert [c.cycle_id for c in tl.cycles[:3]] == ["course-ia.c1", "course-ic.c1", "course-ii.c1"]


def test_no_cytoreduction_goes_straight_to_course_ii(timeline):
    # ASCO: "Those without cytoreduction to IA started course II blina." Course II day 1 = IA day
    # 22 = Jan 25; no inotuzumab after IA day 15.
    tl = timeline(P, arm="1", choices={"ia_response": "no-cytoreduction"})
    assert len(_ino(tl)) == 3 and max(e[0] for e in _ino(tl)) == date(2027, 1, 18)
    assert [(c.cycle_id, c.start) for c in tl.cycles[:2]] == [
        ("course-ia.c1", START), ("course-ii.c1", date(2027, 1, 25))]


# --- cohort 1: course II --------------------------------------------------------------------


def test_course_ii_step_dosing_and_break(timeline):
    # ASCO: "course II blina CIV (9 mcg/d x 7d then 28 mcg/d x 21d; 14d break; 28 mcg/d x28d)".
    # With IB, course II day 1 = Feb 22: days 1-7 = Feb 22-28, days 8-28 = Mar 1-21, break days
    # 29-42 = Mar 22-Apr 4, second infusion from day 43 = Apr 5 for 28 days to May 2.
    tl = timeline(P, arm="1")
    b = _blina(tl)
    assert [(e.cycle_id, e.date, e.end_date, e.dose, e.unit, e.continuous) for e in b] == [
        ("course-ii.c1", date(2027, 2, 22), date(2027, 2, 28), 9, "mcg/day", True),
        ("course-ii.c1", date(2027, 3, 1), date(2027, 3, 21), 28, "mcg/day", True),
        ("course-ii.c2", date(2027, 4, 5), date(2027, 5, 2), 28, "mcg/day", True),
    ]
    assert [e.step for e in b] == [None, "step-up", None]
    assert all(e.route == "IV" and e.confidence == "high" for e in b)
    rest = [e for e in tl.events if e.kind == "rest"]
    assert [(r.cycle_id, r.date, r.end_date) for r in rest] == [
        ("course-ii.c1", date(2027, 3, 22), date(2027, 4, 4))]
    # Continuous infusion: one event, 7 x 24 h for the 9 mcg/day step.
    assert b[0].duration_minutes == 7 * 1440 and b[1].duration_minutes == 21 * 1440


def test_step_dose_only_in_the_first_blinatumomab_cycle(timeline):
    # "9 mcg/d x 7d" belongs to course II's first infusion only; no later cycle starts at 9.
    tl = timeline(P, arm="1", choices={"more_blina": "3", "later_blina_cycle_length": "42"})
    nine = [e for e in _blina(tl) if e.dose == 9]
    assert [(e.cycle_id, e.day) for e in nine] == [("course-ii-42.c1", 1)]
    assert [e.cycle for e in _blina(tl) if e.day == 1] == [1, 2, 3, 4, 5]


def test_blinatumomab_premedication_is_label_based_and_dose_not_public(timeline):
    # The trial's premedication is not public; the BLINCYTO label premedicates with dexamethasone
    # 1 h before the first dose of each cycle and before a step dose (adult-regimens.md §7b).
    tl = timeline(P, arm="1", choices={"later_blina_cycle_length": "42"})
    dex = [e for e in tl.events if e.drug == "dexamethasone"]
    assert [(e.cycle_id, e.day, e.time) for e in dex] == [
        ("course-ii-42.c1", 1, time(8, 0)),   # 60 min before the 09:00 start
        ("course-ii-42.c1", 8, time(8, 0)),   # before the step-up to 28 mcg/day
        ("course-ii-42.c2", 1, time(8, 0)),
        ("further-blina-42.c3", 1, time(8, 0)),
        ("further-blina-42.c4", 1, time(8, 0)),
    ]
    assert all(e.kind == "premedication" and e.premed_for == "blinatumomab" for e in dex)
    assert all(e.not_public and e.dose is None and e.confidence == "low" for e in dex)


def test_later_cycle_length_not_public_by_default(timeline):
    # The gap after "28 mcg/d x28d" and between the "2 more 28d cycles" is not stated: the default
    # timeline stops after course II cycle 2 and says how to continue.
    tl = timeline(P, arm="1")
    assert tl.cycles[-1].cycle_id == "course-ii.c2" and tl.cycles[-1].length_days is None
    assert len(tl.warnings) == 1 and "--actual-start further-blina.c3=" in tl.warnings[0]
    # With the real start of cycle 3 the next cycle is placed, then the next one is asked for.
    tl = timeline(P, arm="1", actual_starts={"further-blina.c3": date(2027, 5, 17)})
    c3 = [e for e in _blina(tl) if e.cycle_id == "further-blina.c3"]
    assert [(e.date, e.end_date, e.dose, e.confidence) for e in c3] == [
        (date(2027, 5, 17), date(2027, 6, 13), 28, "medium")]  # day 28 = May 17 + 27
    assert "further-blina.c4" in tl.warnings[0]


@pytest.mark.parametrize("more, total", [("2", 4), ("3", 5)])
def test_further_cycles_count_with_42_day_variant(timeline, more, total):
    # ASCO: "Pts with CR/CRi to InO received 2 more 28d cycles of blina, others received 3 more"
    # (4 or 5 blinatumomab cycles in all). Variant: 42-day cycles, so each cycle starts 42 days
    # after the one before: Feb 22, Apr 5, May 17, Jun 28, Aug 9.
    tl = timeline(P, arm="1", choices={"more_blina": more, "later_blina_cycle_length": "42"})
    starts = [e.date for e in _blina(tl) if e.day == 1]
    expected = [date(2027, 2, 22), date(2027, 4, 5), date(2027, 5, 17), date(2027, 6, 28),
                date(2027, 8, 9)]
    assert starts == expected[:total]
    assert tl.warnings == ()
    assert [c.cycle for c in tl.cycles if c.phase_id == "further-blina-42"] == list(range(3, total + 1))


def test_decision_defaults_go_together(load):
    # CR/CRi after IA (course IB) and 2 more cycles are the same patient; the default must not mix
    # IB with the "others received 3 more" count.
    p = load(P).protocol
    assert p.decisions["ia_response"].default == "cr"
    assert p.decisions["more_blina"].default == "2"
    assert p.decisions["later_blina_cycle_length"].default == "not-public"


# --- cohorts 2 and 3 ----------------------------------------------------------------------


@pytest.mark.parametrize("arm", ["2", "3"])
def test_cohorts_2_and_3_are_skeletons(timeline, arm):
    # Reference §2.5: cohort 2 and cohort 3 schedules NOT FOUND. The seed's day-1 IT methotrexate
    # of course IA is placed with its dose not public, and every drug the seed says is given
    # ("inotuzumab ozogamicin induction followed by blinatumomab consolidation, with ponatinib
    # added for the Philadelphia chromosome-positive cohort") is a dated line on day 1 of its
    # element with "dose per full protocol (not public)" (issue 10).
    tl = timeline(P, arm=arm)
    admin = tl.administrations()
    expected = [("methotrexate", "IT"), ("inotuzumab ozogamicin", "IV")]
    if arm == "3":
        expected.append(("ponatinib", "PO"))
    assert sorted((e.drug, e.route) for e in admin) == sorted(expected)
    assert all(e.date == START and e.not_public and e.dose is None for e in admin)
    assert all(e.confidence == "low" for e in admin if e.drug != "methotrexate")
    phase = [e for e in tl.events if e.kind == "phase"]
    assert len(phase) == 1 and phase[0].not_public  # "drug content not public"
    assert tl.cycles[0].length_days is None
    assert f"consolidation-cohort-{arm}.c1" in tl.warnings[0]
    # The consolidation element follows once its real start is given, with its blinatumomab line.
    tl = timeline(P, arm=arm, actual_starts={f"consolidation-cohort-{arm}.c1": date(2027, 2, 1)})
    assert [(c.cycle_id, c.start) for c in tl.cycles] == [
        (f"induction-cohort-{arm}.c1", START), (f"consolidation-cohort-{arm}.c1", date(2027, 2, 1))]
    blina = [e for e in tl.administrations() if e.drug == "blinatumomab"]
    assert [(e.date, e.not_public, e.dose) for e in blina] == [(date(2027, 2, 1), True, None)]


def test_ponatinib_only_in_the_ph_positive_cohort(timeline):
    # Seed: "with ponatinib added for the Philadelphia chromosome-positive cohort": a dated line,
    # dose not public, in cohort 3 only; cohorts 1 and 2 never mention it.
    for arm, choices, tl in _all_timelines(timeline):
        pona = [e for e in tl.events if e.drug == "ponatinib"]
        mentions = [e for e in tl.events if "ponatinib" in f"{e.title} {e.note or ''}".lower()]
        if arm == "3":
            assert [(e.date, e.route, e.not_public, e.dose) for e in pona] == [(START, "PO", True, None)]
        else:
            assert pona == [] and mentions == [], (arm, choices)


def test_no_drug_the_record_lists_without_a_schedule(timeline):
    # Rituximab, cyclophosphamide and doxorubicin are listed interventions whose role is NOT FOUND.
    placed = set()
    for _, _, tl in _all_timelines(timeline):
        placed |= {e.drug for e in tl.administrations()}
    assert placed == {"inotuzumab ozogamicin", "methotrexate", "blinatumomab", "dexamethasone", "ponatinib"}


def test_inotuzumab_and_blinatumomab_doses_not_copied_into_cohorts_2_and_3(timeline):
    for arm in ("2", "3"):
        tl = timeline(P, arm=arm, actual_starts={f"consolidation-cohort-{arm}.c1": date(2027, 3, 1)})
        ev = [e for e in tl.events if e.drug in ("inotuzumab ozogamicin", "blinatumomab")]
        assert ev and all(e.not_public and e.dose is None and not e.continuous for e in ev)


# --- every path -------------------------------------------------------------------------------


def test_every_cohort_and_choice_compiles(timeline):
    tls = _all_timelines(timeline)
    # cohort 1 combinations, less no-cytoreduction with more_blina=2 (refused; one per it_day1 x
    # later_blina_cycle_length), + cohorts 2 and 3
    assert len(tls) == 2 * 3 * 2 * 2 - 2 * 2 + 2 + 2
    for arm, choices, tl in tls:
        assert tl.cycles[0].start == START, (arm, choices)
        # element boundaries: every dated element starts the day after the previous one ends
        for a, b in zip(tl.cycles, tl.cycles[1:]):
            assert a.length_days is not None and b.start == a.start + timedelta(days=a.length_days)
        # nothing administered outside its element's dated span (continuous runs included)
        for e in tl.administrations():
            c = next(c for c in tl.cycles if c.cycle_id == e.cycle_id)
            if c.length_days:
                assert e.end_date <= c.end, (arm, choices, e)


def test_show_lists_ambiguities_and_not_public(run_cli):
    code, out, _ = run_cli("show", P)
    assert code == 0
    for text in ("later-blinatumomab-cycle-length", "further-cycles-count", "identification",
                 "Dates of IT methotrexate doses 2-8", "ponatinib dose", "registry: NCT03739814, A041703"):
        assert text in out, text
    assert "µg" not in out and "ug/" not in out


def test_timeline_table_uses_ismp_notation(run_cli):
    code, out, _ = run_cli("timeline", P, "--arm", "1", "--start", "2027-01-04")
    assert code == 0
    assert "0.8 mg/m" in out and "0.5 mg/m" in out and "28 mcg/day" in out
    assert " .5" not in out and "0.50" not in out and "µg" not in out


# --- coupled decisions (issue 10) ---------------------------------------------------------------

def test_no_cytoreduction_implies_five_blinatumomab_cycles(timeline):
    # cog-alliance-ecog.md §2.6 path 3: no adequate cytoreduction after IA -> course II directly,
    # then "Three further 28-day blinatumomab cycles ... -> 5 in total" (ASCO: "others received 3
    # more"). Without more_blina=3 on the command line the timeline still has 5 cycles.
    tl = timeline(P, arm="1", choices={"ia_response": "no-cytoreduction", "later_blina_cycle_length": "42"})
    assert dict(tl.choices)["more_blina"] == "3"
    assert len({e.cycle_id for e in _blina(tl)}) == 5
    # course IA is 21 days (2027-01-04 .. 2027-01-24), course II cycle 1 starts on day 22
    assert min(e.date for e in _blina(tl)) == d(22)


def test_contradicting_a_coupled_decision_is_refused(timeline):
    with pytest.raises(RequestError, match=r"implies more_blina=3.*more_blina=2 was given"):
        timeline(P, arm="1", choices={"ia_response": "no-cytoreduction", "more_blina": "2"})
    # agreeing with it is fine, and the other paths keep their own choice
    tl = timeline(P, arm="1", choices={"ia_response": "no-cytoreduction", "more_blina": "3"})
    assert dict(tl.choices)["more_blina"] == "3"
    tl = timeline(P, arm="1", choices={"ia_response": "no-cr", "more_blina": "2"})
    assert dict(tl.choices)["more_blina"] == "2"


# --- what people read (issue 10) --------------------------------------------------------------

def test_show_prints_protocol_arm_course_and_item_notes(run_cli):
    code, out, err = run_cli("show", P)
    assert code == 0, err
    flat = " ".join(out.split())
    # seed STEP 1: "Patients with known or suspected testicular involvement by leukemia are
    # allowed provided that the patient receives concomitant scrotal/testicular radiotherapy."
    assert "testicular involvement receive concomitant scrotal/testicular radiotherapy" in flat
    # cohort descriptions (seed COHORT 1-3 criteria) and the arm notes
    assert "cohort 1 newly diagnosed Ph-negative B-ALL, age >= 60" in flat
    assert "note: Schedule not public, including ponatinib." in flat
    # a course note and an item note (IT methotrexate dose 1 of 8)
    assert "note: After CR/CRi with adequate cytoreduction at the end of course IA." in flat
    assert "IT dose 1 of 8 over the protocol; the dates of the other 7 are not public" in flat
