"""What a whole `regimens ics` process imports (issue 13): with the protocol in the parse cache and
no plan or rounding file, neither pydantic nor PyYAML (their imports were about 75 ms of the run's
CPU); a plan file or a rounding file is still read and validated by them, with the same one-line
errors and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# the CLI as `regimens` runs it, then which of the heavy modules the process holds at exit
WRAPPER = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(m for m in ('pydantic', "
    "'pydantic_core', 'yaml') if m in sys.modules)) + '\\n'))\n"
    "from regimens.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
ICS = ["ics", "nct02877303", "--start", "2027-01-04", "--tz", "America/Chicago"]


def _run(tmp_path, *args: str) -> tuple[int, list[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "PYTHONPATH": os.pathsep.join(sys.path), "REGIMENS_CACHE_DIR": str(tmp_path / "cache"),
        "SOURCE_DATE_EPOCH": "1798761600"}
    p = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, env=env,
                       cwd=tmp_path)
    lines = p.stderr.splitlines()
    (modules,) = [line for line in lines if line.startswith("MODULES")]
    return p.returncode, [line for line in lines if not line.startswith("MODULES")], set(modules.split()[1:])


def test_a_warm_cache_ics_run_imports_neither_pydantic_nor_yaml(tmp_path):
    code, _, first = _run(tmp_path, *ICS, "-o", "first.ics")
    assert code == 0
    assert {"pydantic", "yaml"} <= first  # a cold cache parses and validates the protocol file
    code, err, again = _run(tmp_path, *ICS, "-o", "again.ics")
    assert code == 0, err
    assert again == set()
    assert (tmp_path / "again.ics").read_bytes() == (tmp_path / "first.ics").read_bytes()
    assert (tmp_path / "again.ics").read_bytes().count(b"BEGIN:VEVENT") > 400


def test_a_plan_file_is_validated(tmp_path):
    _run(tmp_path, *ICS, "-o", "warm.ics")  # the protocol is in the cache: only the plan needs pydantic
    code, err, _ = _run(tmp_path, "plan", "new", "nct02877303", "--start", "2027-01-04", "-o", "p.yaml")
    assert code == 0, err
    code, err, modules = _run(tmp_path, "ics", "--plan", "p.yaml", "--tz", "America/Chicago", "-o", "p.ics")
    assert code == 0, err
    assert "pydantic" in modules and "yaml" in modules
    plan = tmp_path / "p.yaml"
    plan.write_text(plan.read_text().replace("start: '2027-01-04'", "start: '2027-13-04'"))
    assert "2027-13-04" in plan.read_text()
    code, err, _ = _run(tmp_path, "ics", "--plan", "p.yaml", "--tz", "America/Chicago", "-o", "bad.ics")
    assert code == 2
    assert len(err) == 1 and err[0].startswith("regimens: error: p.yaml: start: ")
    assert not (tmp_path / "bad.ics").exists()


@pytest.mark.parametrize(("text", "where"), [("source: ''\n", "source"),
                                              ("max_change_percent: 50\n", "max_change_percent")])
def test_a_rounding_file_is_validated(tmp_path, text, where):
    (tmp_path / "r.yaml").write_text(text)
    code, err, modules = _run(tmp_path, *ICS, "--height", "170", "--weight", "70", "--rounding", "r.yaml",
                              "-o", "r.ics")
    assert code == 2
    assert len(err) == 1 and err[0].startswith(f"regimens: error: r.yaml: {where}: "), err
    assert err[0].endswith("; see docs/dosing.md#rounding")
    assert "pydantic" in modules
