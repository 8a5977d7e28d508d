"""Eligibility facts a record states are data and are enforced (issue 10). NCT03114865
(004_94d9d143a40d8968.txt): "Exclusion Criteria ... - Weight <45 kg" and "Inclusion Criteria ...
- Age ≥18 years"; adult-regimens.md §8: "Weight <45 kg is an exclusion, so only flat dosing
applies". The shipped file's blinatumomab doses are the record's flat 9 and 28 mcg/day."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regimens.protocol.catalog import Catalog

SEED = Path("/work/shared/seeds/004_94d9d143a40d8968.txt")
BASE = ("timeline", "nct03114865", "--start", "2027-01-04", "--format", "json")


def _events(out: str) -> list:
    """The events of a timeline JSON (an object with `events`, or a bare list in older formats)."""
    data = json.loads(out)
    return data["events"] if isinstance(data, dict) else data


def test_limits_are_in_the_protocol_with_their_source():
    limits = {lim.id: lim for lim in Catalog(None).load("nct03114865").protocol.eligibility}
    assert limits["weight"].weight_kg_lt == 45 and limits["weight"].source.startswith("seed-004")
    assert limits["age"].age_lt == 18 and limits["age"].source.startswith("seed-004")
    if SEED.exists():  # the record's own words (CI has shared/ beside the clone)
        text = SEED.read_text(encoding="utf-8")
        assert "- Weight <45 kg" in text and "- Age ≥18 years" in text


@pytest.mark.parametrize(("args", "limit"), [
    (("--weight", "44.9", "--height", "160", "--age", "30"), "weight 44.9 kg < 45 kg"),
    (("--weight", "44", "--height", "150", "--age", "30"), "weight 44 kg < 45 kg"),
    (("--weight", "70", "--age", "17"), "age 17 years < 18 years"),
])
def test_outside_a_limit_is_refused_without_confirmation(run_cli, args, limit):
    code, out, err = run_cli(*BASE, *args)
    assert code == 2 and out == ""
    assert limit in err and "--confirm-outside" in err
    assert len([x for x in err.splitlines() if x.startswith("regimens: error")]) == 1 and "Traceback" not in err


def test_at_the_limit_is_inside(run_cli):
    # "<45 kg" excludes below 45: 45 kg itself is eligible, flat 9 mcg/day
    code, out, err = run_cli(*BASE, "--weight", "45", "--height", "160", "--age", "18")
    assert code == 0, err
    assert "OUTSIDE ELIGIBILITY" not in err
    blina = [e for e in _events(out) if e["drug"] == "blinatumomab"]
    assert blina[0]["patient_dose"] == 9 and blina[0]["patient_unit"] == "mcg/day"


def test_confirmed_outside_warns_on_every_output(run_cli, tmp_path):
    args = ("nct03114865", "--start", "2027-01-04", "--weight", "40", "--height", "150", "--age", "30",
            "--confirm-outside", "weight", "--reason", "PI approval on file")
    code, out, err = run_cli("timeline", *args, "--format", "table")
    assert code == 0 and "WARNING: OUTSIDE ELIGIBILITY (weight): the patient is outside this limit" in out
    assert "40 kg" not in out.split("\n\n")[0]  # the header warning names the limit, not the weight
    assert "reason: PI approval on file" in out
    code, out, _ = run_cli("ics", *args, "--tz", "America/Chicago", "--audience", "staff")
    assert code == 0 and "OUTSIDE ELIGIBILITY (weight)" in out.replace("\r\n ", "")
    for kind in ("nurse", "pharmacist", "patient"):
        code, out, _ = run_cli("sheet", *args, "--kind", kind, "--format", "html")
        expect = "outside one of the study's limits (weight)" if kind == "patient" else "OUTSIDE ELIGIBILITY (weight)"
        assert code == 0 and expect in out.replace("&#39;", "'"), kind
    plan = tmp_path / "p.yaml"
    code, _, err = run_cli("plan", "new", *args, "-o", str(plan))
    assert code == 0, err
    assert "confirmed_outside:" in plan.read_text()
    code, out, err = run_cli("timeline", "--plan", str(plan), "--format", "table")
    assert code == 0 and "OUTSIDE ELIGIBILITY (weight)" in out


def test_unknown_limit_name_is_refused(run_cli):
    code, _, err = run_cli(*BASE, "--weight", "70", "--confirm-outside", "wieght", "--reason", "x")
    assert code == 2 and "no such limit" in err and "age, weight" in err


def test_batch_row_outside_a_limit_fails_alone(tmp_path, run_cli):
    csv = tmp_path / "p.csv"
    csv.write_text("id,protocol,start,weight,height,age,outputs\n"
                   "ok,nct03114865,2027-01-04,70,175,40,json\n"
                   "small,nct03114865,2027-01-04,40,150,40,json\n")
    code, out, err = run_cli("batch", str(csv), "--outdir", str(tmp_path / "out"))
    assert code != 0
    assert (tmp_path / "out" / "ok.json").exists() and not (tmp_path / "out" / "small.json").exists()
    assert "weight 40 kg < 45 kg" in err


def test_show_lists_the_limits(run_cli):
    code, out, _ = run_cli("show", "nct03114865")
    assert code == 0
    assert "ELIGIBILITY LIMITS" in out and "weight: Exclusion Criteria: Weight <45 kg <seed-004 (exclusion criteria)>" in out
