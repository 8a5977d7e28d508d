"""NCT04530565 (ECOG-ACRIN EA9181) against its sources.

Words quoted from the seed record 003_f98ecee123e3bda3.txt ("seed"), which names neither the NCT
nor the EA number (cog-alliance-ecog.md §3.1 explains the identification), and from §3 of that
reference. Dates are computed by hand: pre-induction day 1 is 2027-01-04 (a Monday), so its 21
days end on 2027-01-24 and induction day 1 is 2027-01-25.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, time, timedelta

import pytest

from regimens.errors import RequestError
from regimens.protocol.loader import load_text
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

P = "nct04530565"
START = date(2027, 1, 4)
INDUCTION = date(2027, 1, 25)  # pre-induction day 22
TKI = {"tki": "dasatinib"}
CHEMO_STARTS = {  # real starts a user gives for the not-public Arm B cycles
    "chemo-induction.c2": date(2027, 2, 15),
    "chemo-induction.c3": date(2027, 3, 8),
    "chemo-induction.c4": date(2027, 3, 29),
}


def _adm(tl, drug):
    return [e for e in tl.events if e.drug == drug and e.kind == "administration"]


def _all_timelines(timeline):
    values = {
        "tki": ["dasatinib", "ponatinib"],
        "dex_route": ["PO", "IV"],
        "blina_cycles": ["1", "2"],
        "cycle_length": ["28", "42"],
        "mrd_path": ["negative", "positive-negative", "positive-positive"],
    }
    out = []
    for arm in ("A", "B", "C"):
        names = ["tki"] if arm == "A" else list(values)
        for combo in itertools.product(*(values[n] for n in names)):
            choices = dict(zip(names, combo))
            out.append((arm, choices, timeline(P, arm=arm, choices=choices)))
    return out


# --- identity ---------------------------------------------------------------------------------


def test_registry_numbers_and_arm_labels(run_cli):
    # Reference §3.1: NCT04530565 carries the secondary ID EA9181 (MCG); "ARM A (PRE-INDUCTION)"
    # (INCT); blinatumomab = "Arm C" (MCG); chemotherapy = Arm B (seed crossover text).
    code, out, _ = run_cli("list", "--format", "json")
    assert code == 0
    rec = next(r for r in json.loads(out) if r["id"] == P)
    assert (rec["nct"], rec["group"], rec["arms"]) == ("NCT04530565", "EA9181", ["A", "B", "C"])


def test_tki_is_investigators_choice_without_default(timeline):
    # Seed: "ponatinib PO QD or dasatinib PO QD on days 1-21 based on investigator's choice".
    with pytest.raises(RequestError, match="--choose tki=VALUE with one of dasatinib, ponatinib"):
        timeline(P, arm="A")


# --- Arm A: pre-induction, common to every arm ---------------------------------------------


@pytest.mark.parametrize("tki, other", [("dasatinib", "ponatinib"), ("ponatinib", "dasatinib")])
def test_arm_a_is_the_pre_induction_alone(timeline, tki, other):
    # Seed: "Patients receive prednisone PO QD on days 1-21 and ponatinib PO QD or dasatinib PO QD
    # on days 1-21 based on investigator's choice." Days 1-21 = Jan 4 to Jan 24.
    tl = timeline(P, arm="A", choices={"tki": tki})
    days = [START + timedelta(days=k) for k in range(21)]
    for drug in ("prednisone", tki):
        ev = _adm(tl, drug)
        assert [e.date for e in ev] == days, drug
        assert all(e.route == "PO" and e.not_public and e.dose is None and e.time is None for e in ev)
        assert not any(e.optional for e in ev)  # the TKI is required; only which one is a choice
    assert _adm(tl, other) == []
    # Nothing else: no dexamethasone, blinatumomab or chemotherapy in the pre-induction.
    assert {e.drug for e in tl.administrations()} == {"prednisone", tki}
    assert [(c.cycle_id, c.start, c.length_days) for c in tl.cycles] == [("pre-induction.c1", START, 21)]
    # the 21 days end on 2027-01-24; the schedule's last event, on day 22, says what follows
    # (randomization to Arm B or C), so the calendar does not look finished
    last = tl.events[-1]
    assert tl.end == date(2027, 1, 25) and last.date == date(2027, 1, 25)
    assert last.title == "Treatment continues per the treating team" and "Arm B or Arm C" in last.note


@pytest.mark.parametrize("arm", ["B", "C"])
def test_arms_b_and_c_start_with_the_pre_induction(timeline, arm):
    tl = timeline(P, arm=arm, choices=TKI)
    assert (tl.cycles[0].cycle_id, tl.cycles[0].start, tl.cycles[0].length_days) == ("pre-induction.c1", START, 21)
    assert tl.cycles[1].start == INDUCTION
    assert [e.date for e in _adm(tl, "prednisone")] == [START + timedelta(days=k) for k in range(21)]


# --- Arm C: blinatumomab induction -------------------------------------------------------


def test_arm_c_cycles_28_day_reading(timeline):
    # Seed: "CYCLE 1: Patients receive ponatinib PO QD or dasatinib PO QD on days 1-28. Patients
    # also receive dexamethasone PO or IV on day 1 and blinatumomab IV continuously on days 1-28,
    # followed by methotrexate IT on day 29 or 30. CYCLE 2: ... days 1-28 ... Treatment repeats
    # every 28 days for up to 2 cycles". Cycle 1 = Jan 25-Feb 21; cycle 2 = Feb 22-Mar 21.
    tl = timeline(P, arm="C", choices=TKI)
    c1, c2 = date(2027, 1, 25), date(2027, 2, 22)
    assert [(c.cycle_id, c.start, c.length_days) for c in tl.cycles] == [
        ("pre-induction.c1", START, 21),
        ("blina-induction.c1", c1, 28),
        ("blina-induction.c2", c2, 28),
        ("post-induction.c1", date(2027, 3, 22), None),
    ]
    blina = _adm(tl, "blinatumomab")
    assert [(e.date, e.end_date, e.continuous, e.route) for e in blina] == [
        (c1, date(2027, 2, 21), True, "IV"), (c2, date(2027, 3, 21), True, "IV")]
    assert [e.date for e in _adm(tl, "dexamethasone")] == [c1, c2]
    tki = [e.date for e in _adm(tl, "dasatinib") if e.date >= INDUCTION]
    assert tki == [c1 + timedelta(days=k) for k in range(56)]  # days 1-28 of both cycles
    mtx = _adm(tl, "methotrexate")
    # Day 29 of cycle 1 = Feb 22, the first day of cycle 2 in the 28-day reading; window 29-30.
    assert [(e.cycle_id, e.day, e.date, e.route, e.window) for e in mtx] == [
        ("blina-induction.c1", 29, date(2027, 2, 22), "IT", "day 29 to 30")]


def test_arm_c_cycles_42_day_variant_reaches_week_15(timeline):
    # Reference §3.7: "A 42-day cycle (28 days infusion + 14 days off) would give 3 + 12 = 15
    # weeks". Cycle 2 day 1 = Jan 25 + 42 = Mar 8; induction ends on day 105 = week 15: Apr 18,
    # so the next element starts Apr 19 = Jan 4 + 105 days.
    tl = timeline(P, arm="C", choices={**TKI, "cycle_length": "42"})
    assert [(c.cycle_id, c.start, c.length_days) for c in tl.cycles[1:]] == [
        ("blina-induction-42.c1", date(2027, 1, 25), 42),
        ("blina-induction-42.c2", date(2027, 3, 8), 42),
        ("post-induction.c1", date(2027, 4, 19), None),
    ]
    assert date(2027, 4, 19) - START == timedelta(weeks=15)
    mtx = _adm(tl, "methotrexate")
    assert [(e.day, e.date) for e in mtx] == [(29, date(2027, 2, 22))]  # inside cycle 1 now
    # Days 30-42 of each cycle have no blinatumomab, dexamethasone or IT; the TKI, which the record
    # gives on every day of its cycles, is not interrupted (issue 10: no source stops it on days
    # 29-42), so it runs on all 42 days of both cycles: Jan 25 .. Apr 18, 84 daily doses.
    for e in tl.administrations():
        if e.cycle_id.startswith("blina-induction-42") and e.drug != TKI["tki"]:
            assert e.day <= 29 and (e.day == 29) == (e.drug == "methotrexate"), e
    tki = [e.date for e in _adm(tl, TKI["tki"]) if e.cycle_id.startswith("blina-induction-42")]
    assert tki == [date(2027, 1, 25) + timedelta(days=k) for k in range(84)]


def test_28_day_reading_ends_induction_at_week_11(timeline, load):
    # The seed's "every 28 days": 21 + 2 x 28 = 77 days, so the next element starts in week 12
    # (Mar 22 = Jan 4 + 77 days), not at the week-15 MRD: the flagged ambiguity.
    tl = timeline(P, arm="C", choices=TKI)
    assert tl.cycles[-1].start - START == timedelta(days=77)
    p = load(P).protocol
    assert "cycle-length" in {a.id for a in p.ambiguities}
    assert p.decisions["cycle_length"].default == "28" and p.decisions["cycle_length"].kind == "variant"


def test_one_cycle_only(timeline):
    # "up to 2 cycles": with 1 cycle, the IT methotrexate still falls on day 29 of cycle 1, which
    # is day 1 of the element that follows.
    tl = timeline(P, arm="C", choices={**TKI, "blina_cycles": "1"})
    assert [c.cycle_id for c in tl.cycles] == ["pre-induction.c1", "blina-induction.c1", "post-induction.c1"]
    assert [e.date for e in _adm(tl, "methotrexate")] == [date(2027, 2, 22)]
    assert tl.cycles[-1].start == date(2027, 2, 22)


def test_it_methotrexate_only_in_cycle_1(timeline):
    # Only CYCLE 1 is "followed by methotrexate IT on day 29 or 30"; CYCLE 2 has none.
    for choices in ({"cycle_length": "28"}, {"cycle_length": "42"}):
        tl = timeline(P, arm="C", choices={**TKI, **choices})
        assert [e.cycle for e in _adm(tl, "methotrexate")] == [1]


def test_no_blinatumomab_step_up_or_dose_invented(timeline):
    # No dose is public and no step-up is stated: one continuous infusion per cycle, dose
    # "per full protocol".
    for arm, choices, tl in _all_timelines(timeline):
        for e in tl.administrations():
            assert e.not_public and e.dose is None, (arm, choices, e)
            assert e.step is None
        assert not [e for e in tl.events if e.kind == "premedication"]


@pytest.mark.parametrize("route, clock", [("PO", None), ("IV", time(9, 0))])
def test_dexamethasone_route_choice(timeline, route, clock):
    # Seed: "dexamethasone PO or IV on day 1". PO is shown as a daily item without a clock time;
    # IV at the 09:00 start of the infusion.
    tl = timeline(P, arm="C", choices={**TKI, "dex_route": route})
    dex = _adm(tl, "dexamethasone")
    assert [(e.day, e.route, e.time, e.optional) for e in dex] == [(1, route, clock, False)] * 2


# --- Arm B: chemotherapy induction ---------------------------------------------------------


def test_arm_b_chemotherapy_is_a_not_public_skeleton(timeline):
    # Reference §3.3: "TKI + four cycles of the hyper-CVAD backbone" (medium-high); doses, days and
    # cycle length NOT FOUND. The first cycle starts after pre-induction; the next needs its date.
    tl = timeline(P, arm="B", choices=TKI)
    assert [(c.cycle_id, c.start, c.length_days) for c in tl.cycles] == [
        ("pre-induction.c1", START, 21), ("chemo-induction.c1", INDUCTION, None)]
    assert "--actual-start chemo-induction.c2=" in tl.warnings[0]
    ph = [e for e in tl.events if e.kind == "phase" and e.cycle_id == "chemo-induction.c1"]
    assert ph[0].not_public and "hyper-CVAD" in ph[0].note
    tl = timeline(P, arm="B", choices=TKI, actual_starts={**CHEMO_STARTS,
                                                            "post-induction.c1": date(2027, 4, 19)})
    assert [c.cycle_id for c in tl.cycles] == [
        "pre-induction.c1", "chemo-induction.c1", "chemo-induction.c2", "chemo-induction.c3",
        "chemo-induction.c4", "post-induction.c1"]


def test_no_blinatumomab_in_arm_b_induction(timeline):
    # Negative: Arm B is "standard care" chemotherapy; blinatumomab only as MRD-positive crossover.
    for mrd in ("negative", "positive-negative", "positive-positive"):
        tl = timeline(P, arm="B", choices={**TKI, "mrd_path": mrd},
                      actual_starts={**CHEMO_STARTS})
        chemo = [e for e in tl.events if e.cycle_id.startswith("chemo-induction") and e.drug]
        # content not public: only the TKI the record names ("induction therapy with either
        # chemotherapy or blinatumomab, along with steroids and TKI") is a dated line, on day 1 of
        # each of the 4 cycles, dose not public; no chemotherapy or steroid days invented
        assert [(e.drug, e.day, e.not_public, e.dose) for e in chemo] == [(TKI["tki"], 1, True, None)] * 4
    tl = timeline(P, arm="B", choices={**TKI, "mrd_path": "negative"},
                  actual_starts={**CHEMO_STARTS, "post-induction.c1": date(2027, 4, 19)})
    assert _adm(tl, "blinatumomab") == []
    assert tl.cycles[-1].cycle_id == "post-induction.c1"  # terminal: nothing dated after it


def test_arm_b_mrd_positive_crosses_over_to_blinatumomab_as_arm_c(timeline):
    # Seed: "Patients treated on Arm B who remain MRD positive at the end of induction therapy
    # receive blinatumomab based re-induction identical to the regimen described for Arm C.
    # Patients whose molecular test remains MRD positive after re-induction proceed to follow-up".
    re = date(2027, 4, 26)
    tl = timeline(P, arm="B", choices={**TKI, "mrd_path": "positive-positive"},
                  actual_starts={**CHEMO_STARTS, "blina-reinduction.c1": re})
    assert [(c.cycle_id, c.start) for c in tl.cycles[-3:]] == [
        ("blina-reinduction.c1", re), ("blina-reinduction.c2", date(2027, 5, 24)),
        ("off-protocol.c1", date(2027, 6, 21))]  # +28, +28
    gate = [e for e in tl.events if e.kind == "gate" and e.date == re and "re-induction" in e.title]
    assert gate and "MRD-positive" in gate[0].title
    # Identical to Arm C: same drugs on the same cycle days.
    c = timeline(P, arm="C", choices=TKI)

    def shape(t, prefix):
        return sorted((e.cycle, e.day, e.drug, e.route, e.continuous, e.window)
                      for e in t.administrations() if e.cycle_id.startswith(prefix))

    assert shape(tl, "blina-reinduction.") == shape(c, "blina-induction.")
    off = [e for e in tl.events if e.cycle_id == "off-protocol.c1" and e.kind == "gate"]
    assert "MRD-positive after re-induction" in off[0].title


def test_arm_b_reinduction_follows_the_cycle_length_variant(timeline):
    tl = timeline(P, arm="B", choices={**TKI, "mrd_path": "positive-negative", "cycle_length": "42"},
                  actual_starts={**CHEMO_STARTS, "blina-reinduction-42.c1": date(2027, 4, 26)})
    assert [(c.cycle_id, c.start) for c in tl.cycles[-3:]] == [
        ("blina-reinduction-42.c1", date(2027, 4, 26)), ("blina-reinduction-42.c2", date(2027, 6, 7)),
        ("post-reinduction.c1", date(2027, 7, 19))]  # +42, +42


# --- Arm C crossover ------------------------------------------------------------------------


@pytest.mark.parametrize("mrd, last", [("positive-negative", "post-reinduction.c1"),
                                       ("positive-positive", "off-protocol.c1")])
def test_arm_c_mrd_positive_crosses_over_to_chemotherapy(timeline, mrd, last):
    # Seed: "Patients treated on Arm C who remain MRD positive at the end of induction therapy
    # receive chemotherapy based re-induction which is identical to regimen described for Arm B
    # according to patient's age and the pre-specified chemotherapy arm."
    tl = timeline(P, arm="C", choices={**TKI, "mrd_path": mrd})
    assert tl.cycles[-1].cycle_id == "chemo-reinduction.c1" and tl.cycles[-1].start == date(2027, 3, 22)
    ph = [e for e in tl.events if e.kind == "phase" and e.cycle_id == "chemo-reinduction.c1"]
    assert ph[0].not_public and "age" in ph[0].note
    starts = {f"chemo-reinduction.c{k}": date(2027, 4, 12) + timedelta(weeks=3 * (k - 2)) for k in (2, 3, 4)}
    starts[last] = date(2027, 5, 31)
    tl = timeline(P, arm="C", choices={**TKI, "mrd_path": mrd}, actual_starts=starts)
    assert [c.cycle_id for c in tl.cycles[3:]] == [
        "chemo-reinduction.c1", "chemo-reinduction.c2", "chemo-reinduction.c3",
        "chemo-reinduction.c4", last]
    # no blinatumomab after the Arm C induction, and no chemotherapy drug placed: only the TKI
    # line on day 1 of each re-induction cycle (dose not public)
    later = [e for e in tl.administrations() if e.date > date(2027, 3, 22)]
    assert {(e.drug, e.day, e.not_public) for e in later} == {(TKI["tki"], 1, True)}


# --- every path, model change -------------------------------------------------------------


def test_every_arm_and_choice_compiles(timeline):
    tls = _all_timelines(timeline)
    assert len(tls) == 2 + 2 * (2 * 2 * 2 * 2 * 3)
    for arm, choices, tl in tls:
        assert tl.cycles[0].cycle_id == "pre-induction.c1", (arm, choices)
        for a, b in zip(tl.cycles, tl.cycles[1:]):
            assert a.length_days is not None and b.start == a.start + timedelta(days=a.length_days)
        for e in tl.administrations():
            c = next(c for c in tl.cycles if c.cycle_id == e.cycle_id)
            if e.drug != "methotrexate" and c.length_days:  # IT MTX is placed after day 28 on purpose
                assert e.end_date <= c.end, (arm, choices, e)


def test_show_lists_ambiguities_and_not_public(run_cli):
    code, out, _ = run_cli("show", P)
    assert code == 0
    for text in ("cycle-length", "28 vs 42 days", "registry: NCT04530565, EA9181", "tki-lock",
                 "Letters of the two re-induction groups", "A: Pre-induction"):
        assert text in out, text


_MINI = """
id: mini
title: t
version: "1.0"
registry: {}
sources: [{key: s, kind: seed, cite: x}]
decisions:
  pick:
    label: p
    kind: either_or
    choices: [{value: a, label: a}, {value: b, label: b}]
    default: a
    why_default: w
    {marks}
courses:
  c:
    name: c
    length_days: 7
    length_source: s
    items:
      - {{drug: dasatinib, route: PO, dose: {{not_public: true}}, days: "1", when: {{pick: a}}, source: s}}
arms: [{{label: "1", name: n, sequence: [c], source: s}}]
"""


@pytest.mark.parametrize("marks, optional", [("", True), ("marks_optional: false", False),
                                             ("marks_optional: true", True)])
def test_marks_optional_field(marks, optional):
    # Decision.marks_optional (added for EA9181): unset keeps the old rule (either_or items are
    # optional); false says the alternatives are required drugs.
    text = _MINI.replace("{marks}", marks).replace("{{", "{").replace("}}", "}")
    pf = load_text(text, "mini.yaml")
    tl = compile_timeline(pf, ScheduleRequest(start=START))
    assert [e.optional for e in tl.administrations()] == [optional]


def test_nothing_reachable_after_the_terminal_post_induction(timeline):
    # Arm B's MRD-negative path ends at the terminal post-induction element; the re-induction
    # branch later in the arm's sequence must not be reachable by --start-at or --actual-start
    # (compiler: a terminal element ends the expansion).
    with pytest.raises(RequestError, match="--start-at 'blina-reinduction' is not in this arm"):
        timeline(P, arm="B", choices={**TKI, "mrd_path": "negative"}, start_at="blina-reinduction")
    with pytest.raises(RequestError, match="is not a cycle of this timeline"):
        timeline(P, arm="B", choices={**TKI, "mrd_path": "negative"},
                 actual_starts={"blina-reinduction.c1": date(2027, 5, 3)})
    # On the MRD-positive path the same element is reachable.
    tl = timeline(P, arm="B", choices={**TKI, "mrd_path": "positive-negative"}, start_at="blina-reinduction")
    assert [c.cycle_id for c in tl.cycles] == ["blina-reinduction.c1", "blina-reinduction.c2",
                                               "post-reinduction.c1"]
