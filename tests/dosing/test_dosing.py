"""Patient doses against hand-computed numbers. Facts: adult-regimens.md §2-3 (cyclophosphamide
300 mg/m², vincristine 2 mg cap, cytarabine 3 g/m² and 1 g/m² at age >= 60), §7a (blinatumomab
>= 45 kg 9 then 28 mcg/day flat; < 45 kg 5 then 15 mcg/m²/day, max 9 and 28 mcg/day). The
protocol below is built here so the tests do not depend on the shipped files; every expected
number is worked out by hand in the comment next to it, never taken from the code."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regimens.dosing.doses import Measurements, parse_modification, resolve_doses
from regimens.dosing.rounding import load_rules
from regimens.errors import RequestError
from regimens.protocol.loader import load_text
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

PROTOCOL = """
id: dosetest
title: Dosing test protocol
version: "1.0"
registry: {}
sources:
  - {key: adult-2, kind: reference, cite: "adult-regimens.md §2"}
  - {key: adult-3, kind: reference, cite: "adult-regimens.md §3"}
  - {key: adult-7a, kind: reference, cite: "adult-regimens.md §7a"}
courses:
  a:
    name: Course A
    length_days: 42
    length_source: adult-2
    items:
      - drug: cyclophosphamide
        route: IV
        dose: {value: 300, unit: mg/m2}
        days: "1"
        source: adult-2
      - drug: vincristine
        route: IV
        dose: {value: 1.4, unit: mg/m2, cap: 2, cap_unit: mg}
        days: "1"
        source: adult-2
      - drug: cytarabine
        route: IV
        dose:
          value: 3
          unit: g/m2
          bands:
            - {age_ge: 60, value: 1, unit: g/m2, source: adult-3}
        days: "2"
        source: adult-3
      - drug: blinatumomab
        route: IV
        continuous: true
        dose:
          value: 9
          unit: mcg/day
          bands:
            - {weight_kg_lt: 45, value: 5, unit: mcg/m2/day, cap: 9, cap_unit: mcg/day, source: adult-7a}
        days: "1-7"
        source: adult-7a
      - drug: blinatumomab
        route: IV
        continuous: true
        dose:
          value: 28
          unit: mcg/day
          bands:
            - {weight_kg_lt: 45, value: 15, unit: mcg/m2/day, cap: 28, cap_unit: mcg/day, source: adult-7a}
        days: "8-28"
        source: adult-7a
      - drug: mercaptopurine
        route: PO
        dose: {value: 2.5, unit: mg/kg}
        days: "3"
        source: adult-2
      - drug: methotrexate
        route: PO
        dose: {not_public: true}
        days: "4"
        source: adult-2
      - drug: inotuzumab ozogamicin
        route: IV
        dose:
          value: 0.8
          unit: mg/m2
          bands:
            - {age_lt: 18, not_public: true, source: adult-2}
        days: "5"
        source: adult-2
phases:
  main: {name: Main, pattern: [a], cycles: 3, source: adult-2}
arms:
  - {label: "1", name: Only arm, sequence: [main], source: adult-2}
"""

PF = load_text(PROTOCOL, "dosetest.yaml")
START = date(2027, 1, 4)


def _tl(**kw):
    return compile_timeline(PF, ScheduleRequest(start=START, **kw))


def _dose(tl, drug, cycle=1, day=None):
    events = [e for e in tl.events if e.drug == drug and e.cycle == cycle and (day is None or e.day == day)]
    assert events, (drug, cycle, day)
    return events[0]


def resolve(m=None, mods=(), rounding=None, **kw):
    return resolve_doses(_tl(**kw), m, mods, rounding)


# --- BSA formulas ----------------------------------------------------------------------------


def test_mosteller_is_default_and_exact():
    # Mosteller: sqrt(180 × 80 / 3600) = sqrt(4) = 2.0 m²
    assert Measurements(height_cm=180, weight_kg=80).bsa == 2.0
    # sqrt(160 × 50 / 3600) = sqrt(2.2222) = 1.4907 → 1.49 m² (2 decimals, as printed)
    assert Measurements(height_cm=160, weight_kg=50).bsa == 1.49


@pytest.mark.parametrize(("formula", "expected"), [
    # 0.007184 × 50^0.425 × 160^0.725 = 0.007184 × 5.2731 × 39.632 = 1.5013 → 1.50
    ("dubois", 1.50),
    # 0.024265 × 50^0.5378 × 160^0.3964 = 0.024265 × 8.1975 × 7.4770 = 1.4873 → 1.49
    ("haycock", 1.49),
    # 0.0235 × 50^0.51456 × 160^0.42246 = 0.0235 × 7.4857 × 8.5342 = 1.5013 → 1.50
    ("gehan-george", 1.50),
    # 0.0003207 × 160^0.3 × 50000^(0.7285 − 0.0188 × log10 50000 = 0.64016)
    #   = 0.0003207 × 4.5843 × 1019.0 = 1.4981 → 1.50
    ("boyd", 1.50),
])
def test_other_formulas(formula, expected):
    assert Measurements(height_cm=160, weight_kg=50, formula=formula).bsa == expected


def test_every_formula_cites_its_publication():
    from regimens.dosing.bsa import FORMULAS

    years = {"mosteller": "1987", "dubois": "1916", "haycock": "1978", "gehan-george": "1970", "boyd": "1935"}
    for key, year in years.items():
        assert year in FORMULAS[key].citation


# --- plausibility ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "words"), [
    ({"bsa_m2": 0.1}, "BSA 0.1 m² is not plausible (accepted 0.2-3.5 m²)"),
    ({"bsa_m2": 3.6}, "BSA 3.6 m² is not plausible"),
    ({"height_cm": 1.8, "weight_kg": 80}, "looks like metres: 1.8 m = 180 cm"),
    ({"height_cm": 180, "weight_kg": 500}, "weight 500 kg is not plausible"),
    ({"height_cm": 80, "weight_kg": 180}, "do not fit one person"),
    # Mosteller gives 2.0 m² for 180 cm / 80 kg; 1.5 is 25 % away (> 10 % tolerance)
    ({"height_cm": 180, "weight_kg": 80, "bsa_m2": 1.5}, "the BSA given disagrees with height and weight"),
    ({"height_cm": 180}, "height alone gives no BSA"),
    ({"age_years": 130}, "age 130 years is not plausible"),
    ({"weight_kg": float("nan")}, "weight nan kg is not plausible"),
])
def test_implausible_measurements_are_refused(kw, words):
    with pytest.raises(RequestError) as exc:
        Measurements(**kw)
    assert words in str(exc.value)
    assert "\n" not in str(exc.value)


def test_given_bsa_within_tolerance_is_used_as_given():
    # 1.9 vs Mosteller 2.0: 5 % apart (≤ 10 %): accepted, and the given value is used
    m = Measurements(height_cm=180, weight_kg=80, bsa_m2=1.9)
    assert m.bsa == 1.9
    # ... and said out loud, so neither number is dropped without a word
    tl = resolve(m)
    assert "the BSA given (1.9 m²) is used; height and weight give 2 m² (Mosteller)" in tl.warnings
    assert "as given; height 180 cm and weight 80 kg give 2 m² by Mosteller" in \
        _dose(tl, "cyclophosphamide").working.measurement


@given(st.floats(0.2, 3.5), st.floats(0.2, 3.5))
def test_any_bsa_in_range_accepted_outside_refused(inside, cap):
    assert Measurements(bsa_m2=inside, bsa_cap=cap).bsa_used == min(inside, cap)


@given(st.one_of(st.floats(0.0, 0.199), st.floats(3.501, 50)))
def test_bsa_outside_range_refused(bsa):
    with pytest.raises(RequestError):
        Measurements(bsa_m2=bsa)


# --- doses -----------------------------------------------------------------------------------


def test_per_m2_dose_with_working():
    tl = resolve(Measurements(height_cm=180, weight_kg=80, measured_on=date(2027, 1, 2)))
    e = _dose(tl, "cyclophosphamide")
    # 300 mg/m² × 2.0 m² = 600 mg
    assert (e.patient_dose, e.patient_unit) == (600, "mg")
    w = e.working
    assert w.basis == "per_m2"
    assert w.formula == "300 mg/m² × 2 m² = 600 mg"
    assert "Mosteller √(180 cm × 80 kg / 3600)" in w.measurement and "measured 2027-01-02" in w.measurement
    assert (w.unrounded, w.cap, w.rounding, w.change_percent) == (600, None, None, 0)
    assert e.dose == 300 and e.unit == "mg/m2"  # the protocol dose is kept next to it


def test_vincristine_capped_at_2_mg():
    e = _dose(resolve(Measurements(bsa_m2=2.0)), "vincristine")
    # 1.4 mg/m² × 2.0 m² = 2.8 mg > cap 2 mg → 2 mg; (2 − 2.8) / 2.8 = −28.6 %
    assert e.patient_dose == 2
    assert e.working.unrounded == 2.8
    assert e.working.cap == "capped at 2 mg (-28.6 %)"
    assert e.working.change_percent == -28.6


def test_vincristine_below_cap_is_rounded_by_the_shipped_rules():
    e = _dose(resolve(Measurements(bsa_m2=1.2)), "vincristine")
    # 1.4 × 1.2 = 1.68 mg, below the cap; shipped rule: nearest 0.1 mg below 100 mg → 1.7 mg
    # (1.7 − 1.68) / 1.68 = +1.2 %
    assert e.patient_dose == 1.7 and e.working.cap is None
    assert e.working.rounding == "rounded to the nearest 0.1 mg: 1.68 → 1.7 mg (+1.2 %)"
    assert e.working.change_percent == 1.2


def test_blinatumomab_below_45_kg_per_m2():
    tl = resolve(Measurements(weight_kg=30, bsa_m2=1.2))
    step, full = [e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1]
    # 5 mcg/m²/day × 1.2 m² = 6 mcg/day (cap 9 not reached)
    assert (step.patient_dose, step.patient_unit) == (6, "mcg/day")
    # 15 mcg/m²/day × 1.2 m² = 18 mcg/day (cap 28 not reached)
    assert (full.patient_dose, full.patient_unit) == (18, "mcg/day")
    assert full.working.band.startswith("weight < 45 kg: 15 mcg/m²/day instead of 28 mcg/day")
    assert full.working.rounding == "not rounded (blinatumomab is on the never-round list)"


def test_blinatumomab_45_kg_and_above_flat():
    # weight 45 kg is not < 45: the flat label dose, whatever the BSA
    tl = resolve(Measurements(weight_kg=45, bsa_m2=1.4))
    step, full = [e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1]
    assert (step.patient_dose, full.patient_dose) == (9, 28)
    assert full.working.basis == "flat" and full.working.band is None


def test_blinatumomab_below_45_kg_capped_at_large_bsa():
    tl = resolve(Measurements(weight_kg=44, bsa_m2=2.0))
    step, full = [e for e in tl.events if e.drug == "blinatumomab" and e.cycle == 1]
    # 5 × 2.0 = 10 > max 9 → 9 mcg/day; 15 × 2.0 = 30 > max 28 → 28 mcg/day (−6.7 %)
    assert (step.patient_dose, full.patient_dose) == (9, 28)
    assert full.working.cap == "capped at 28 mcg/day (-6.7 %)"


def test_blinatumomab_without_weight_is_unresolved_and_says_why():
    tl = resolve(Measurements(bsa_m2=1.2))
    full = _dose(tl, "blinatumomab", day=8)
    assert full.patient_dose is None
    assert full.working.unresolved == "weight needed (give --weight): the dose depends on weight < 45 kg"
    assert any("blinatumomab" in w and "weight needed" in w for w in tl.warnings)


@pytest.mark.parametrize(("age", "expected"), [
    (60, 2),      # age ≥ 60: 1 g/m² × 2.0 m² = 2 g
    (75, 2),
    (59.9, 6),    # below 60: 3 g/m² × 2.0 m² = 6 g
])
def test_cytarabine_age_band(age, expected):
    e = _dose(resolve(Measurements(bsa_m2=2.0, age_years=age)), "cytarabine")
    assert (e.patient_dose, e.patient_unit) == (expected, "g")


def test_band_dose_is_the_dose_as_written_for_this_patient():
    # outputs print "dose as written" beside the patient dose: at 60 that is the band's 1 g/m²,
    # not the main 3 g/m² (which would read as a 3 g/m² × 2 m² = 2 g arithmetic error)
    e = _dose(resolve(Measurements(bsa_m2=2.0, age_years=60)), "cytarabine")
    assert (e.dose, e.unit) == (1, "g/m2")
    young = _dose(resolve(Measurements(bsa_m2=2.0, age_years=30)), "cytarabine")
    assert (young.dose, young.unit) == (3, "g/m2")


def test_cytarabine_without_age_is_unresolved():
    e = _dose(resolve(Measurements(bsa_m2=2.0)), "cytarabine")
    assert e.patient_dose is None and "age needed" in e.working.unresolved


def test_per_kg_dose():
    e = _dose(resolve(Measurements(weight_kg=70)), "mercaptopurine")
    # 2.5 mg/kg × 70 kg = 175 mg
    assert (e.patient_dose, e.patient_unit) == (175, "mg")
    assert e.working.formula == "2.5 mg/kg × 70 kg = 175 mg"


def test_not_public_dose_stays_unresolved():
    tl = resolve(Measurements(height_cm=180, weight_kg=80, age_years=40))
    mtx = _dose(tl, "methotrexate")
    assert mtx.not_public and mtx.patient_dose is None and mtx.working is None
    # a band that is not public: an adult gets 0.8 × 2.0 = 1.6 mg; a 17-year-old gets nothing calculated
    assert _dose(tl, "inotuzumab ozogamicin").patient_dose == 1.6
    young = _dose(resolve(Measurements(height_cm=180, weight_kg=80, age_years=17)), "inotuzumab ozogamicin")
    assert young.patient_dose is None and "not public" in young.working.unresolved


def test_per_m2_without_bsa_is_unresolved_flat_is_not():
    tl = resolve(Measurements(weight_kg=80, age_years=40))
    assert _dose(tl, "cyclophosphamide").working.unresolved == "BSA needed: give --height and --weight, or --bsa"
    assert _dose(tl, "blinatumomab", day=8).patient_dose == 28


def test_bsa_cap():
    # BSA 2.2 m² with an institution cap of 2.0 m²: 300 × 2.0 = 600 mg (not 660)
    e = _dose(resolve(Measurements(bsa_m2=2.2, bsa_cap=2.0)), "cyclophosphamide")
    assert e.patient_dose == 600
    assert "capped at 2 m² (institution BSA cap)" in e.working.measurement


def test_omitted_dose_gets_no_patient_dose_held_does():
    tl = resolve(Measurements(bsa_m2=2.0), omit={"main.c1:1:cyclophosphamide": "mucositis"},
                 hold={"main.c2:1:cyclophosphamide": "counts"})
    assert _dose(tl, "cyclophosphamide", 1).patient_dose is None
    held = _dose(tl, "cyclophosphamide", 2)
    assert held.status == "held" and held.patient_dose == 600


# --- modifications ---------------------------------------------------------------------------


def test_percentage_modification_from_a_cycle_on():
    mods = [parse_modification("cyclophosphamide=75%@main.c2", "creatinine 1.8")]
    tl = resolve(Measurements(bsa_m2=2.0), mods)
    # cycle 1 untouched: 600 mg; from cycle 2: 75 % × 600 = 450 mg (−25 %)
    assert [_dose(tl, "cyclophosphamide", c).patient_dose for c in (1, 2, 3)] == [600, 450, 450]
    w = _dose(tl, "cyclophosphamide", 2).working
    assert w.modification.startswith("75 % of 600 mg = 450 mg (-25.0 %)")
    assert "reason: creatinine 1.8" in w.modification
    assert w.change_percent == -25


def test_reduce_by_is_the_same_as_give_percent():
    a = parse_modification("cyclophosphamide=-25%", "x")
    b = parse_modification("cyclophosphamide=75%", "x")
    assert a.percent == b.percent == 75


def test_modification_applies_after_the_cap():
    # 1.4 × 2.0 = 2.8 → cap 2 mg → 50 % = 1 mg (a reduction is of the dose the patient would get)
    mods = [parse_modification("vincristine=50%", "neuropathy")]
    assert _dose(resolve(Measurements(bsa_m2=2.0), mods), "vincristine").patient_dose == 1


def test_absolute_modification_and_later_one_replaces_earlier():
    mods = [parse_modification("vincristine=50%", "neuropathy grade 2"),
            parse_modification("vincristine=1.5 mg@main.c3", "improved")]
    tl = resolve(Measurements(bsa_m2=2.0), mods)
    # cycles 1-2: 50 % × 2 mg = 1 mg; cycle 3: 1.5 mg absolute (not 50 % of 1.5)
    assert [_dose(tl, "vincristine", c).patient_dose for c in (1, 2, 3)] == [1, 1, 1.5]


def test_absolute_in_written_unit_recalculates():
    # 200 mg/m² instead of 300: 200 × 2.0 = 400 mg
    mods = [parse_modification("cyclophosphamide=200 mg/m2", "site protocol")]
    assert _dose(resolve(Measurements(bsa_m2=2.0), mods), "cyclophosphamide").patient_dose == 400


@pytest.mark.parametrize(("text", "reason", "words"), [
    ("cyclophosphamide=75%", None, "needs a reason"),
    ("cyclophosphamide", "x", "is not DRUG=75%"),
    ("cyclophosphamide=75 ug", "x", "write '"),
    ("cyclophosphamide=0%", "x", "not plausible"),
])
def test_bad_modification_text(text, reason, words):
    with pytest.raises(RequestError) as exc:
        parse_modification(text, reason)
    assert words in str(exc.value)


@pytest.mark.parametrize(("text", "words"), [
    ("doxorubicin=75%", "no such drug in this timeline"),
    ("cyclophosphamide=75%@main.c9", "not a cycle of this timeline"),
    ("cyclophosphamide=1 mcg", "give the dose in"),
])
def test_modification_must_fit_the_timeline(text, words):
    with pytest.raises(RequestError) as exc:
        resolve(Measurements(bsa_m2=2.0), [parse_modification(text, "x")])
    assert words in str(exc.value)


# --- rounding rules are data -----------------------------------------------------------------


def test_site_rounding_file_replaces_keys():
    site = """
source: site test policy
max_change_percent: 5
drugs:
  cyclophosphamide: {mg: [{increment: 100}]}
never_round: [vincristine]
"""
    rules = load_rules(site, "site.yaml")
    # 300 × 1.91 = 573 mg → nearest 100 = 600 (+4.7 %, within 5 %)
    e = _dose(resolve(Measurements(bsa_m2=1.91), rounding=rules), "cyclophosphamide")
    assert e.patient_dose == 600 and e.working.rounding.endswith("(+4.7 %)")
    # 300 × 1.83 = 549 mg → nearest 100 = 500 would be −8.9 % > 5 %: not rounded
    e = _dose(resolve(Measurements(bsa_m2=1.83), rounding=rules), "cyclophosphamide")
    assert e.patient_dose == 549 and e.working.rounding.startswith("not rounded")
    # vincristine now on the never-round list: 1.4 × 1.2 = 1.68 mg stays 1.68
    assert _dose(resolve(Measurements(bsa_m2=1.2), rounding=rules), "vincristine").patient_dose == 1.68
    # keys the site file does not give stay shipped: blinatumomab is no longer never-round (the
    # site list replaced it), and the default mg tiers still apply
    assert rules.default["mg"][-1].increment == 1


@pytest.mark.parametrize(("text", "words"), [
    ("default: {mcg/m2: [{increment: 1}]}", "not a patient dose unit"),
    ("default: {mg: [{below: 10, increment: 1}]}", "the last tier needs no `below`"),
    ("max_change_percent: 25", "less than or equal to 10"),
    ("- a list", "a rounding file is a YAML mapping"),
])
def test_bad_rounding_file(text, words):
    with pytest.raises(RequestError) as exc:
        load_rules(text, "site.yaml")
    assert words in str(exc.value) and str(exc.value).startswith("site.yaml")


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.floats(0.2, 3.5))
def test_per_m2_dose_grows_with_bsa_until_its_cap(bsa):
    small = _dose(resolve(Measurements(bsa_m2=bsa)), "vincristine")
    larger = _dose(resolve(Measurements(bsa_m2=min(3.5, bsa + 0.1))), "vincristine")
    assert small.working.unrounded == pytest.approx(1.4 * bsa, abs=1e-6)
    assert larger.patient_dose >= small.patient_dose
    assert small.patient_dose <= 2
    if 1.4 * bsa >= 2:
        assert small.patient_dose == 2


@settings(max_examples=40, deadline=None)
@given(st.floats(0.2, 3.5), st.floats(20, 150), st.sampled_from(["cyclophosphamide", "vincristine", "blinatumomab"]))
def test_a_100_percent_modification_changes_nothing(bsa, weight, drug):
    m = Measurements(bsa_m2=bsa, weight_kg=weight, age_years=50)
    plain = resolve(m)
    same = resolve(m, [parse_modification(f"{drug}=100%", "no change")])
    assert [e.patient_dose for e in plain.events] == [e.patient_dose for e in same.events]


# --- command line ----------------------------------------------------------------------------


def test_cli_timeline_json_with_height_and_weight(tmp_path, run_cli):
    path = tmp_path / "dosetest.yaml"
    path.write_text(PROTOCOL)
    code, out, err = run_cli("timeline", str(path), "--start", "2027-01-04", "--height", "180",
                             "--weight", "80", "--age", "61", "--format", "json")
    assert code == 0, err
    events = json.loads(out)["events"]
    cyc = next(e for e in events if e["drug"] == "cyclophosphamide" and e["cycle"] == 1)
    assert (cyc["patient_dose"], cyc["patient_unit"]) == (600, "mg")  # 300 × 2.0
    assert cyc["working"]["formula"] == "300 mg/m² × 2 m² = 600 mg"
    cyt = next(e for e in events if e["drug"] == "cytarabine")
    assert cyt["patient_dose"] == 2  # age 61 ≥ 60: 1 g/m² × 2.0 m²
    vcr = next(e for e in events if e["drug"] == "vincristine")
    assert vcr["patient_dose"] == 2 and vcr["working"]["cap"].startswith("capped at 2 mg")


def test_cli_refuses_implausible_measurement(tmp_path, run_cli):
    path = tmp_path / "dosetest.yaml"
    path.write_text(PROTOCOL)
    out_file = tmp_path / "t.json"
    code, _, err = run_cli("timeline", str(path), "--start", "2027-01-04", "--height", "1.8",
                             "--weight", "80", "-o", str(out_file))
    assert code == 2 and not out_file.exists()
    assert err.count("\n") == 1 and "looks like metres" in err and "Traceback" not in err


def test_cli_modify_needs_reason_and_applies(tmp_path, run_cli):
    path = tmp_path / "dosetest.yaml"
    path.write_text(PROTOCOL)
    base = ("timeline", str(path), "--start", "2027-01-04", "--bsa", "2", "--format", "json")
    code, _, err = run_cli(*base, "--modify", "cyclophosphamide=50%@main.c2")
    assert code == 2 and "needs a reason" in err
    code, out, err = run_cli(*base, "--modify", "cyclophosphamide=50%@main.c2", "--reason", "cystitis",
                             "--hold", "main.c3:1", "--omit", "main.c1:1:vincristine")
    assert code == 0, err
    ev = json.loads(out)["events"]
    cyc = {e["cycle"]: e for e in ev if e["drug"] == "cyclophosphamide"}
    assert (cyc[1]["patient_dose"], cyc[2]["patient_dose"]) == (600, 300)  # 50 % × 600
    assert cyc[3]["status"] == "held" and cyc[3]["status_reason"] == "cystitis"
    vcr1 = next(e for e in ev if e["drug"] == "vincristine" and e["cycle"] == 1)
    assert vcr1["status"] == "omitted" and vcr1["patient_dose"] is None
