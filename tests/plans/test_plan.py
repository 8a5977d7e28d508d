"""Patient plans: round trip, protocol identity, delays and their preview, the plan commands.
Dates are worked out by hand from a 21-day cycle starting Monday 2027-01-04: cycle 2 day 1 =
2027-01-25, cycle 3 day 1 = 2027-02-15, cycle 4 day 1 = 2027-03-08."""

from __future__ import annotations

import json
import os
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given as hgiven
from hypothesis import settings
from hypothesis import strategies as st

from regimens.errors import PlanError
from regimens.plans.diff import diff
from regimens.plans.plan import Given, check_protocol, dump_plan, load_plan, merge
from regimens.protocol.loader import load_text
from regimens.schedule.compiler import compile as compile_timeline

PROTOCOL = """
id: plantest
title: Plan test protocol
version: "1.0"
registry: {}
sources:
  - {key: adult-2, kind: reference, cite: "adult-regimens.md §2"}
courses:
  a:
    name: Course A
    length_days: 21
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
        days: "1, 8"
        source: adult-2
phases:
  main: {name: Main, pattern: [a], cycles: 4, source: adult-2}
arms:
  - {label: "1", name: Only arm, sequence: [main], source: adult-2}
"""
OTHER = PROTOCOL.replace("id: plantest", "id: othertest")
PF = load_text(PROTOCOL, "plantest.yaml")
START = date(2027, 1, 4)


@pytest.fixture
def proto(tmp_path) -> Path:
    p = tmp_path / "plantest.yaml"
    p.write_text(PROTOCOL)
    return p


def _plan(**kw):
    return merge(None, PF, Given(start=START, **kw))


# --- the plan file ---------------------------------------------------------------------------


def test_round_trip_keeps_every_field():
    from regimens.plans.plan import PlanModification

    plan = _plan(choices={}, actual_starts={"main.c2": date(2027, 2, 1)},
                 omit={"main.c1:8:vincristine": "ileus"}, hold={"main.c3": "counts"},
                 modifications=(PlanModification(drug="cyclophosphamide", change="75%",
                                                 from_cycle="main.c2", reason="creatinine 1.8"),),
                 height_cm=180, weight_kg=80, age_years=52, measured_on=date(2027, 1, 2))
    again = load_plan(dump_plan(plan).decode(), "plan.yaml")
    assert again == plan
    assert again.protocol.content_hash == PF.content_hash and again.protocol.version == "1.0"
    assert again.measurements.to_measurements().bsa == 2.0  # sqrt(180 × 80 / 3600)


def test_plan_for_another_protocol_is_refused():
    other = load_text(OTHER, "othertest.yaml")
    with pytest.raises(PlanError) as exc:
        check_protocol(_plan(), other, "plan.yaml")
    assert "plan.yaml is a plan for protocol 'plantest', not 'othertest'" in str(exc.value)


def test_changed_protocol_is_detected():
    changed = load_text(PROTOCOL.replace("days: \"1, 8\"", "days: \"1, 15\""), "plantest.yaml")
    with pytest.raises(PlanError) as exc:
        check_protocol(_plan(), changed, "plan.yaml")
    msg = str(exc.value)
    assert f"sha256 {PF.content_hash[:12]}" in msg and f"sha256 {changed.content_hash[:12]}" in msg
    assert "--accept-protocol" in msg
    bumped = load_text(PROTOCOL.replace('version: "1.0"', 'version: "1.1"'), "plantest.yaml")
    with pytest.raises(PlanError, match=r"v1\.0 .* now v1\.1"):
        check_protocol(_plan(), bumped, "plan.yaml")


@pytest.mark.parametrize(("text", "words"), [
    ("just text", "not a regimens plan file"),
    ("format: regimens-plan/1\nprotocol: {id: x}\n", "protocol.version"),
    ("format: regimens-plan/1\nstart: 2027-01-04\nprotocol: {id: plantest, version: '1.0', content_hash: "
     + "a" * 64 + "}\nmeasurements: {height_cm: 1.8, weight_kg: 80}\n", "looks like metres"),
])
def test_bad_plan_file(text, words):
    with pytest.raises(PlanError) as exc:
        load_plan(text, "plan.yaml")
    assert words in str(exc.value) and str(exc.value).startswith("plan.yaml")


def test_command_line_measurements_replace_the_plans_as_a_set():
    plan = _plan(height_cm=180, weight_kg=80, age_years=52, measured_on=date(2027, 1, 2))
    # a new --bsa drops the old height and weight (never mixed silently); age stays
    newer = merge(plan, PF, Given(bsa_m2=1.8))
    m = newer.measurements
    assert (m.bsa_m2, m.height_cm, m.weight_kg, m.age_years, m.measured_on) == (1.8, None, None, 52, None)


# --- delays ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@hgiven(st.integers(2, 4), st.integers(1, 30))
def test_delaying_cycle_k_moves_only_cycles_k_and_later_and_keeps_uids(k, delay):
    plan = _plan()
    nominal = START + timedelta(days=21 * (k - 1))  # day 1 of cycle k without delays
    delayed = merge(plan, PF, Given(actual_starts={f"main.c{k}": nominal + timedelta(days=delay)}))
    old = compile_timeline(PF, plan.to_request())
    new = compile_timeline(PF, delayed.to_request())
    assert [e.uid for e in old.events] == [e.uid for e in new.events]
    p = diff(old, new)
    assert p.moved and all(int(i.cycle_id.split(".c")[1]) >= k and i.shift_days == delay for i in p.moved)
    assert {i.cycle_id for i in p.stays} == {f"main.c{n}" for n in range(1, k)}
    assert not (p.added or p.removed or p.status_changed)


# --- commands --------------------------------------------------------------------------------


def test_plan_new_writes_an_owner_only_file(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    code, _, err = run_cli("plan", "new", str(proto), "--start", "2027-01-04", "--height", "180",
                           "--weight", "80", "--measured-on", "2027-01-02", "-o", str(out))
    assert code == 0, err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    data = yaml.safe_load(out.read_text())
    assert data["protocol"]["id"] == "plantest" and data["protocol"]["content_hash"] == PF.content_hash
    assert data["arm"] == "1" and data["revision"] == 1
    assert data["measurements"]["height_cm"] == 180
    # a random plan id (calendar UIDs are unique per patient): 32 hex digits, another for another plan
    other = tmp_path / "other.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "-o", str(other))
    assert len(data["id"]) == 32 and int(data["id"], 16) >= 0
    assert yaml.safe_load(other.read_text())["id"] != data["id"]
    # it refuses to overwrite without --force, and leaves the file alone
    before = out.read_bytes()
    code, _, err = run_cli("plan", "new", str(proto), "--start", "2027-02-01", "-o", str(out))
    assert code == 2 and "already exists" in err and out.read_bytes() == before


def test_timeline_from_plan_and_overrides(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "--height", "180", "--weight", "80",
            "-o", str(out))
    code, stdout, err = run_cli("timeline", "--plan", str(out), "--format", "json")
    assert code == 0, err
    cyc = [e for e in json.loads(stdout)["events"] if e["drug"] == "cyclophosphamide"]
    assert cyc[0]["patient_dose"] == 600  # 300 mg/m² × 2.0 m²
    code, stdout, err = run_cli("timeline", "--plan", str(out), "--bsa", "1.5", "--format", "json")
    cyc = [e for e in json.loads(stdout)["events"] if e["drug"] == "cyclophosphamide"]
    assert cyc[0]["patient_dose"] == 450  # options win: 300 × 1.5
    other = tmp_path / "othertest.yaml"
    other.write_text(OTHER)
    code, _, err = run_cli("timeline", str(other), "--plan", str(out))
    assert code == 2 and "is a plan for protocol 'plantest', not 'othertest'" in err


def test_changed_protocol_file_stops_the_timeline(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "-o", str(out))
    proto.write_text(PROTOCOL.replace("days: \"1, 8\"", "days: \"1, 15\""))
    code, _, err = run_cli("timeline", "--plan", str(out))
    assert code == 2 and "was made with plantest v1.0" in err and err.count("\n") == 1
    code, _, err = run_cli("plan", "record", str(out), "--accept-protocol", "--reason", "reviewed", "--by", "tester")
    assert code == 0, err
    code, _, err = run_cli("timeline", "--plan", str(out))
    assert code == 0, err


def test_preview_then_record_a_delay(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "--bsa", "2", "-o", str(out))
    before = out.read_bytes()
    # cycle 3 nominally starts 2027-02-15; actually 2027-02-22: +7 days for cycles 3 and 4
    code, text, err = run_cli("plan", "preview", str(out), "--actual-start", "main.c3=2027-02-22")
    assert code == 0, err
    assert out.read_bytes() == before  # a preview writes nothing
    assert "revision 1 → 2 (not written" in text
    # one line per cycle: first..last event date, before → after, and the count
    assert "main.c3                  +7 days  2027-02-15..2027-02-22 → 2027-02-22..2027-03-01  (4 events)" in text
    assert "main.c4                  +7 days  2027-03-08..2027-03-15 → 2027-03-15..2027-03-22  (4 events)" in text
    code, detail, err = run_cli("plan", "preview", str(out), "--actual-start", "main.c3=2027-02-22", "--detail")
    assert "+7 days  2027-02-15 → 2027-02-22 main.c3 day 1" in detail
    assert "+7 days  2027-03-15 → 2027-03-22 main.c4 day 8" in detail  # 2027-03-08 + 7 = day 8
    assert "main.c1: 4 events, 2027-01-04 to 2027-01-11" in text  # phase, 2 × vincristine, cyclo
    code, js, err = run_cli("plan", "preview", str(out), "--actual-start", "main.c3=2027-02-22",
                            "--format", "json")
    data = json.loads(js)
    # cycles 3 and 4 each: phase event + cyclophosphamide + vincristine days 1 and 8 = 4 events
    assert data["summary"]["moved"] == 8 and data["summary"]["stays"] == 8
    assert {m["shift_days"] for m in data["moved"]} == {7}
    code, text, err = run_cli("plan", "record", str(out), "--actual-start", "main.c3=2027-02-22",
                              "--note", "ANC 0.7", "--by", "tester")
    assert code == 0, err
    assert "revision 1 → 2 (written)" in text
    saved = load_plan(out.read_text(), "plan.yaml")
    assert saved.revision == 2 and saved.actual_starts == {"main.c3": date(2027, 2, 22)}
    assert saved.history[-1].note == "actual start main.c3=2027-02-22"
    assert (saved.history[-1].reason, saved.history[-1].by) == ("ANC 0.7", "tester")
    assert saved.id == yaml.safe_load(before)["id"]  # kept through revisions: calendar UIDs stay
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    code, text, _ = run_cli("plan", "show", str(out))
    assert "revision 2" in text and "Actual start: main.c3 = 2027-02-22" in text
    assert "matches the current protocol file" in text


def test_record_hold_and_modification_shows_status_and_dose(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "--bsa", "2", "-o", str(out))
    code, text, err = run_cli("plan", "record", str(out), "--hold", "main.c2:8:vincristine",
                              "--modify", "cyclophosphamide=75%@main.c3", "--reason", "neutropenia",
                              "--by", "tester")
    assert code == 0, err
    assert "Status changes (1):" in text and "planned → held (neutropenia)" in text
    # cycles 3 and 4: 600 mg → 75 % = 450 mg
    assert text.count("600 mg → 450 mg") == 2
    saved = load_plan(out.read_text(), "plan.yaml")
    assert saved.hold == {"main.c2:8:vincristine": "neutropenia"}
    assert saved.modifications[0].change == "75%" and saved.modifications[0].reason == "neutropenia"


def test_record_refuses_nothing_and_bad_selectors(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "-o", str(out))
    before = out.read_bytes()
    code, _, err = run_cli("plan", "record", str(out), "--by", "tester")
    assert code == 2 and "nothing to record" in err
    code, _, err = run_cli("plan", "record", str(out), "--omit", "main.c9", "--reason", "x", "--by", "tester")
    assert code == 2 and "matches no dose" in err
    code, _, err = run_cli("plan", "record", str(out), "--actual-start", "main.c9=2027-05-01", "--by", "tester")
    assert code == 2 and "not a cycle of this timeline" in err
    assert out.read_bytes() == before


# --- issue 14: record refuses a no-op, keeps the reason and the person, re-weighing --------------


def test_record_refuses_a_change_the_plan_already_holds(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "-o", str(out))
    args = ("plan", "record", str(out), "--actual-start", "main.c3=2027-02-22", "--reason", "counts", "--by", "tester")
    code, _, err = run_cli(*args)
    assert code == 0, err
    once = out.read_bytes()
    code, _, err = run_cli(*args)  # the same delay again: revision 3 would record nothing
    assert code == 2 and "nothing to record" in err and out.read_bytes() == once
    assert load_plan(out.read_text(), "p").revision == 2


def test_reason_and_person_reach_the_history_and_show(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "-o", str(out))
    # the README's own example: the reason "counts" must not be lost
    code, _, err = run_cli("plan", "record", str(out), "--actual-start", "main.c2=2027-01-29",
                           "--reason", "counts", "--by", "J Smith (pharmacist)")
    assert code == 0, err
    h = load_plan(out.read_text(), "p").history[-1]
    assert (h.note, h.reason, h.by) == ("actual start main.c2=2027-01-29", "counts", "J Smith (pharmacist)")
    code, text, _ = run_cli("plan", "show", str(out))
    assert "by J Smith (pharmacist): actual start main.c2=2027-01-29 — counts" in text
    before = out.read_bytes()
    code, _, err = run_cli("plan", "record", str(out), "--actual-start", "main.c3=2027-02-22", "--by", "x")
    assert code == 2 and "--reason" in err and out.read_bytes() == before
    code, _, err = run_cli("plan", "record", str(out), "--actual-start", "main.c3=2027-02-22", "--reason", "x")
    assert code == 2 and "--by NAME" in err and out.read_bytes() == before


def test_reweighing_keeps_the_recorded_height_and_says_so(tmp_path, proto, run_cli):
    out = tmp_path / "plan.yaml"
    run_cli("plan", "new", str(proto), "--start", "2027-01-04", "--height", "180", "--weight", "80",
            "--measured-on", "2027-01-02", "-o", str(out))
    code, _, err = run_cli("plan", "record", str(out), "--weight", "72", "--measured-on", "2027-01-24",
                           "--reason", "weighed before cycle 2", "--by", "tester")
    assert code == 0, err
    assert "height 180 cm kept from the plan (measured 2027-01-02); give --height to change it" in err
    plan = load_plan(out.read_text(), "p")
    m = plan.measurements
    assert (m.height_cm, m.weight_kg, m.measured_on) == (180, 72, date(2027, 1, 24))
    assert "height 180 cm kept from the plan" in plan.history[-1].note
    # Mosteller by hand: sqrt(180 × 72 / 3600) = sqrt(3.6) = 1.897 m²; 300 mg/m² × 1.9 ≈ 569 mg
    code, stdout, err = run_cli("timeline", "--plan", str(out), "--format", "json")
    cyc = [e for e in json.loads(stdout)["events"] if e["drug"] == "cyclophosphamide"]
    assert 565 <= cyc[0]["patient_dose"] <= 572
    # told otherwise: a new height is used
    newer = merge(plan, PF, Given(height_cm=170, weight_kg=72))
    assert newer.measurements.height_cm == 170


def test_a_direct_bsa_replaces_height_and_weight_and_a_weight_replaces_the_bsa():
    plan = _plan(bsa_m2=1.8, age_years=40)
    newer = merge(plan, PF, Given(weight_kg=70))
    assert (newer.measurements.bsa_m2, newer.measurements.weight_kg, newer.measurements.age_years) == (None, 70, 40)


def test_a_new_plan_without_validation_equals_a_validated_one():
    # merge() builds a new plan as plain records, without the schema (speed: no pydantic for runs
    # without a plan file); it must be the plan validation would have given, field by field,
    # and write the same plan file
    from datetime import date as _date

    from regimens.plans import schema
    from regimens.plans.plan import Given, Plan, PlanProtocol, merge
    from regimens.protocol.catalog import Catalog

    for pid in Catalog().ids():
        pf = Catalog().load(pid)
        for g in (Given(start=_date(2027, 1, 4)), Given(start=_date(2027, 3, 1), arm=pf.protocol.arms[-1].label,
                                                        omit={"x": "why"}, actual_starts={"c1": _date(2027, 3, 8)},
                                                        height_cm=170, weight_kg=70, age_years=40)):
            fast = merge(None, pf, g)
            assert type(fast) is Plan and type(fast.protocol) is PlanProtocol
            validated = schema.Plan.model_validate({
                "protocol": {"id": pf.protocol.id, "version": pf.protocol.version, "content_hash": pf.content_hash,
                             "file": pf.path if pf.origin == "file" else None},
                "start": g.start.isoformat(), "arm": g.arm, "omit": dict(g.omit),
                "actual_starts": {k: v.isoformat() for k, v in g.actual_starts.items()},
                "measurements": {"height_cm": g.height_cm, "weight_kg": g.weight_kg, "age_years": g.age_years}
                if g.height_cm else None})
            assert schema.to_plain(validated) == fast
            assert Plan.model_validate(fast.model_dump()) == fast
            assert dump_plan(fast) == dump_plan(schema.to_plain(validated))
