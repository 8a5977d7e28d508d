"""Bad command-line input through the real entry point (regimens.cli.main).

Every case: exit code 2, exactly one line on stderr that names the bad value and says how to fix
it, no traceback, nothing on stdout, and no output file created or changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

P = "nct03114865"
START = ("--start", "2027-01-04")
TZ = {"REGIMENS_TZ": "America/Chicago"}


def _commands() -> dict:
    from regimens.cli.app import cli

    return cli.commands


def _has(command: str, option: str) -> bool:
    cmd = _commands().get(command)
    return cmd is not None and any(option in p.opts for p in cmd.params)


def _one_error(code: int, out: str, err: str, *fragments: str) -> str:
    """The one stderr line, after checking the contract of a bad-input error."""
    assert code == 2, (code, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("regimens: error: "), line
    for f in fragments:
        assert f in line, (f, line)
    return line


def _snapshot(d: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(d.iterdir())}


# --- dates ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, fragments", [
    # February 2027 has 28 days
    ("2027-02-30", ("'2027-02-30'", "not a real date", "YYYY-MM-DD")),
    ("2027-13-01", ("'2027-13-01'", "not a real date", "YYYY-MM-DD")),
    # day-first dates are ambiguous (27/01 vs 01/27): refuse, never guess
    ("27/01/2027", ("'27/01/2027'", "YYYY-MM-DD", "2027-01-04")),
    ("01/27/2027", ("'01/27/2027'", "YYYY-MM-DD")),
    ("2027-1-4", ("'2027-1-4'", "YYYY-MM-DD")),
    ("tomorrow", ("'tomorrow'", "YYYY-MM-DD")),
])
def test_bad_start_date(run_cli, tmp_path, value, fragments):
    out_file = tmp_path / "t.json"
    line = _one_error(*run_cli("timeline", P, "--start", value, "--format", "json", "-o", str(out_file)),
                      "--start", *fragments)
    assert "2027-01-04" in line or "YYYY-MM-DD" in line
    assert not out_file.exists()


def test_bad_actual_start_date(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--actual-start", "maintenance.c2=2027-02-30"),
               "maintenance.c2", "2027-02-30", "YYYY-MM-DD")


def test_actual_start_before_previous_cycle(run_cli):
    # cycle 2 cannot begin before cycle 1 (day 1 = 2027-01-04)
    _one_error(*run_cli("timeline", P, *START, "--actual-start", "maintenance.c2=2027-01-01"),
               "maintenance.c2=2027-01-01", "2027-01-04", "later date")


def test_actual_start_of_unknown_cycle(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--actual-start", "maintenance.c9=2027-03-01"),
               "'maintenance.c9'", "maintenance.c1, maintenance.c2")


def test_missing_start(run_cli):
    _one_error(*run_cli("timeline", P), "--start YYYY-MM-DD")


# --- unknown protocol / arm / choice / element -------------------------------------------------

def test_unknown_protocol_lists_valid_ids(run_cli):
    _one_error(*run_cli("timeline", "nct99999999", *START), "unknown protocol 'nct99999999'",
               "valid ids:", P)


def test_protocol_file_not_found(run_cli, tmp_path):
    missing = tmp_path / "missing.yaml"
    _one_error(*run_cli("timeline", str(missing), *START), str(missing), "not found")


def test_unknown_arm_lists_valid_arms(run_cli):
    # the record has a single arm, labelled "1" here
    _one_error(*run_cli("timeline", P, *START, "--arm", "B"), "unknown arm 'B'", "valid arms: 1")


def test_unknown_choice_lists_valid_choices(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--choose", "dose=9"), "unknown choice 'dose'",
               "valid choices: cycles")


def test_choice_value_not_offered(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--choose", "cycles=12"), "'12'", "'cycles'",
               "1, 2, 3, 4, 5, 6")


def test_choice_without_value(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--choose", "cycles"), "'cycles'", "NAME=VALUE")


def test_unknown_start_at(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--start-at", "induction"), "'induction'",
               "valid: maintenance")


def test_unknown_format(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--format", "xml"), "'xml'", "json")


# --- conflicting options ----------------------------------------------------------------------

def test_same_choice_given_twice_with_different_values(run_cli):
    _one_error(*run_cli("timeline", P, *START, "--choose", "cycles=2", "--choose", "cycles=3"),
               "'cycles' twice", "give it once")


@pytest.mark.skipif(not _has("ics", "--omit"), reason="--omit not available yet")
def test_omit_without_reason(run_cli, tmp_path):
    _one_error(*run_cli("ics", P, *START, "--omit", "maintenance.c1", "-o", str(tmp_path / "x.ics"), env=TZ),
               "--omit", "--reason")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not _has("timeline", "--bsa"), reason="measurement options not available yet")
def test_bsa_given_with_height_and_weight_is_never_silent(run_cli):
    # Dosing's choice (docs/dosing.md): the BSA given wins, and the user is told what height and
    # weight would give. Mosteller: sqrt(170 * 70 / 3600) = 1.818 -> 1.82 m2.
    code, out, err = run_cli("timeline", P, *START, "--format", "json", "--bsa", "1.8", "--height", "170",
                             "--weight", "70")
    assert code == 0 and out.startswith("{")
    assert "1.8 m²" in err and "1.82 m²" in err and "Traceback" not in err


@pytest.mark.parametrize("args, fragments", [
    (("ics", P, *START, "--split", "phase"), ("--split", "-o")),
    (("sheet", P, *START, "--format", "pdf"), ("--format pdf", "-o FILE")),
    (("sheet", P, *START, "--from", "2027-03-01", "--to", "2027-01-01"), ("--from 2027-03-01", "--to 2027-01-01")),
    (("ics", P, *START, "--tz", "Mars/Olympus"), ("'Mars/Olympus'", "America/Chicago")),
])
def test_options_that_do_not_go_together(run_cli, args, fragments):
    wanted = {a for a in args if a.startswith("--")}
    cmd = _commands().get(args[0])
    if cmd is None or not wanted <= {o for p in cmd.params for o in p.opts}:
        pytest.skip(f"{args[0]} or one of {sorted(wanted)} not available yet")
    _one_error(*run_cli(*args, env=TZ), *fragments)


# --- absurd measurements --------------------------------------------------------------------

MEASURE_CMD = next((c for c in ("timeline", "ics", "sheet") if _has(c, "--weight")), None)
needs_measurements = pytest.mark.skipif(MEASURE_CMD is None, reason="no command takes --weight yet")


def _measure(run_cli, tmp_path, *args):
    out = tmp_path / f"out.{MEASURE_CMD}"
    res = run_cli(MEASURE_CMD, P, *START, *args, "-o", str(out), env=TZ)
    assert not out.exists()
    return res


@needs_measurements
@pytest.mark.parametrize("args, fragments", [
    (("--weight", "5000"), ("weight", "5,000 kg", "plausible", "check")),
    (("--weight", "700", "--height", "170"), ("weight", "700 kg", "plausible")),
    (("--height", "17", "--weight", "70"), ("height", "17 cm", "plausible")),
    (("--bsa", "12"), ("BSA", "12 m²", "plausible")),
    (("--age", "300"), ("age", "300 years", "plausible")),
    (("--weight", "inf"), ("--weight", "'inf'", "is not a weight")),
])
def test_absurd_measurement(run_cli, tmp_path, args, fragments):
    _one_error(*_measure(run_cli, tmp_path, *args), *fragments)


@needs_measurements
@pytest.mark.parametrize("value", ["0", "-3", "nan"])
def test_non_positive_weight(run_cli, tmp_path, value):
    _one_error(*_measure(run_cli, tmp_path, "--weight", value), "weight")


@needs_measurements
def test_measurement_that_is_not_a_number(run_cli, tmp_path):
    # units are accepted (70kg, 154lb: docs/dosing.md#units); an unknown one is one clear line
    _one_error(*_measure(run_cli, tmp_path, "--weight", "70 stone"), "--weight", "'70 stone'", "pounds (154lb)")


# --- output files ---------------------------------------------------------------------------

def test_existing_output_is_refused_without_force_and_left_untouched(run_cli, tmp_path):
    target = tmp_path / "timeline.json"
    target.write_bytes(b"previous contents\n")
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    before = _snapshot(tmp_path)
    _one_error(*run_cli("timeline", P, *START, "--format", "json", "-o", str(target)),
               str(target), "already exists", "--force")
    assert _snapshot(tmp_path) == before  # same bytes, same mtime, no temporary file left


def test_existing_output_is_replaced_with_force(run_cli, tmp_path):
    target = tmp_path / "timeline.json"
    target.write_bytes(b"previous contents\n")
    code, out, err = run_cli("timeline", P, *START, "--format", "json", "-o", str(target), "--force")
    assert (code, out) == (0, "")
    size = target.stat().st_size
    assert err == f"regimens: wrote {target} ({size / 1000:.1f} kB)\n"  # every write says so on stderr
    assert target.read_bytes().startswith(b'{\n  "format": 2,')
    code, out, err = run_cli("timeline", P, *START, "--format", "json", "-o", str(target), "--force", "-q")
    assert (code, out, err) == (0, "", "")  # -q: nothing on stderr
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.json"]


def test_output_directory_missing(run_cli, tmp_path):
    target = tmp_path / "no-such-dir" / "t.json"
    _one_error(*run_cli("timeline", P, *START, "-o", str(target)), "does not exist")
    assert list(tmp_path.iterdir()) == []


def test_output_is_a_directory(run_cli, tmp_path):
    _one_error(*run_cli("timeline", P, *START, "-o", str(tmp_path)), str(tmp_path), "directory")
    assert list(tmp_path.iterdir()) == []


def test_output_where_the_system_refuses_to_write(run_cli):
    # /proc accepts no new files, even for root: the OS error becomes one line, exit 2
    _one_error(*run_cli("timeline", P, *START, "-o", "/proc/regimens-test.json"),
               "cannot write /proc/regimens-test.json", "choose another -o")


def test_unwritable_directory(run_cli, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: permissions do not stop writes (see the /proc case)")
        _one_error(*run_cli("timeline", P, *START, "-o", str(ro / "t.json")), "not writable")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


# --- plan files -----------------------------------------------------------------------------

@pytest.mark.skipif("plan" not in _commands() or not _has("timeline", "--plan"),
                    reason="plan command not available yet")
def test_plan_file_for_another_protocol(run_cli, tmp_path):
    plan = tmp_path / "patient.plan.yaml"
    code, out, err = run_cli("plan", "new", P, *START, "-o", str(plan))
    if code != 0:
        pytest.skip(f"`regimens plan new` not usable here: {err.strip()}")
    other = "nct02101853"
    target = tmp_path / "t.json"
    _one_error(*run_cli("timeline", other, "--plan", str(plan), "--format", "json", "-o", str(target)),
               P, other)
    assert not target.exists()


def test_missing_plan_file(run_cli, tmp_path):
    if not _has("timeline", "--plan"):
        pytest.skip("--plan not available")
    missing = tmp_path / "nobody.plan.yaml"
    code, out, err = run_cli("timeline", P, *START, "--plan", str(missing))
    if code == 0:
        pytest.skip("--plan is accepted but not implemented yet")
    _one_error(code, out, err, str(missing))


@pytest.mark.skipif("plan" not in _commands(), reason="plan command not available yet")
def test_plan_made_with_an_older_protocol_version(run_cli, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    from regimens.protocol.catalog import shipped_dir

    text = (shipped_dir() / f"{P}.yaml").read_text(encoding="utf-8")
    (site / f"{P}.yaml").write_text(text, encoding="utf-8")
    plan = tmp_path / "patient.plan.yaml"
    code, _, err = run_cli("plan", "new", P, *START, "--protocols", str(site), "-o", str(plan))
    assert code == 0, err
    # the site edits its copy after the plan was made
    assert 'version: "1.0.0"' in text
    (site / f"{P}.yaml").write_text(text.replace('version: "1.0.0"', 'version: "1.1.0"'), encoding="utf-8")
    target = tmp_path / "t.json"
    _one_error(*run_cli("timeline", "--plan", str(plan), "--protocols", str(site), "--format", "json",
                        "-o", str(target)), "v1.0.0", "v1.1.0", "--accept-protocol")
    assert not target.exists()


def test_same_dose_omitted_and_held_is_refused(run_cli):
    # omitted (left out) and held (given later) contradict each other for one dose
    _one_error(*run_cli("timeline", P, *START, "--omit", "maintenance.c1:1", "--hold", "maintenance.c1:1",
                        "--reason", "platelets 20"),
               "--omit and --hold both name 'maintenance.c1:1'", "give one")
