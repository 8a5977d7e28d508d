"""Same inputs give byte-identical outputs.

Each output is produced in two separate Python processes that differ in everything that must not
matter: hash seed (set and dict iteration of strings), the TZ of the computer, and, for the
formats that carry no generation time (JSON, CSV, table), the generation time itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

P = "nct03114865"
BASE = [P, "--start", "2027-01-04"]
PATIENT = ["--height", "170", "--weight", "70", "--age", "40", "--measured-on", "2027-01-02"]

# name -> argv (without the output option); the command must exist, or the case is skipped
CASES: dict[str, list[str]] = {
    "timeline.json": ["timeline", *BASE, "--format", "json", "--choose", "cycles=3"],
    "timeline.csv": ["timeline", *BASE, "--format", "csv"],
    "timeline.txt": ["timeline", *BASE, "--format", "table"],
    "dosed.json": ["timeline", *BASE, "--format", "json", *PATIENT],
    "calendar.ics": ["ics", *BASE, "--tz", "America/Chicago"],
    "dosed.ics": ["ics", *BASE, "--tz", "America/Chicago", *PATIENT],
    "nurse.html": ["sheet", *BASE, "--kind", "nurse", *PATIENT],
    "pharmacist.html": ["sheet", *BASE, "--kind", "pharmacist", *PATIENT],
    "patient.html": ["sheet", *BASE, "--kind", "patient"],
}
NO_CLOCK = {"timeline.json", "timeline.csv", "timeline.txt", "dosed.json"}

_RUNNER = r"""
import json, sys
from regimens.cli import main
from regimens.cli.app import cli
cases, outdir = json.loads(sys.argv[1]), sys.argv[2]
result = {}
for name, argv in cases.items():
    cmd = cli.commands.get(argv[0])
    opts = {o for p in (cmd.params if cmd else ()) for o in p.opts}
    wanted = {a for a in argv[1:] if a.startswith("--")}
    if cmd is None or not wanted <= opts:
        result[name] = "missing"
        continue
    result[name] = main([*argv, "-o", f"{outdir}/{name}"])
print(json.dumps(result))
"""


def _run(outdir: Path, env_changes: dict[str, str | None]) -> dict[str, object]:
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    outdir.mkdir()
    proc = subprocess.run([sys.executable, "-c", _RUNNER, json.dumps(CASES), str(outdir)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    a = _run(base / "a", {"PYTHONHASHSEED": "0", "TZ": "UTC", "SOURCE_DATE_EPOCH": "1800000000"})
    b = _run(base / "b", {"PYTHONHASHSEED": "4242", "TZ": "Asia/Tokyo", "SOURCE_DATE_EPOCH": "1800000000"})
    c = _run(base / "c", {"PYTHONHASHSEED": "7", "TZ": "America/Chicago", "SOURCE_DATE_EPOCH": None})
    return base, a, b, c


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_inputs_same_bytes(two_runs, name):
    base, a, b, c = two_runs
    if a[name] == "missing":
        pytest.skip(f"`regimens {CASES[name][0]}` (or one of its options) is not available yet")
    assert a[name] == b[name] == 0, (a[name], b[name])
    first = (base / "a" / name).read_bytes()
    assert first, name
    assert (base / "b" / name).read_bytes() == first
    if name in NO_CLOCK:
        # no generation time at all in these formats: a different clock changes nothing
        assert c[name] == 0
        assert (base / "c" / name).read_bytes() == first


def test_the_comparison_can_fail(two_runs):
    # Guard against a vacuous test: two different inputs do give different bytes.
    base, a, *_ = two_runs
    assert (base / "a" / "timeline.json").read_bytes() != (base / "a" / "dosed.json").read_bytes()
