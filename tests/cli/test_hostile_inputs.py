"""Hostile input to every command (issue 11 items 4, 7, 12, 14, 16): one line and exit 2, never
exit 1; CSV cells are never formulas; empty outputs say so; batch messages carry no other
measurements. The fuzz test is bounded (examples and seconds) so CI stays fast."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regimens.cli import main

P = "nct03114865"
START = ("--start", "2027-01-04")
SRC = str(Path(__file__).parents[2] / "src")


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        code = main(list(args))
        stdout.flush()
    return code, out.getvalue().decode("utf-8", "replace"), err.getvalue()


def _one_bad_input_line(code: int, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) >= 1


@pytest.mark.parametrize("extra", [
    ("--bsa", "1e30"), ("--bsa", "inf"), ("--bsa", "nan"), ("--weight", "1e30", "--height", "170"),
    ("--age", "1e30", "--bsa", "1.8"), ("--bsa-cap", "1e30", "--bsa", "1.8"),
])
def test_huge_and_non_finite_measurements_are_one_line(extra):
    code, _, err = _run("timeline", P, *START, *extra)
    _one_bad_input_line(code, err)
    # refused as implausible, or (a weight of 1e30 read as text with a unit) as not a weight at all
    assert len(err.splitlines()) == 1 and ("not plausible" in err or "is not a weight" in err), err


@pytest.mark.parametrize("when", ["9999-12-01", "0001-01-01", "9999-12-31"])
def test_dates_near_the_ends_of_the_calendar_are_refused(when):
    code, _, err = _run("timeline", P, "--start", when)
    _one_bad_input_line(code, err)
    assert "outside the years 1900-2199" in err


@pytest.mark.parametrize("option", ["--plan", "--rounding"])
def test_dev_zero_as_an_input_file(option):
    code, _, err = _run("timeline", P, *START, option, "/dev/zero")
    _one_bad_input_line(code, err)
    assert "larger than 20 MB" in err


def test_dev_zero_as_the_patients_file(tmp_path):
    code, _, err = _run("batch", "/dev/zero", "--outdir", str(tmp_path / "o"))
    _one_bad_input_line(code, err)


@pytest.mark.parametrize("redirect", ["full", "closed"])
@pytest.mark.parametrize("command", [("list",), ("timeline", P, *START), ("show", P)])
def test_stdout_full_or_closed_is_one_line(redirect, command):
    env = {**os.environ, "PYTHONPATH": SRC}
    code = "import sys; from regimens.cli import main; sys.exit(main())"
    if redirect == "full":
        with open("/dev/full", "wb") as full:
            p = subprocess.run([sys.executable, "-c", code, *command], env=env, stdout=full,
                               stderr=subprocess.PIPE, timeout=120)
    else:
        p = subprocess.run([sys.executable, "-c", f"import os; os.close(1); {code}", *command], env=env,
                           stderr=subprocess.PIPE, timeout=120)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert len(err.splitlines()) == 1 and "standard output" in err and "Traceback" not in err


# --- item 7: CSV formula injection -------------------------------------------------------------


def test_csv_cells_that_would_be_formulas_are_neutralised():
    payload = '=HYPERLINK("http://example.invalid","x")'
    code, out, err = _run("timeline", P, *START, "--format", "csv", "--omit", "maintenance.c1:1",
                          "--reason", payload)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    reasons = [r["status_reason"] for r in rows if r["status"] == "omitted"]
    assert reasons and all(r == "'" + payload for r in reasons)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value


@pytest.mark.parametrize("text", ["+1", "-2+3", "@SUM(A1)", "\tcmd", "=1"])
def test_csv_cell_rule(text):
    from regimens.exporters.tabular import csv_cell

    assert csv_cell(text) == "'" + text
    assert csv_cell(-3) == -3 and csv_cell("ok") == "ok"


# --- item 12: batch messages carry no other measurements ------------------------------------


def test_batch_bsa_disagreement_and_bmi_messages_name_no_values(tmp_path):
    patients = tmp_path / "p.csv"
    patients.write_text("id,protocol,start,height,weight,bsa,outputs\n"
                        f"a,{P},2027-01-04,171.3,80.7,1.1,json\n"
                        f"b,{P},2027-01-04,91.7,180.3,,json\n")
    code, _, err = _run("batch", str(patients), "--outdir", str(tmp_path / "o"), "--jobs", "1")
    assert code == 2
    assert "disagrees" in err and "do not fit one person" in err
    for value in ("171.3", "80.7", "1.1", "91.7", "180.3"):
        assert value not in err, err


# --- item 14: nothing to show is said in the output itself -------------------------------------


def test_nurse_sheet_with_nothing_to_give_says_so():
    # AALL1331 arm A: no administration is public (seed record 001), so there is nothing to sign
    code, out, err = _run("sheet", "nct02101853", *START, "--arm", "A", "--kind", "nurse")
    assert code == 0, err
    assert "Nothing to give or sign" in out and "Given by" not in out


def test_batch_rows_with_an_empty_nurse_sheet_write_all_their_outputs(tmp_path):
    patients = tmp_path / "p.csv"
    patients.write_text("id,protocol,arm,start\n" + "".join(f"r{i},nct02101853,A,2027-01-04\n" for i in range(3)))
    out = tmp_path / "o"
    code, _, err = _run("batch", str(patients), "--outdir", str(out), "--jobs", "1")
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert "r0.nurse.html" in names and "r0.json" in names and "r0.patient.html" in names
    assert "Nothing to give or sign" in (out / "r0.nurse.html").read_text()


# --- item 16 --------------------------------------------------------------------------------


def test_plan_file_with_duplicate_keys_is_refused(tmp_path):
    plan = tmp_path / "p.yaml"
    code, _, err = _run("plan", "new", P, *START, "-o", str(plan))
    assert code == 0, err
    plan.write_text(plan.read_text() + "start: 2030-01-01\n")
    code, _, err = _run("plan", "show", str(plan))
    assert code == 2 and len(err.splitlines()) == 1 and "duplicate key 'start'" in err


def test_bad_tz_in_a_batch_is_reported_once(tmp_path):
    patients = tmp_path / "p.csv"
    patients.write_text("protocol,start\n" + f"{P},2027-01-04\n" * 5)
    code, _, err = _run("batch", str(patients), "--outdir", str(tmp_path / "o"), "--tz", "Mars/Olympus")
    assert code == 2 and err.count("Mars/Olympus") == 1 and len(err.splitlines()) == 1


def test_actual_start_of_the_first_cycle_before_start_is_refused():
    code, _, err = _run("timeline", P, *START, "--actual-start", "maintenance.c1=2027-01-01")
    assert code == 2 and "is before --start 2027-01-04" in err


# --- item 4: a bounded fuzz over every command's inputs finds no exit 1 -----------------------

_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "-", "1e30", "-1", "0", "nan", "inf", "9" * 400, "2027-02-30", "9999-12-31",
                     "0001-01-01", "A", "maintenance.c1", "x=y", "=", "../../etc/passwd", "\x1b[31m", "\u202e"]),
)
_NUM = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                 st.sampled_from(["1e30", "-5", "0", "170", "70", "1.8", "45"]))
_OPTIONS = {
    "--start": st.one_of(_TEXT, st.dates().map(str)), "--arm": _TEXT, "--choose": _TEXT,
    "--actual-start": _TEXT, "--start-at": _TEXT, "--height": _NUM, "--weight": _NUM, "--bsa": _NUM,
    "--age": _NUM, "--bsa-cap": _NUM, "--measured-on": _TEXT, "--omit": _TEXT, "--hold": _TEXT,
    "--modify": _TEXT, "--reason": _TEXT, "--clinic-start": _TEXT, "--tid-times": _TEXT,
}
_COMMANDS = {
    "timeline": ("--format", ["table", "json", "csv"]),
    "ics": ("--tz", ["America/Chicago", "UTC", "Nowhere/Else", ""]),
    "sheet": ("--kind", ["nurse", "pharmacist", "patient"]),
}


@st.composite
def _command_line(draw):
    command = draw(st.sampled_from(sorted(_COMMANDS)))
    protocol = draw(st.sampled_from([P, "nct02877303", "nct02101853", "nope", "/dev/null", ""]))
    args = [command, protocol]
    flag, values = _COMMANDS[command]
    args += [flag, draw(st.sampled_from(values))]
    for option in draw(st.lists(st.sampled_from(sorted(_OPTIONS)), max_size=5, unique=True)):
        args += [option, draw(_OPTIONS[option])]
    return args


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_command_line())
def test_fuzz_no_command_line_gives_an_internal_error(args):
    args = [a.replace("\x00", "") for a in args]  # a NUL cannot be passed in argv
    code, _, err = _run(*args)
    assert code in (0, 2), (args, err)
    assert "Traceback" not in err and "internal error" not in err, (args, err)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["revision", "start", "arm", "choices", "measurements", "omit"]),
                       st.one_of(_TEXT, _NUM, st.integers(), st.floats(), st.lists(_TEXT, max_size=2)),
                       max_size=3))
def test_fuzz_plan_files_give_no_internal_error(tmp_path_factory, changes):
    import yaml

    d = tmp_path_factory.mktemp("plan")
    plan = d / "p.yaml"
    code, _, err = _run("plan", "new", P, *START, "--height", "170", "--weight", "70", "-o", str(plan))
    assert code == 0, err
    data = yaml.safe_load(plan.read_text())
    data.update(changes)
    plan.write_text(yaml.safe_dump(data))
    for args in (("plan", "show", str(plan)), ("timeline", "--plan", str(plan))):
        code, _, err = _run(*args)
        assert code in (0, 2), (changes, err)
        assert "internal error" not in err, (changes, err)
