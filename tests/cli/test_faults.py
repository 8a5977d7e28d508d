"""Faults and data safety: a failed write never damages the previous file or leaves a temporary
file; plan files are owner-only; patient data never appears in error messages."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from regimens.cli import output
from regimens.errors import RegimensError

P = "nct03114865"
START = ("--start", "2027-01-04")
PREVIOUS = b"previous calendar, still needed\n"


def _fail(exc: BaseException):
    def boom(*args, **kwargs):
        raise exc

    return boom


@pytest.mark.parametrize("where", ["fsync", "replace", "fchmod", "write"])
def test_write_failing_midway_keeps_previous_file_and_leaves_no_temp(tmp_path, monkeypatch, where):
    target = tmp_path / "calendar.ics"
    target.write_bytes(PREVIOUS)
    monkeypatch.setattr(output.os, where, _fail(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(RegimensError, match="No space left on device.*previous file"):
        output.write_atomic(target, b"new contents" * 1000, force=True)
    monkeypatch.undo()
    assert target.read_bytes() == PREVIOUS
    assert [p.name for p in tmp_path.iterdir()] == ["calendar.ics"]


def test_interrupt_during_write_keeps_previous_file(tmp_path, monkeypatch):
    # Ctrl-C arrives while the bytes are being flushed: the temporary file goes, the old one stays.
    target = tmp_path / "t.json"
    target.write_bytes(PREVIOUS)
    monkeypatch.setattr(output.os, "fsync", _fail(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        output.write_atomic(target, b"[]\n", force=True)
    monkeypatch.undo()
    assert target.read_bytes() == PREVIOUS
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_cli_write_failure_is_one_line_and_previous_file_intact(run_cli, tmp_path, monkeypatch):
    target = tmp_path / "t.json"
    target.write_bytes(PREVIOUS)
    monkeypatch.setattr(output.os, "replace", _fail(OSError(errno.EIO, "Input/output error")))
    # run_cli undoes monkeypatches when it returns, so patch inside the call
    code, out, err = run_cli("timeline", P, *START, "--format", "json", "-o", str(target), "--force")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"regimens: error: cannot write {target}: Input/output error; the previous file, if any,"
        " is unchanged; free space or choose another -o"
    ]
    assert target.read_bytes() == PREVIOUS
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_failed_write_of_a_new_file_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "new.csv"
    monkeypatch.setattr(output.os, "fsync", _fail(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(RegimensError):
        output.write_atomic(target, b"a,b\n")
    assert list(tmp_path.iterdir()) == []


def test_replacing_keeps_the_permissions_of_the_previous_file(tmp_path):
    target = tmp_path / "private.json"
    target.write_bytes(PREVIOUS)
    target.chmod(0o600)
    output.write_atomic(target, b"[]\n", force=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == b"[]\n"


def test_explicit_mode(tmp_path):
    target = tmp_path / "plan.yaml"
    output.write_atomic(target, b"x: 1\n", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _has_plan() -> bool:
    from regimens.cli.app import cli

    return "plan" in cli.commands


@pytest.mark.skipif(not _has_plan(), reason="plan command not available yet")
def test_plan_files_are_owner_only(run_cli, tmp_path):
    old = os.umask(0o022)  # a permissive umask must not make the plan group- or world-readable
    try:
        plan = tmp_path / "patient.plan.yaml"
        code, _, err = run_cli("plan", "new", P, *START, "--weight", "70", "--height", "170", "-o", str(plan))
        assert code == 0, err
    finally:
        os.umask(old)
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600


# --- patient data never in error messages ---------------------------------------------------

def _measure_cmd():
    from regimens.cli.app import cli

    for name in ("timeline", "ics", "sheet"):
        cmd = cli.commands.get(name)
        if cmd is not None and any("--weight" in p.opts for p in cmd.params):
            return name
    return None


@pytest.mark.skipif(_measure_cmd() is None, reason="no command takes --weight yet")
def test_bad_weight_message_names_only_the_weight(run_cli, tmp_path):
    # height 171.3 and age 47.5 are fine; the message must not repeat them
    code, out, err = run_cli(_measure_cmd(), P, *START, "--height", "171.3", "--age", "47.5",
                             "--weight", "912", "-o", str(tmp_path / "x"),
                             env={"REGIMENS_TZ": "America/Chicago"})
    assert code == 2 and len(err.splitlines()) == 1
    assert "912" in err
    for other in ("171.3", "171", "47.5", "47"):
        assert other not in err, err


@pytest.mark.parametrize("command, option", [("ics", "--patient-label"), ("sheet", "--patient-name"),
                                             ("sheet", "--mrn"), ("sheet", "--dob")])
def test_patient_identifiers_are_not_echoed_in_errors(run_cli, tmp_path, command, option):
    from regimens.cli.app import cli

    cmd = cli.commands.get(command)
    if cmd is None or not any(option in p.opts for p in cmd.params):
        pytest.skip(f"{command} {option} not available yet")
    secret = "Zelda Quuxington-4471"
    # three different mistakes elsewhere on the line; none may echo the identifier
    for bad in (("--start", "2027-02-30"), ("--start", "2027-01-04", "--arm", "Q"),
                ("--start", "2027-01-04", "--weight", "9000")):
        code, out, err = run_cli(command, P, *bad, option, secret, "-o", str(tmp_path / "x"),
                                 env={"REGIMENS_TZ": "America/Chicago"})
        assert code == 2, err
        assert secret not in err and "Zelda" not in err and "4471" not in err
        assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_library_code_does_not_log_or_print():
    # Patient data enters library code (dosing, plans); nothing there may write it anywhere.
    import pathlib
    import re

    import regimens

    root = pathlib.Path(regimens.__file__).parent
    offenders = []
    for f in root.rglob("*.py"):
        if {"cli", "web"} & set(f.relative_to(root).parts):
            continue
        text = f.read_text(encoding="utf-8")
        if re.search(r"^\s*(import logging|from logging)|\bprint\(", text, re.MULTILINE):
            offenders.append(str(f.relative_to(root)))
    assert offenders == []
