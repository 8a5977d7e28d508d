"""Where outputs go (issue 11 items 5, 6, 10, 11, 16): every file is owner-only, a device or a pipe
is written in place, a symlink is written through, temporaries left by a killed writer are
cleaned, and an empty -o is one clear line."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from regimens.cli import output
from regimens.errors import RegimensError

P = "nct03114865"
START = ("--start", "2027-01-04")
MEASURED = ("--height", "170", "--weight", "70")
TZ = {"REGIMENS_TZ": "America/Chicago"}


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o000)  # the most permissive umask must still give 0600
    yield
    os.umask(old)


@pytest.mark.parametrize("args, name", [
    (("timeline", P, *START, *MEASURED, "--format", "json"), "t.json"),
    (("timeline", P, *START, *MEASURED, "--format", "csv"), "t.csv"),
    (("timeline", P, *START, *MEASURED), "t.txt"),
    (("ics", P, *START, *MEASURED, "--patient-label", "JD"), "c.ics"),
    (("sheet", P, *START, *MEASURED, "--patient-name", "J Doe", "--mrn", "12345"), "s.html"),
])
def test_every_output_is_created_owner_only(run_cli, tmp_path, open_umask, args, name):
    target = tmp_path / name
    code, _, err = run_cli(*args, "-o", str(target), env=TZ)
    assert code == 0, err
    assert _mode(target) == 0o600


def test_force_over_a_world_readable_file_ends_owner_only(run_cli, tmp_path, open_umask):
    target = tmp_path / "t.json"
    target.write_text("old")
    target.chmod(0o666)
    code, _, err = run_cli("timeline", P, *START, *MEASURED, "--format", "json", "-o", str(target), "--force")
    assert code == 0, err
    assert _mode(target) == 0o600 and target.read_text().startswith("{")


def test_split_calendar_parts_are_owner_only(run_cli, tmp_path, open_umask):
    code, _, err = run_cli("ics", P, *START, "--split", "cycle", "-o", str(tmp_path / "cal-{part}.ics"), env=TZ)
    assert code == 0, err
    parts = sorted(tmp_path.iterdir())
    assert len(parts) == 2 and all(_mode(p) == 0o600 for p in parts)


def test_readme_says_outputs_are_owner_only():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "0600" in readme and "patient data" in readme.lower()


# --- devices and pipes (item 6) -------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")
@pytest.mark.parametrize("device, major_minor", [("null", (1, 3)), ("full", (1, 7))])
def test_force_onto_a_device_writes_in_place_and_keeps_the_node(run_cli, tmp_path, device, major_minor):
    node = tmp_path / device  # a private copy of /dev/null or /dev/full
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(*major_minor))
    code, out, err = run_cli("timeline", P, *START, "--format", "json", "-o", str(node), "--force")
    st = node.lstat()
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == major_minor[0] and os.minor(st.st_rdev) == major_minor[1]
    if device == "null":
        assert code == 0, err
    else:  # /dev/full: the write fails, said in one line
        assert code == 2 and len(err.splitlines()) == 1 and "No space left on device" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [device]


def test_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    output.write_atomic(fifo, b"through the pipe\n")  # no --force needed: nothing is replaced
    assert reader.communicate(timeout=10)[0] == b"through the pipe\n"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_dash_and_dev_stdout_work_for_pipes(tmp_path, target):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    p = subprocess.run([sys.executable, "-c", "import sys; from regimens.cli import main; sys.exit(main())",
                        "timeline", P, *START, "--format", "csv", "-o", target],
                       env=env, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(b"uid,kind,date")


def test_block_device_is_refused(tmp_path):
    blocks = [Path("/dev") / n for n in ("loop0", "sda", "vda", "nvme0n1")
              if (Path("/dev") / n).exists() and stat.S_ISBLK((Path("/dev") / n).stat().st_mode)]
    if not blocks:
        pytest.skip("no block device to point at")
    with pytest.raises(RegimensError, match="not a regular file"):
        output.check_writable(str(blocks[0]), force=True)


# --- symlinks (item 11) ----------------------------------------------------------------------


def test_plan_record_through_a_symlink_keeps_the_link(run_cli, tmp_path):
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    real = real_dir / "plan.yaml"
    code, _, err = run_cli("plan", "new", P, *START, *MEASURED, "-o", str(real))
    assert code == 0, err
    link = tmp_path / "current.yaml"
    link.symlink_to(real)
    code, _, err = run_cli("plan", "record", str(link), "--actual-start", "maintenance.c2=2027-02-22",
                           "--reason", "counts", "--by", "tester")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real
    assert "revision: 2" in real.read_text() and _mode(real) == 0o600
    assert not [p for p in real_dir.iterdir() if p.suffix == ".tmp"]


def test_force_through_a_symlink_writes_the_target(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    output.write_atomic(link, b"new", force=True)
    assert link.is_symlink() and real.read_bytes() == b"new"


# --- temporaries of a killed writer (item 10) ------------------------------------------------

_SLOW_WRITER = """
import os, sys, time
from regimens.cli import output
real_fsync = os.fsync
def slow(fd):
    print("staged", flush=True)
    time.sleep(60)
output.os.fsync = slow
output.write_atomic(sys.argv[1], b"name: Jane Doe, MRN 12345\\n" * 100)
"""


def _start_slow_writer(target: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    p = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)], env=env, stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"staged\n"
    return p


def test_temporary_of_a_killed_writer_is_private_and_cleaned_on_the_next_write(tmp_path):
    p = _start_slow_writer(tmp_path / "sheet.pdf")
    (tmp,) = [x for x in tmp_path.iterdir() if x.name.endswith(".tmp")]
    assert _mode(tmp) == 0o600  # owner-only while it exists
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    assert tmp.exists()
    old = time.time() - 60
    os.utime(tmp, (old, old))
    output.write_atomic(tmp_path / "other.json", b"{}")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["other.json"]


def test_temporary_of_a_running_writer_is_left_alone(tmp_path):
    p = _start_slow_writer(tmp_path / "sheet.pdf")
    try:
        (tmp,) = [x for x in tmp_path.iterdir() if x.name.endswith(".tmp")]
        old = time.time() - 60
        os.utime(tmp, (old, old))  # old, but its writer still holds the lock
        output.write_atomic(tmp_path / "other.json", b"{}")
        assert tmp.exists()
    finally:
        p.kill()
        p.wait(timeout=10)


def test_files_that_only_look_like_ours_are_not_removed(tmp_path):
    other = tmp_path / ".notes.txt.tmp"  # not our naming
    other.write_text("keep")
    old = time.time() - 3600
    os.utime(other, (old, old))
    output.write_atomic(tmp_path / "x.json", b"{}")
    assert other.exists()


def test_a_folder_is_searched_for_leftovers_at_most_every_few_seconds(tmp_path, monkeypatch):
    # a batch writes thousands of files into one folder: listing it before each was 1 ms a file
    looked = []
    real = output._clean_stale
    monkeypatch.setattr(output, "_clean_stale", lambda folder: looked.append(folder) or real(folder))
    clock = [1000.0]
    monkeypatch.setattr(output.time, "monotonic", lambda: clock[0])
    for i in range(5):
        output.write_atomic(tmp_path / f"{i}.json", b"{}")
    output.write_set([(tmp_path / "a.ics", b"x"), (tmp_path / "b.html", b"y")])
    assert looked == [tmp_path]
    (tmp_path / "sub").mkdir()
    output.write_atomic(tmp_path / "sub" / "c.json", b"{}")  # another folder is looked at at once
    assert looked == [tmp_path, tmp_path / "sub"]
    clock[0] += output._STALE_SECONDS  # a file can only have turned stale by now
    output.write_atomic(tmp_path / "d.json", b"{}")
    assert looked == [tmp_path, tmp_path / "sub", tmp_path]


# --- small (item 16) -------------------------------------------------------------------------


def test_empty_output_name_is_one_clear_line(run_cli):
    code, out, err = run_cli("timeline", P, *START, "-o", "")
    assert code == 2 and out == ""
    assert err == "regimens: error: -o is empty; give a file name, or - for standard output\n"


# --- measurements stay out of calendars unless asked (item 5) --------------------------------


def _descriptions(ics_text: str) -> str:
    import icalendar

    cal = icalendar.Calendar.from_ical(ics_text)
    return "\n".join(str(c.get("DESCRIPTION", "")) for c in cal.walk() if c.name in ("VCALENDAR", "VEVENT"))


def test_calendar_descriptions_carry_no_measurements_unless_asked(run_cli):
    # nct02877303 doses per m²: the working would say "BSA 1.97 m² ... 175 cm × 80 kg, measured ..."
    args = ("ics", "nct02877303", *START, "--height", "175.3", "--weight", "80.7", "--measured-on", "2026-12-30",
            "--tz", "America/Chicago")
    # the patient's wording (the default) gives the dose to take, never the measurements
    code, out, err = run_cli(*args)
    assert code == 0, err
    text = _descriptions(out)
    assert "Dose: 594 mg" in text  # cyclophosphamide 300 mg/m² × 1.98 m² (Mosteller: √(175.3 × 80.7 / 3600))
    for private in ("175.3", "80.7", "2026-12-30", " m² =", "BSA", "Mosteller"):
        assert private not in text, private
    args = (*args, "--audience", "staff")
    code, out, err = run_cli(*args)
    assert code == 0, err
    text = _descriptions(out)
    assert "Calculated dose:" in text  # the dose to give is still there
    for private in ("175.3", "80.7", "2026-12-30", " m² =", "BSA", "Mosteller"):
        assert private not in text, private
    code, out, err = run_cli(*args, "--show-measurements")
    assert code == 0, err
    text = _descriptions(out)
    assert "175.3" in text and "80.7" in text and "2026-12-30" in text and "BSA" in text


# --- several files as one: a batch row, the parts of a split calendar (item 9) ---------------


def _fail_on_call(n: int, real):
    import errno

    calls = {"n": 0}

    def fake(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    return fake


def test_batch_row_on_a_full_disk_writes_none_of_its_files(run_cli, tmp_path, monkeypatch):
    patients = tmp_path / "patients.csv"
    patients.write_text(f"id,protocol,start,outputs\np1,{P},2027-01-04,json;csv\n")
    out = tmp_path / "out"
    monkeypatch.setattr(output.os, "fsync", _fail_on_call(2, os.fsync))  # the second file fails
    code, _, err = run_cli("batch", str(patients), "--outdir", str(out), "--jobs", "1")
    assert code == 2 and "No space left on device" in err
    assert list(out.iterdir()) == []  # not p1.json alone


def test_set_failing_at_the_rename_takes_back_the_files_already_renamed(tmp_path, monkeypatch):
    keep = tmp_path / "b.csv"
    keep.write_bytes(b"previous b")
    monkeypatch.setattr(output.os, "replace", _fail_on_call(2, os.replace))
    with pytest.raises(RegimensError, match="No space left"):
        output.write_set([(tmp_path / "a.json", b"new a"), (keep, b"new b")], force=True)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]
    assert keep.read_bytes() == b"previous b"


def test_set_replacing_files_restores_them_when_a_later_one_fails(tmp_path, monkeypatch):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    monkeypatch.setattr(output.os, "replace", _fail_on_call(2, os.replace))
    with pytest.raises(RegimensError):
        output.write_set([(a, b"new a"), (b, b"new b")], force=True)
    monkeypatch.undo()
    assert a.read_bytes() == b"old a" and b.read_bytes() == b"old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_split_calendar_on_a_full_disk_writes_no_part(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(output.os, "fsync", _fail_on_call(2, os.fsync))
    code, _, err = run_cli("ics", P, *START, "--split", "cycle", "-o", str(tmp_path / "cal-{part}.ics"), env=TZ)
    assert code == 2 and len(err.splitlines()) == 1 and "No space left" in err
    assert list(tmp_path.iterdir()) == []
