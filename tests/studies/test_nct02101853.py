"""NCT02101853 (COG AALL1331) against its trial record, 001_0d7b029706d4d7df.txt.

The record's arm descriptions, quoted in each test, give the order and length of every element
after Block 1; the reference (cog-alliance-ecog.md §1.3, §1.10) finds no public length for
Block 1 and no drug content for any block. Dates are computed by hand: day 1 of Block 1 is
2027-01-04 (a Monday); where the timeline continues past Block 1, the treating team's date for the
next element is 2027-02-08 (a Monday), and each later element starts on the previous element's
day 1 plus its length (4 weeks = 28 days, 5 weeks = 35 days, 8 weeks = 56 days).
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

P = "nct02101853"
START = date(2027, 1, 4)
NEXT = date(2027, 2, 8)  # day 1 of the first post-randomization element, set by the team

# The record's arm descriptions, verbatim.
ARM_A = ("Patients receive Block 2 over 4 weeks, Block 3 over 4 weeks, and then undergo allogeneic"
         " HSCT.")
ARM_B = ("Patients receive Blinatumomab Block 1 over 5 weeks, Blinatumomab Block 2 over 5 weeks, and"
         " then undergo allogeneic HSCT.")
ARM_C = ("Patients receive Block 2 over 4 weeks, Block 3 over 4 weeks, Continuation 1 over 8 weeks,"
         " Continuation 2 over 8 weeks, and then Maintenance.")
ARM_D = ("Patients receive Block 2 over 4 weeks, Blinatumomab Cycle 1 over 5 weeks, Continuation 1"
         " over 8 weeks, Blinatumomab Cycle 2 over 5 weeks, Continuation 2 over 8 weeks, Blinatumomab"
         " Cycle 3 over 5 weeks, and then Maintenance.")

# First element after Block 1 in each arm (what --actual-start / --start-at name).
FIRST_AFTER_BLOCK_1 = {"A": "block-2", "B": "blina-block-1", "C": "block-2", "D": "block-2"}

# (cycle id, display name, day 1, last day or None, length) after Block 1, hand-computed from
# NEXT = 2027-02-08 (February 2027 has 28 days).
EXPECTED = {
    # ARM_A: Block 2 over 4 weeks, Block 3 over 4 weeks, then HSCT.
    "A": [
        ("block-2.c1", "Block 2", date(2027, 2, 8), date(2027, 3, 7), 28),  # Feb 8 + 27
        ("block-3.c1", "Block 3", date(2027, 3, 8), date(2027, 4, 4), 28),  # Feb 8 + 28; + 27
        ("hsct.c1", "Allogeneic HSCT", date(2027, 4, 5), None, None),  # Mar 8 + 28
    ],
    # ARM_B: Blinatumomab Block 1 over 5 weeks, Blinatumomab Block 2 over 5 weeks, then HSCT.
    "B": [
        ("blina-block-1.c1", "Blinatumomab Block 1", date(2027, 2, 8), date(2027, 3, 14), 35),
        ("blina-block-2.c1", "Blinatumomab Block 2", date(2027, 3, 15), date(2027, 4, 18), 35),
        ("hsct.c1", "Allogeneic HSCT", date(2027, 4, 19), None, None),  # Mar 15 + 35
    ],
    # ARM_C: Block 2 4 wk, Block 3 4 wk, Continuation 1 8 wk, Continuation 2 8 wk, Maintenance.
    "C": [
        ("block-2.c1", "Block 2", date(2027, 2, 8), date(2027, 3, 7), 28),
        ("block-3.c1", "Block 3", date(2027, 3, 8), date(2027, 4, 4), 28),
        ("continuation-1.c1", "Continuation 1", date(2027, 4, 5), date(2027, 5, 30), 56),
        ("continuation-2.c1", "Continuation 2", date(2027, 5, 31), date(2027, 7, 25), 56),
        ("maintenance.c1", "Maintenance", date(2027, 7, 26), None, None),  # Feb 8 + 24 weeks
    ],
    # ARM_D: Block 2 4 wk, Blina Cycle 1 5 wk, Cont 1 8 wk, Blina Cycle 2 5 wk, Cont 2 8 wk,
    # Blina Cycle 3 5 wk, Maintenance.
    "D": [
        ("block-2.c1", "Block 2", date(2027, 2, 8), date(2027, 3, 7), 28),
        ("blina-cycle-1.c1", "Blinatumomab Cycle 1", date(2027, 3, 8), date(2027, 4, 11), 35),
        ("continuation-1.c1", "Continuation 1", date(2027, 4, 12), date(2027, 6, 6), 56),
        ("blina-cycle-2.c1", "Blinatumomab Cycle 2", date(2027, 6, 7), date(2027, 7, 11), 35),
        ("continuation-2.c1", "Continuation 2", date(2027, 7, 12), date(2027, 9, 5), 56),
        ("blina-cycle-3.c1", "Blinatumomab Cycle 3", date(2027, 9, 6), date(2027, 10, 10), 35),
        ("maintenance.c1", "Maintenance", date(2027, 10, 11), None, None),  # Feb 8 + 35 weeks
    ],
}
CHOICES = [{}, {"blinatumomab_dose": "not-public"}, {"blinatumomab_dose": "label"}]


def _continued(timeline, arm, **kw):
    """The timeline with the team's date for the first element after Block 1."""
    first = FIRST_AFTER_BLOCK_1[arm]
    return timeline(P, arm=arm, actual_starts={f"{first}.c1": NEXT}, **kw)


def _cycles(tl):
    return [(c.cycle_id, c.course, c.start, c.end, c.length_days) for c in tl.cycles]


def _phase(tl, cycle_id):
    [e] = [e for e in tl.events if e.kind == "phase" and e.cycle_id == cycle_id]
    return e


# --- the record's sequences and element lengths ---------------------------------------------


@pytest.mark.parametrize("arm", "ABCD")
def test_each_arm_sequence_and_lengths_after_block_1(timeline, arm):
    tl = _continued(timeline, arm)
    assert _cycles(tl)[1:] == EXPECTED[arm]
    assert tl.warnings == ()


def test_arm_names_are_the_records_own(load):
    # "Arm A (HR and IR control)", "Arm B (HR and IR blinatumomab)", "Arm C (LR control)",
    # "Arm D (LR blinatumomab)"
    p = load(P).protocol
    assert [(a.label, a.name) for a in p.arms] == [
        ("A", "HR and IR control"), ("B", "HR and IR blinatumomab"),
        ("C", "LR control"), ("D", "LR blinatumomab"),
    ]
    # arm sources quote the record's sentences
    for arm, text in zip(p.arms, (ARM_A, ARM_B, ARM_C, ARM_D)):
        assert " ".join(text.split()) in " ".join(arm.source.split())


def test_block_lengths_from_the_record(load):
    # "Block 2 over 4 weeks", "Block 3 over 4 weeks", "Blinatumomab Block 1 over 5 weeks",
    # "Blinatumomab Cycle 1 over 5 weeks", "Continuation 1 over 8 weeks"
    courses = load(P).protocol.courses
    assert {cid: c.length_days for cid, c in courses.items()} == {
        "block-1": None, "block-2": 28, "block-3": 28,
        "blina-block-1": 35, "blina-block-2": 35,
        "blina-cycle-1": 35, "blina-cycle-2": 35, "blina-cycle-3": 35,
        "continuation-1": 56, "continuation-2": 56,
        "maintenance": None, "hsct": None,
    }
    assert all(courses[c].length_source.startswith("seed-001") for c in courses
               if courses[c].length_days)


def test_block_3_plus_28_days(timeline):
    # Block 2 is 4 weeks: Block 3 day 1 = Block 2 day 1 + 28 days, whatever Block 2's date.
    for b2 in (date(2027, 2, 8), date(2027, 2, 15), date(2028, 2, 14)):  # 2028 is a leap year
        tl = timeline(P, arm="A", actual_starts={"block-2.c1": b2})
        starts = {c.cycle_id: c.start for c in tl.cycles}
        assert (starts["block-3.c1"] - starts["block-2.c1"]).days == 28
    tl = timeline(P, arm="A", actual_starts={"block-2.c1": date(2028, 2, 14)})
    assert {c.cycle_id: c.start for c in tl.cycles}["block-3.c1"] == date(2028, 3, 13)


# --- Block 1: common to every arm, length not public -----------------------------------------


@pytest.mark.parametrize("arm", "ABCD")
def test_block_1_first_in_every_arm(timeline, arm):
    # "randomized following Block 1": everyone receives Block 1 first.
    tl = _continued(timeline, arm)
    first = tl.cycles[0]
    assert (first.cycle_id, first.course, first.start) == ("block-1.c1", "Block 1", START)
    assert first.length_days is None and first.end is None  # no invented length
    e = _phase(tl, "block-1.c1")
    assert e.not_public and "length not public" in e.note
    assert e.end_date == e.date  # shown on its first day only, no invented end


@pytest.mark.parametrize("arm", "ABCD")
def test_unknown_block_1_length_stops_the_timeline(timeline, arm):
    tl = timeline(P, arm=arm)
    first = FIRST_AFTER_BLOCK_1[arm]
    assert [c.cycle_id for c in tl.cycles] == ["block-1.c1"]
    # every event sits on Block 1 day 1: no date after it is invented
    assert {e.date for e in tl.events} == {START} and {e.end_date for e in tl.events} == {START}
    [w] = tl.warnings
    assert "Block 1: length is not public" in w
    assert f"--actual-start {first}.c1=YYYY-MM-DD" in w and f"--start-at {first}" in w
    [gate] = [e for e in tl.events if e.kind == "gate"]
    name = EXPECTED[arm][0][1]
    assert gate.title == f"Next: {name} (date set by the treating team)"
    assert not [e for e in tl.events if e.kind == "administration"]


@pytest.mark.parametrize("arm", "ABCD")
def test_start_at_next_element(timeline, arm):
    # the second way forward: begin the timeline at the first element after Block 1
    tl = timeline(P, start=NEXT, arm=arm, start_at=FIRST_AFTER_BLOCK_1[arm])
    assert _cycles(tl) == EXPECTED[arm]
    assert tl.warnings == ()
    assert "block-1.c1" not in {e.cycle_id for e in tl.events}


def test_block_1_shared_not_copied(load):
    p = load(P).protocol
    assert p.common == ("block-1",)
    assert all(a.common and "block-1" not in a.sequence for a in p.arms)


# --- HSCT terminal in Arms A and B ----------------------------------------------------------


@pytest.mark.parametrize("arm", "AB")
def test_hsct_is_terminal_and_last(timeline, load, arm):
    # "... and then undergo allogeneic HSCT."
    assert load(P).protocol.courses["hsct"].terminal
    tl = _continued(timeline, arm)
    assert tl.cycles[-1].cycle_id == "hsct.c1"
    hsct_day = tl.cycles[-1].start
    assert max(e.end_date for e in tl.events) == hsct_day  # nothing after HSCT
    assert not [e for e in tl.events if e.date > hsct_day]
    assert _phase(tl, "hsct.c1").not_public  # conditioning not public


@pytest.mark.parametrize("arm", "CD")
def test_no_hsct_in_lr_arms(timeline, arm):
    # Arms C and D end "and then Maintenance", with no transplant
    tl = _continued(timeline, arm)
    assert "hsct" not in {c.course_id for c in tl.cycles}
    assert tl.cycles[-1].cycle_id == "maintenance.c1" and tl.cycles[-1].length_days is None


# --- blinatumomab: where it is and where it is not -------------------------------------------


@pytest.mark.parametrize("arm", "AC")
def test_control_arms_have_no_blinatumomab(timeline, arm):
    # Arms A and C list no "Biological: Blinatumomab"; even the label variant adds nothing there
    for choices in CHOICES:
        tl = _continued(timeline, arm, choices=choices)
        assert not [c for c in tl.cycles if c.course_id.startswith("blina")]
        assert not [e for e in tl.events if e.drug == "blinatumomab" or "Blinatumomab" in e.title]
        assert tl.choices == ()  # the blinatumomab decision does not apply to this arm


def test_arm_d_has_no_block_3_and_arm_b_no_chemotherapy_blocks(timeline):
    d = {c.course_id for c in _continued(timeline, "D").cycles}
    assert "block-3" not in d and "block-2" in d
    b = {c.course_id for c in _continued(timeline, "B").cycles}
    assert not b & {"block-2", "block-3", "continuation-1", "continuation-2", "maintenance"}


@pytest.mark.parametrize("arm", "BD")
def test_blinatumomab_dose_not_public_by_default(timeline, arm):
    tl = _continued(timeline, arm)
    assert tl.choices == (("blinatumomab_dose", "not-public"),)
    assert not [e for e in tl.events if e.kind == "administration"]
    for c in tl.cycles:
        if c.course_id.startswith("blina"):
            e = _phase(tl, c.cycle_id)
            assert e.not_public and "per full protocol" in e.note


@pytest.mark.parametrize("arm", "BD")
def test_blinatumomab_label_variant(timeline, arm):
    # label (adult-regimens.md §7a; cog §1.6 BLIN-LABEL): 15 mcg/m2/day, max 28 mcg/day, below
    # 45 kg; 28 mcg/day from 45 kg; continuous days 1-28. Low confidence for AALL1331.
    tl = _continued(timeline, arm, choices={"blinatumomab_dose": "label"})
    blina = [e for e in tl.events if e.drug == "blinatumomab"]
    blina_cycles = [c for c in tl.cycles if c.course_id.startswith("blina")]
    assert len(blina) == len(blina_cycles) == {"B": 2, "D": 3}[arm]
    for e, c in zip(blina, blina_cycles):
        assert e.cycle_id == c.cycle_id and e.continuous and e.route == "IV"
        assert (e.date - c.start).days == 0  # day 1
        assert (e.end_date - c.start).days == 27  # day 28
        assert (e.dose, e.unit, e.confidence) == (15, "mcg/m2/day", "low")
        spec = e.dose_spec
        assert (spec.cap, spec.cap_unit) == (28, "mcg/day")
        [band] = spec.bands
        assert (band.weight_kg_ge, band.value, band.unit) == (45, 28, "mcg/day")
        assert "not confirmed for AALL1331" in e.note
    if arm == "B":
        # Blinatumomab Block 1: Feb 8 to Mar 7 (day 28 = Feb 8 + 27)
        assert (blina[0].date, blina[0].end_date) == (date(2027, 2, 8), date(2027, 3, 7))


@pytest.mark.parametrize(("arm", "cycle_id", "day2", "day14"), [
    ("B", "blina-block-1.c1", date(2027, 2, 9), date(2027, 2, 21)),  # Feb 8 + 1, Feb 8 + 13
    ("D", "blina-cycle-1.c1", date(2027, 3, 9), date(2027, 3, 21)),  # Mar 8 + 1, Mar 8 + 13
])
def test_pk_samples_days_2_and_14_of_cycle_1_only(timeline, arm, cycle_id, day2, day14):
    # "Blinatumomab Pharmacokinetics (PK) [ Time Frame: Days 2 and 14 of cycle 1 ]"
    for choices in CHOICES:
        pk = [e for e in _continued(timeline, arm, choices=choices).events if "PK" in e.title]
        assert [(e.kind, e.cycle_id, e.day, e.date) for e in pk] == [
            ("lab", cycle_id, 2, day2), ("lab", cycle_id, 14, day14)]


# --- not public is said, not guessed -------------------------------------------------------


@pytest.mark.parametrize("arm", "ABCD")
def test_every_block_content_is_marked_not_public(timeline, arm):
    tl = _continued(timeline, arm)
    for c in tl.cycles:
        assert _phase(tl, c.cycle_id).not_public, c.cycle_id
    # start criteria between elements are not public: a gate on each element after Block 1
    gated = {e.cycle_id for e in tl.events if e.kind == "gate" and e.title.startswith("Before day 1")}
    assert gated == {c.cycle_id for c in tl.cycles[1:]}


@pytest.mark.parametrize("arm", "ABCD")
@pytest.mark.parametrize("choices", CHOICES)
def test_every_arm_compiles_with_every_choice(timeline, arm, choices):
    tl = _continued(timeline, arm, choices=choices)
    assert [c.cycle_id for c in tl.cycles][1:] == [x[0] for x in EXPECTED[arm]]
    assert len({e.uid for e in tl.events}) == len(tl.events)


def test_show_lists_gaps_and_ambiguities(run_cli):
    code, out, _ = run_cli("show", P)
    assert code == 0
    for text in ("Block 1: length", "Maintenance: length", "Blinatumomab Block 1: drug content",
                 "Cranial radiation therapy", "risk-groups", "block-1-length", "pk-cycle-1",
                 "hsct-timing", "maintenance-length", "blinatumomab-dose"):
        assert text in out, text
    code, out, _ = run_cli("list", "--format", "json")
    [rec] = [r for r in json.loads(out) if r["id"] == P]
    assert (rec["nct"], rec["group"], rec["arms"]) == ("NCT02101853", "AALL1331", list("ABCD"))


# --- the real command, as a user runs it ----------------------------------------------------


def test_cli_timeline_stops_after_block_1_with_a_warning(run_cli):
    code, out, err = run_cli("timeline", P, "--start", "2027-01-04", "--arm", "A")
    assert code == 0
    assert "regimens: warning: Block 1: length is not public" in err
    assert "--actual-start block-2.c1=YYYY-MM-DD" in err
    assert "Next: Block 2 (date set by the treating team)" in out
    assert "2027-02" not in out  # no date after Block 1 day 1


def test_cli_actual_start_and_start_at(run_cli):
    code, out, err = run_cli("timeline", P, "--start", "2027-01-04", "--arm", "A",
                             "--actual-start", "block-2.c1=2027-02-08", "--format", "json")
    assert code == 0 and err == ""
    phases = [(e["cycle_id"], e["date"]) for e in json.loads(out)["events"] if e["kind"] == "phase"]
    assert phases == [("block-1.c1", "2027-01-04"), ("block-2.c1", "2027-02-08"),
                      ("block-3.c1", "2027-03-08"), ("hsct.c1", "2027-04-05")]
    code, out, err = run_cli("timeline", P, "--start", "2027-02-08", "--arm", "B",
                             "--start-at", "blina-block-1", "--format", "json")
    assert code == 0 and err == ""
    phases = [(e["cycle_id"], e["date"]) for e in json.loads(out)["events"] if e["kind"] == "phase"]
    assert phases == [("blina-block-1.c1", "2027-02-08"), ("blina-block-2.c1", "2027-03-15"),
                      ("hsct.c1", "2027-04-19")]


@pytest.mark.parametrize(("args", "expect"), [
    ((), "several arms: give --arm with one of A, B, C, D"),
    (("--arm", "E"), "unknown arm 'E'"),
    (("--arm", "B", "--actual-start", "block-2.c1=2027-02-08"), "--actual-start 'block-2.c1'"),
    (("--arm", "D", "--start-at", "block-3"), "--start-at 'block-3' is not in this arm"),
    (("--arm", "B", "--choose", "blinatumomab_dose=28"), "'28' is not a choice of 'blinatumomab_dose'"),
])
def test_cli_bad_input_one_line_exit_2(run_cli, args, expect):
    code, out, err = run_cli("timeline", P, "--start", "2027-01-04", *args)
    assert code == 2 and out == ""
    assert expect in err and len(err.strip().splitlines()) == 1, err


# --- a site completes the protocol in its own directory -------------------------------------


def test_site_file_with_the_same_id_completes_a_block(tmp_path, load):
    """The docs' recipe: copy the file into a site directory, add a `kind: site` source, replace
    a block's `content_not_public` with items. The site file wins; the shipped one is unchanged."""
    shipped = load(P)
    site = tmp_path / "site"
    site.mkdir()
    text = open(shipped.path, encoding="utf-8").read()
    text = text.replace(
        "sources:\n",
        "sources:\n  - key: site-aall1331\n    kind: site\n    cite: AALL1331 protocol document (site copy)\n",
        1)
    marker = "  block-2:\n    name: Block 2\n"
    block2 = text.index(marker)
    end = text.index("\n\n", block2)
    text = text[:block2] + (
        "  block-2:\n    name: Block 2\n    length_days: 28\n"
        "    length_source: seed-001\n"
        "    items:\n"
        "      - drug: vincristine\n        route: IV\n        days: \"1\"\n"
        "        dose: {value: 1.5, unit: mg/m2, cap: 2, cap_unit: mg}\n"
        "        source: site-aall1331 (test value, not a real protocol dose)\n"
    ) + text[end:]
    (site / f"{P}.yaml").write_text(text, encoding="utf-8")
    pf = Catalog(site).load(P)
    assert pf.origin == "site" and pf.content_hash != shipped.content_hash
    tl = compile_timeline(pf, ScheduleRequest(start=START, arm="C",
                                              actual_starts={"block-2.c1": NEXT}))
    [vcr] = [e for e in tl.events if e.drug == "vincristine"]
    assert (vcr.cycle_id, vcr.date, vcr.dose, vcr.source_cite) == (
        "block-2.c1", NEXT, 1.5, "AALL1331 protocol document (site copy) (test value, not a real protocol dose)")
    assert not _phase(tl, "block-2.c1").not_public
    assert _phase(tl, "block-3.c1").not_public  # the rest stays marked
    shutil.rmtree(site)


@pytest.mark.parametrize(("weight", "bsa", "dose", "band"), [
    (20, 0.8, 12, False),   # below 45 kg: 15 mcg/m2/day x 0.8 m2 = 12 mcg/day
    (44, 1.9, 28, False),   # 15 x 1.9 = 28.5 mcg/day, above the label's "max 28 mcg/day"
    (50, 1.5, 28, True),    # from 45 kg: 28 mcg/day flat, whatever the BSA
])
def test_label_variant_patient_dose_band_and_cap(timeline, weight, bsa, dose, band):
    from regimens.dosing.doses import Measurements, resolve_doses

    tl = timeline(P, start=NEXT, arm="B", start_at="blina-block-1",
                  choices={"blinatumomab_dose": "label"})
    tl = resolve_doses(tl, Measurements(weight_kg=weight, bsa_m2=bsa))
    doses = [e for e in tl.events if e.drug == "blinatumomab"]
    assert [(e.patient_dose, e.patient_unit) for e in doses] == [(dose, "mcg/day")] * 2
    assert (doses[0].working.band is not None) == band
    assert (doses[0].working.cap is not None) == (weight == 44)
