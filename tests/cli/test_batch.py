"""`regimens batch`: one patient per CSV row, failures reported per row, nothing partial."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from regimens import batch
from regimens.batch import BatchContext, PatientRow, RowError, read_patients
from regimens.errors import RequestError

P = "nct03114865"
TZ = {"REGIMENS_TZ": "America/Chicago", "SOURCE_DATE_EPOCH": "1800000000"}
HEADER = "id,protocol,arm,start,choices,height,weight,age,outputs\n"


# --- reading the CSV --------------------------------------------------------------------------

def test_rows_are_numbered_as_a_spreadsheet_shows_them():
    rows = read_patients(HEADER + f"a1,{P},,2027-01-04,cycles=3,170,70,40,\n\n,{P},1,2027-02-01,,,,,json;csv\n")
    a, b = rows
    assert isinstance(a, PatientRow) and isinstance(b, PatientRow)
    assert (a.number, a.stem, a.start, dict(a.choices)) == (2, "a1", date(2027, 1, 4), {"cycles": "3"})
    assert dict(a.measurements) == {"height_cm": 170, "weight_kg": 70, "age_years": 40}
    # the blank line (row 3) is skipped; the next patient is row 4 and has no id
    assert (b.number, b.stem, b.arm, b.outputs) == (4, "row-0004", "1", ("json", "csv"))


@pytest.mark.parametrize("line, message", [
    (f"x,{P},,2027-02-30,,,,,", "row 2: start '2027-02-30' is not a real date; write YYYY-MM-DD"),
    (f"x,{P},,27/01/2027,,,,,", "row 2: start '27/01/2027' is not in YYYY-MM-DD form (e.g. 2027-01-04)"),
    (f"x,{P},,,,,,,", "row 2: start is empty; write YYYY-MM-DD (e.g. 2027-01-04)"),
    (f"x,{P},,2027-01-04,,,70 stone,,", "row 2: weight '70 stone' is not a weight; write kilograms (70 or 70kg) or pounds (154lb)"),
    (f"x,{P},,2027-01-04,,,-3,,", "row 2: weight '-3' is not a weight; write kilograms (70 or 70kg) or pounds (154lb)"),
    (f"x,{P},,2027-01-04,,0,,,", "row 2: height '0' must be a positive number"),
    (f"x,{P},,2027-01-04,cycles,,,,", "row 2: choice 'cycles' must be NAME=VALUE (several: a=1; b=2)"),
    (f"x,{P},,2027-01-04,,,,,pdf", "row 2 outputs: unknown output kind 'pdf'; use some of json, csv, ics, nurse, pharmacist, patient"),
    (f"../x,{P},,2027-01-04,,,,,", "row 2: id must be letters, digits, '-', '_' or '.', at most 64, starting with a letter or digit (it names the output files)"),
    (f"x,{P},,2027-01-04", "row 2: 4 values for 9 columns; check for a stray comma or a missing quote"),
    (",,,2027-01-04,,,,,", "row 2: protocol is empty; give a protocol id (see `regimens list`)"),
])
def test_bad_row_is_one_line_with_its_number(line, message):
    (err,) = read_patients(HEADER + line + "\n")
    assert isinstance(err, RowError) and err.number == 2
    assert str(err) == message


def test_bad_weight_message_does_not_repeat_other_patient_values():
    (err,) = read_patients(HEADER + f"x,{P},,2027-01-04,,171.3,heavy,47.5,\n")
    assert "heavy" in str(err)
    assert "171.3" not in str(err) and "47.5" not in str(err) and "2027-01-04" not in str(err)


def test_duplicate_ids_are_refused_because_they_name_files():
    rows = read_patients(HEADER + f"p1,{P},,2027-01-04,,,,,\np1,{P},,2027-01-11,,,,,\n")
    assert isinstance(rows[0], PatientRow)
    assert str(rows[1]) == "row 3: id 'p1' is already used by row 2; ids name the output files and must be unique"


@pytest.mark.parametrize("header, fragment", [
    ("", "the patients file is empty"),
    ("id,arm,start\n", "missing column protocol"),
    ("protocol,start,wieght\n", "unknown column 'wieght'"),
    ("protocol,start,start\n", "column 'start' appears twice"),
])
def test_bad_header_stops_the_whole_batch(header, fragment):
    with pytest.raises(RequestError, match=fragment):
        read_patients(header)


def test_byte_order_mark_from_spreadsheet_export_is_ignored():
    (row,) = read_patients("\ufeffprotocol,start\n" + f"{P},2027-01-04\n")
    assert row.protocol == P


# --- rendering one patient ----------------------------------------------------------------------

def _ctx(**kw):
    base = dict(protocols_dir=None, default_outputs=("json",), generated_at=datetime(2027, 1, 1, tzinfo=UTC),
                tz="America/Chicago")
    base.update(kw)
    return BatchContext(**base)


def test_render_patient_matches_the_timeline_command(run_cli):
    (row,) = read_patients(HEADER + f"p1,{P},,2027-01-04,cycles=3,,,,json\n")
    [(name, data)] = batch.render_patient(row, _ctx())
    # the batch's --tz puts every output of a row on the clinic's clock (stop times, issue 10),
    # as --tz does for the timeline command
    code, out, err = run_cli("timeline", P, "--start", "2027-01-04", "--choose", "cycles=3", "--format", "json",
                             "--tz", "America/Chicago")
    assert code == 0 and name == "p1.json"
    assert data.decode("utf-8") == out


def test_render_patient_calculates_doses_from_the_row():
    (row,) = read_patients(HEADER + f"p1,{P},,2027-01-04,,170,70,40,json\n")
    [(_, data)] = batch.render_patient(row, _ctx())
    # blinatumomab is dosed flat for patients >= 45 kg: 9 mcg/day in cycle 1 week 1 (seed 004)
    assert b'"patient_dose": 9,' in data and b'"patient_unit": "mcg/day"' in data


# --- the command -------------------------------------------------------------------------------

def _csv(tmp_path, body: str):
    f = tmp_path / "patients.csv"
    f.write_text(HEADER + body, encoding="utf-8")
    return f


def test_failing_rows_are_reported_and_the_others_written(run_cli, tmp_path):
    f = _csv(tmp_path, (
        f"p1,{P},,2027-01-04,,170,70,40,json\n"
        f"p2,{P},,2027-02-30,,,,,json\n"          # bad date
        f"p3,nct99999999,,2027-01-04,,,,,json\n"  # unknown protocol
        f"p4,{P},,2027-01-11,,170,5000,40,json\n"  # absurd weight
        f"p5,{P},Z,2027-01-11,,,,,json\n"          # unknown arm
        f"p6,{P},,2027-01-18,cycles=4,,,,json\n"
    ))
    out = tmp_path / "out"
    code, stdout, err = run_cli("batch", str(f), "--outdir", str(out), "--jobs", "1", env=TZ)
    assert code == 2 and stdout == ""
    lines = err.splitlines()
    assert lines[0] == f"regimens: error: {f} row 3: start '2027-02-30' is not a real date; write YYYY-MM-DD"
    assert lines[1].startswith(f"regimens: error: {f} row 4: unknown protocol 'nct99999999'; valid ids:")
    assert lines[2] == (f"regimens: error: {f} row 5: weight 5,000 kg is not plausible (accepted 2-350 kg);"
                        " check the measurement")
    assert lines[3] == f"regimens: error: {f} row 6: unknown arm 'Z' for nct03114865; valid arms: 1"
    assert lines[4] == (f"regimens: batch: 2 of 6 patients written to {out} (2 files);"
                        " 4 failed (rows 3, 4, 5, 6)")
    assert len(lines) == 5 and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["p1.json", "p6.json"]


def test_default_outputs_are_json_calendar_and_sheets(run_cli, tmp_path):
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,170,70,40,\n,{P},,2027-02-01,,,,,\n")
    out = tmp_path / "out"
    code, _, err = run_cli("batch", str(f), "--outdir", str(out), "--jobs", "1", env=TZ)
    assert code == 0, err
    kinds = [k for k in batch.default_kinds()]
    expected = sorted(stem + batch.SUFFIX[k] for stem in ("p1", "row-0003") for k in kinds)
    assert sorted(p.name for p in out.iterdir()) == expected
    assert "json" in kinds
    if "ics" in kinds:
        # the calendar is the one `regimens ics` writes for the same patient
        code, ics_out, _ = run_cli("ics", P, "--start", "2027-01-04", "--height", "170", "--weight", "70",
                                   "--age", "40", "--tz", "America/Chicago", env=TZ)
        assert (out / "p1.ics").read_bytes().decode("utf-8") == ics_out


def test_no_tz_means_no_calendar_and_a_note(run_cli, tmp_path, monkeypatch):
    if "ics" not in batch.available_kinds():
        pytest.skip("ics exporter not available")
    monkeypatch.delenv("REGIMENS_TZ", raising=False)
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,,,,\n")
    code, _, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "o"), "--jobs", "1")
    assert code == 0
    assert "no --tz given, so no calendars" in err
    assert not (tmp_path / "o" / "p1.ics").exists()


def test_parallel_and_serial_runs_write_identical_files(run_cli, tmp_path):
    body = "".join(f"p{i},{P},,2027-01-{i + 1:02d},cycles={1 + i % 6},,{50 + i},,json;csv\n" for i in range(8))
    f = _csv(tmp_path, body)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("batch", str(f), "--outdir", str(a), "--jobs", "1", env=TZ)[0] == 0
    assert run_cli("batch", str(f), "--outdir", str(b), "--jobs", "2", env=TZ)[0] == 0
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and len(names) == 16
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_existing_outputs_are_kept_without_force(run_cli, tmp_path):
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,,,,json\np2,{P},,2027-01-04,,,,,json\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "p1.json").write_bytes(b"earlier run\n")
    code, _, err = run_cli("batch", str(f), "--outdir", str(out), "--jobs", "1", env=TZ)
    assert code == 2
    assert f"row 2: p1.json already exists in {out}; use --force to replace it" in err
    assert (out / "p1.json").read_bytes() == b"earlier run\n"
    assert (out / "p2.json").exists()
    code, _, _ = run_cli("batch", str(f), "--outdir", str(out), "--jobs", "1", "--force", env=TZ)
    assert code == 0 and (out / "p1.json").read_bytes().startswith(b"{")


def test_a_row_failing_halfway_writes_none_of_its_files(run_cli, tmp_path, monkeypatch):
    real = batch._render

    def failing(kind, tl, ctx):
        if kind == "csv":
            raise RequestError("simulated failure while rendering the CSV")
        return real(kind, tl, ctx)

    monkeypatch.setattr(batch, "_render", failing)
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,,,,json;csv\n")
    code, _, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "out"), "--jobs", "1", env=TZ)
    assert code == 2 and "row 2: simulated failure" in err
    assert list((tmp_path / "out").iterdir()) == []  # p1.json was rendered but not written


def test_an_internal_error_in_one_row_does_not_stop_the_others(run_cli, tmp_path, monkeypatch):
    real = batch.render_patient

    def crashing(row, ctx):
        if row.stem == "p1":
            raise ZeroDivisionError("weight 71.5 kg")  # text that must not reach the report
        return real(row, ctx)

    monkeypatch.setattr(batch, "render_patient", crashing)
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,,71.5,,json\np2,{P},,2027-01-04,,,,,json\n")
    code, _, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "out"), "--jobs", "1", env=TZ)
    assert code == 1
    assert "row 2: internal error (ZeroDivisionError); please report it" in err
    assert "71.5" not in err and "Traceback" not in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["p2.json"]


def test_bad_header_is_one_line_exit_2(run_cli, tmp_path):
    f = tmp_path / "patients.csv"
    f.write_text("name,protocol,start\nJane,nct03114865,2027-01-04\n", encoding="utf-8")
    code, out, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "out"))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "regimens: error: patients file header: unknown column 'name'; columns are protocol, start (required)"
        " and id, arm, choices, height, weight, bsa, age, measured_on, bsa_formula, outputs (optional)"
    ]
    assert not (tmp_path / "out").exists()


def test_missing_patients_file(run_cli, tmp_path):
    code, _, err = run_cli("batch", str(tmp_path / "none.csv"), "--outdir", str(tmp_path / "out"))
    assert code == 2 and err.strip().endswith("not found")


def test_no_progress_bar_when_not_on_a_terminal(run_cli, tmp_path):
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,,,,json\n")
    code, out, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "out"), "--jobs", "1", env=TZ)
    assert code == 0 and out == ""
    assert err.splitlines() == [f"regimens: batch: 1 of 1 patients written to {tmp_path / 'out'} (1 files)"]


# --- fuzzing the patients file -----------------------------------------------------------------

from hypothesis import given, settings
from hypothesis import strategies as st

CELL = st.one_of(st.text(max_size=8), st.sampled_from(["2027-01-04", "2027-02-30", "70", "-1", "nan", "inf",
                                                       "1e400", "cycles=3", "json;ics", P, ""]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(CELL, min_size=0, max_size=11), max_size=6))
def test_any_patients_file_gives_rows_or_one_line_errors(cells):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "protocol", "arm", "start", "choices", "height", "weight", "bsa", "age", "outputs"])
    w.writerows(cells)
    for r in read_patients(buf.getvalue()):
        assert isinstance(r, (PatientRow, RowError))
        if isinstance(r, RowError):
            assert "\n" not in str(r) and str(r).startswith(f"row {r.number}")
        else:
            assert all(v > 0 and v != float("inf") for v in r.measurements.values())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_as_patients_file(text):
    try:
        rows = read_patients(text)
    except RequestError as exc:
        assert "\n" not in str(exc)
        return
    assert all(isinstance(r, (PatientRow, RowError)) for r in rows)


@pytest.mark.parametrize("message, expected", [
    ("nct04530565 needs a decision on 'tki' (TKI): give --choose tki=VALUE with one of dasatinib, ponatinib",
     "nct04530565 needs a decision on 'tki' (TKI): give tki=VALUE in the choices column with one of dasatinib,"
     " ponatinib"),
    ("nct04530565 has several arms: give --arm with one of A, B, C",
     "nct04530565 has several arms: fill the arm column with one of A, B, C"),
    ("height alone gives no BSA: give --weight too (or --bsa)",
     "height alone gives no BSA: fill the weight column too (or the bsa column)"),
    ("unknown BSA formula; see --bsa-formula", "unknown BSA formula; see the bsa_formula column"),
])
def test_messages_name_columns_not_options(message, expected):
    assert batch.in_column_words(message) == expected


def test_row_without_a_needed_decision_names_the_column(run_cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("protocol,arm,start\nnct04530565,C,2027-01-04\n", encoding="utf-8")
    code, _, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "o"), "--outputs", "json", "--jobs", "1")
    assert code == 2
    assert "row 2: nct04530565 needs a decision on 'tki'" in err and "tki=VALUE in the choices column" in err


def test_the_id_column_names_files_but_is_not_written_into_them(run_cli, tmp_path):
    f = _csv(tmp_path, f"Zelda-Quux-Wyz,{P},,2027-01-04,,170,70,40,\n")
    out = tmp_path / "out"
    code, _, err = run_cli("batch", str(f), "--outdir", str(out), "--jobs", "1", env=TZ)
    assert code == 0, err
    files = sorted(out.iterdir())
    assert files and all(p.name.startswith("Zelda-Quux-Wyz.") for p in files)
    for p in files:
        data = p.read_bytes()
        assert b"Zelda" not in data and b"Quux" not in data, p.name


def test_ctrl_c_stops_cleanly_without_partial_files(tmp_path):
    # A real process and a real SIGINT: the pool must not hang, and what is on disk is whole.
    import json
    import signal
    import subprocess
    import sys
    import time

    rows = "".join(f"p{i:03d},nct02877303,,2027-01-04,,170,70,40,json\n" for i in range(60))
    f = _csv(tmp_path, rows)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from regimens.cli import main; sys.exit(main())",
                             "batch", str(f), "--outdir", str(out), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.is_dir() and any(out.glob("*.json"))):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("batch hung after Ctrl-C")
    if proc.returncode == 0:
        pytest.skip("the batch finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    names = [p.name for p in out.iterdir()]
    assert not [n for n in names if n.endswith(".tmp")]
    assert 0 < len(names) < 60
    for n in names:
        json.loads((out / n).read_text(encoding="utf-8"))  # every file written is complete


def test_the_collector_is_tuned_for_the_rows_and_put_back_after_one_job(run_cli, tmp_path, monkeypatch):
    # batch_cmd._fewer_collections: fewer young-generation collections while rows render
    # (docs/performance.md); the calling process gets its own settings back afterwards
    import gc

    from regimens.cli import batch_cmd

    seen = []
    real = batch_cmd.process_row
    monkeypatch.setattr(batch_cmd, "process_row",
                        lambda *a: seen.append((gc.get_threshold(), gc.get_freeze_count() > 0)) or real(*a))
    before = gc.get_threshold()
    f = _csv(tmp_path, f"p1,{P},,2027-01-04,,170,70,40,json\np2,{P},,2027-01-11,,170,70,40,json\n")
    code, _, err = run_cli("batch", str(f), "--outdir", str(tmp_path / "out"), "--jobs", "1", env=TZ)
    assert code == 0, err
    assert seen == [(batch_cmd.GC_THRESHOLDS, True)] * 2
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_worker_process_renders_with_the_tuned_collector():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import gc; from regimens.cli import batch_cmd; batch_cmd._worker();"
            " print(*gc.get_threshold(), gc.get_freeze_count() > 0)")
    env = {"PYTHONPATH": str(Path(__file__).parents[2] / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["50000", "50", "100", "True"]
