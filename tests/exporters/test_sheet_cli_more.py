"""Command-line details of issue 14: zones, arms, ids, decimal commas, far start years,
contradictions, a broken site file, semicolon CSV and shell completion."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

P = "nct03114865"
START = ("--start", "2027-01-04")


@pytest.mark.parametrize("tz, words", [
    ("EST", ("fixed offset", "America/New_York")),
    ("MST", ("fixed offset", "America/Phoenix")),
    ("chicago", ("did you mean --tz America/Chicago",)),
    ("America/Chicgo", ("did you mean --tz America/Chicago",)),
])
def test_zone_refused_with_the_area_city_meant(run_cli, tmp_path, tz, words):
    code, _, err = run_cli("ics", P, *START, "--tz", tz, "-o", str(tmp_path / "c.ics"))
    assert code == 2 and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err
    assert not (tmp_path / "c.ics").exists()


def test_explicit_utc_is_still_allowed(run_cli, tmp_path):
    code, _, err = run_cli("ics", P, *START, "--tz", "UTC", "-o", str(tmp_path / "c.ics"))
    assert code == 0, err


def test_arm_any_case(run_cli):
    code, out, err = run_cli("timeline", "nct04530565", *START, "--arm", "c", "--choose", "tki=dasatinib",
                             "--format", "json")
    assert code == 0, err
    import json

    assert json.loads(out)["timeline"]["arm"] == "C"


@pytest.mark.parametrize("args, words", [
    (("timeline", "nct0311486", *START), ("did you mean nct03114865",)),
    (("sheet", P, *START, "--cycle", "maintenance.c3", "-o", "X.html"), ("did you mean maintenance.c2",)),
    (("timeline", P, *START, "--weight", "80,5"), ("decimal point", "80.5")),
    (("ics", P, *START, "--tz", "America/Chicago", "--no-reminders", "--reminder", "15", "-o", "X.ics"),
     ("--no-reminders and --reminder",)),
])
def test_one_line_with_the_fix(run_cli, tmp_path, args, words):
    args = [a.replace("X.", str(tmp_path / "x.")) for a in args]
    code, _, err = run_cli(*args)
    assert code == 2 and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err
    assert list(tmp_path.iterdir()) == []


def test_far_start_year_warns(run_cli):
    code, _, err = run_cli("timeline", P, "--start", "2072-01-04", "--format", "json")  # for 2027
    assert code == 0
    assert "--start 2072-01-04 is" in err and "check the year" in err


def test_help_example_works_on_a_utc_machine(run_cli, tmp_path):
    code, out, _ = run_cli("--help")
    line = next(x for x in out.splitlines() if "regimens ics" in x)
    args = line.split()[1:]
    args[args.index("-o") + 1] = str(tmp_path / "calendar.ics")
    code, _, err = run_cli(*args, env={"TZ": "UTC", "REGIMENS_TZ": ""})
    assert code == 0, err


def test_one_broken_site_file_is_reported_and_the_others_list(run_cli, tmp_path):
    (tmp_path / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    code, out, err = run_cli("list", "--protocols", str(tmp_path))
    assert code == 2
    assert "broken" in err and len(err.splitlines()) == 1
    for pid in ("nct02101853", "nct02877303", "nct03114865", "nct03739814", "nct04530565"):
        assert pid in out


def test_semicolon_csv_is_read_and_a_decimal_comma_gets_the_hint(run_cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("id;protocol;start;height;weight\np1;nct03114865;2027-01-04;170;80,5\n"
                 "p2;nct03114865;2027-01-04;170;80\n", encoding="utf-8")
    code, _, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "out"), "--outputs", "json")
    assert code == 2
    assert "row 2: weight '80,5': use a decimal point" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p2.json"]


@pytest.mark.parametrize("words, want", [
    ("regimens sheet nct", {"nct02101853", "nct02877303", "nct03114865", "nct03739814", "nct04530565"}),
    ("regimens sheet nct02101853 --arm ", {"A", "B", "C", "D"}),
    ("regimens sheet nct03114865 --choose cyc", {f"cycles={n}" for n in range(1, 7)}),
    ("regimens sheet nct02877303 --cycle intensive", {f"intensive.c{n}" for n in range(1, 5)}),
])
def test_shell_completion(words, want):
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(cword), "_REGIMENS_COMPLETE": "bash_complete"}
    code = "import sys; from regimens.cli import main; sys.exit(main())"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False)
    got = {line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line}
    assert got == want, proc.stderr
