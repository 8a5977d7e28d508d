"""Measurements carry their units (issue 10): `70kg`, `154lb`, `175cm`, `5ft9in`, `69in`; a bare
number stays kg or cm. Conversions by definition: 1 lb = 0.45359237 kg, 1 in = 2.54 cm (exact).
Implausible values for the age are judged by a growth reference (CDC 2000 via rcpchgrowth) with
that library's own limits, never by numbers chosen here.

Hand computations:
  154 lb × 0.45359237 = 69.853 → 69.85 kg;   66 lb × 0.45359237 = 29.937 → 29.94 kg
  5 ft 9 in = 69 in × 2.54 = 175.26 cm;      1.75 m = 175 cm
  AALL1331 label band (nct02101853, cog-1-6 BLIN-LABEL): below 45 kg 15 mcg/m²/day, max 28.
  A child of 130 cm and 66 lb: Mosteller √(130 × 29.94 / 3600) = √1.08117 = 1.0398 → 1.04 m²,
  15 × 1.04 = 15.6 mcg/day — not the ≥ 45 kg flat 28 mcg/day that "66" read as kg would give.
  Read as 66 kg: BMI 66 / 1.3² = 39.05 kg/m², far above the CDC range at 8 years.
"""

from __future__ import annotations

import json

import pytest

from regimens.dosing.bsa import Measurements
from regimens.dosing.measurements import parse_height, parse_weight
from regimens.errors import RequestError


def _events(out: str) -> list:
    """The events of a timeline JSON (an object with `events`, or a bare list in older formats)."""
    data = json.loads(out)
    return data["events"] if isinstance(data, dict) else data


@pytest.mark.parametrize(("text", "kg", "given"), [
    ("70", 70, "70 kg"), ("70kg", 70, "70 kg"), ("70 kg", 70, "70 kg"), ("70.5", 70.5, "70.5 kg"),
    ("154lb", 69.85, "154 lb"), ("154 lbs", 69.85, "154 lb"), ("66lb", 29.94, "66 lb"), ("3500 g", 3.5, "3,500 g"),
])
def test_weights(text, kg, given):
    q = parse_weight(text)
    assert (q.value, q.given) == (kg, given)
    assert q.converted == (not given.endswith(" kg"))


@pytest.mark.parametrize(("text", "cm", "given"), [
    ("175", 175, "175 cm"), ("175cm", 175, "175 cm"), ("1.75m", 175, "1.75 m"), ("69in", 175.26, "69 in"),
    ("5ft9in", 175.26, "5 ft 9 in"), ("5'9\"", 175.26, "5 ft 9 in"), ("5 ft 9 in", 175.26, "5 ft 9 in"),
    ("6ft", 182.88, "6 ft"),
])
def test_heights(text, cm, given):
    q = parse_height(text)
    assert (q.value, q.given) == (cm, given)


@pytest.mark.parametrize("text", ["70 stone", "-3", "abc", "5ft13in", "0"])
def test_bad_values_are_refused_in_one_line(text):
    with pytest.raises(RequestError) as exc:
        (parse_height if "ft" in text else parse_weight)(text)
    assert "\n" not in str(exc.value)


def test_converted_values_are_printed_and_in_the_working(run_cli):
    code, out, err = run_cli("timeline", "nct02877303", "--start", "2027-01-04", "--height", "5ft9in",
                             "--weight", "154lb", "--age", "40", "--format", "json")
    assert code == 0, err
    assert "regimens: note: height 5 ft 9 in = 175.26 cm" in err
    assert "regimens: note: weight 154 lb = 69.85 kg" in err
    cyc = next(e for e in _events(out) if e["drug"] == "cyclophosphamide")
    # Mosteller √(175.26 × 69.85 / 3600) = √3.40053 = 1.8441 → 1.84 m²; 300 × 1.84 = 552 mg
    assert cyc["patient_dose"] == 552
    assert "given as 5 ft 9 in = 175.26 cm, 154 lb = 69.85 kg" in cyc["working"]["measurement"]


BLINA = ("timeline", "nct02101853", "--arm", "B", "--choose", "blinatumomab_dose=label", "--start", "2027-01-04",
         "--start-at", "blina-block-1", "--height", "130", "--age", "8", "--format", "json")


def test_a_66_lb_child_gets_the_bsa_band_not_the_45_kg_flat_dose(run_cli):
    code, out, err = run_cli(*BLINA, "--weight", "66lb")
    assert code == 0, err
    blina = next(e for e in _events(out) if e["drug"] == "blinatumomab")
    assert (blina["patient_dose"], blina["patient_unit"]) == (15.6, "mcg/day")
    assert "weight 66 lb = 29.94 kg" in err


def test_the_same_child_written_as_66_is_refused_with_the_pound_hint(run_cli):
    code, out, err = run_cli(*BLINA, "--weight", "66")
    assert code == 2 and out == ""
    assert "BMI 39.05 kg/m² at age 8 years" in err and "advisory limit" in err
    assert "if it is in pounds write 66lb (= 29.94 kg)" in err
    assert "--confirm-measurements" in err


def test_confirmed_unusual_measurement_warns_on_outputs(run_cli):
    code, out, err = run_cli(*BLINA[:-2], "--weight", "66", "--confirm-measurements", "--reason", "weighed twice",
                             "--format", "table")
    assert code == 0, err
    assert "WARNING: MEASUREMENT UNUSUAL FOR AGE, confirmed (reason: weighed twice): BMI beyond the advisory" in out


def test_beyond_the_error_limit_is_refused_even_when_confirmed():
    # a 1-year-old of 30 kg: weight-for-age SDS ≈ +10.8 (boys) / +8.7 (girls), beyond rcpchgrowth's ±8
    with pytest.raises(RequestError) as exc:
        Measurements(weight_kg=30, age_years=1, confirmed="sure")
    assert "not plausible for the age" in str(exc.value)


def test_the_limits_are_the_libraries_own():
    from rcpchgrowth.constants import validation_constants as vc

    from regimens.dosing import growth

    _, limits = growth._lib()
    assert limits["weight"] == (vc.MINIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS, vc.MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS,
                                vc.MINIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS, vc.MAXIMUM_HEIGHT_WEIGHT_OFC_ERROR_SDS)
    assert limits["bmi"][:2] == (vc.MINIMUM_BMI_ADVISORY_SDS, vc.MAXIMUM_BMI_ADVISORY_SDS)


def test_adults_are_not_judged_by_a_childrens_reference():
    assert Measurements(height_cm=175, weight_kg=176, age_years=40).growth() == []


def test_plan_file_accepts_units(run_cli, tmp_path):
    plan = tmp_path / "p.yaml"
    code, _, err = run_cli("plan", "new", "nct02877303", "--start", "2027-01-04", "--height", "69in",
                           "--weight", "154lb", "--age", "40", "-o", str(plan))
    assert code == 0, err
    text = plan.read_text()
    assert "weight_kg: 69.85" in text and "weight_given: 154 lb" in text and "height_given: 69 in" in text
    # a hand-written plan may give the unit in the number's place
    edited = text.replace("weight_kg: 69.85", "weight_kg: 176 lb").replace("  weight_given: 154 lb\n", "")
    plan.write_text(edited)
    code, out, err = run_cli("timeline", "--plan", str(plan), "--format", "json")
    assert code == 0, err
    cyc = next(e for e in _events(out) if e["drug"] == "cyclophosphamide")
    # 176 lb = 79.83 kg; Mosteller √(175.26 × 79.83 / 3600) = √3.88643 = 1.9714 → 1.97 m² → 591 mg
    assert cyc["patient_dose"] == 591


def test_batch_rows_take_units_and_get_the_same_checks(tmp_path, run_cli):
    csv = tmp_path / "p.csv"
    csv.write_text("id,protocol,start,arm,choices,height,weight,age,outputs\n"
                   "lb,nct02101853,2027-01-04,B,blinatumomab_dose=label,130,66lb,8,json\n"
                   "kg,nct02101853,2027-01-04,B,blinatumomab_dose=label,130,66,8,json\n")
    code, _, err = run_cli("batch", str(csv), "--outdir", str(tmp_path / "out"))
    assert code != 0
    assert (tmp_path / "out" / "lb.json").exists() and not (tmp_path / "out" / "kg.json").exists()
    assert "advisory limit" in err


def test_sheet_header_shows_the_value_as_given(run_cli):
    code, out, err = run_cli("sheet", "nct02877303", "--start", "2027-01-04", "--height", "5ft9in", "--weight",
                             "154lb", "--age", "40", "--kind", "pharmacist", "--cycle", "intensive.c1",
                             "--format", "html")
    assert code == 0, err
    assert "175.26 cm (given as 5 ft 9 in)" in out and "69.85 kg (given as 154 lb)" in out
