"""Golden files: the exact bytes of the NCT03114865 outputs for fixed inputs. They guard against
unintended changes in what pharmacists, nurses and calendar apps receive; the dates and doses in
them are checked against the trial record in test_nct03114865.py.

After an intended change, regenerate with REGIMENS_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from regimens.protocol.catalog import shipped_dir

GOLDEN = Path(__file__).parents[1] / "golden"
ARGS = ("nct03114865", "--start", "2027-01-04", "--height", "175", "--weight", "80",
        "--choose", "cycles=2")
CASES = {
    "nct03114865.json": ("timeline", *ARGS, "--format", "json"),
    "nct03114865.csv": ("timeline", *ARGS, "--format", "csv"),
    "nct03114865.ics": ("ics", *ARGS, "--tz", "America/Chicago"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden(name, run_cli):
    code, out, err = run_cli(*CASES[name], env={"SOURCE_DATE_EPOCH": "1798761600", "REGIMENS_TZ": ""})
    assert code == 0, err
    # The JSON names the protocol file used (protocol_file): where the shipped protocols live depends
    # on the install (a checkout, an editable install, site-packages), so that folder is not compared.
    out = out.replace(str(shipped_dir()), "<protocols>")
    path = GOLDEN / name
    if os.environ.get("REGIMENS_UPDATE_GOLDEN") == "1":
        path.write_bytes(out.encode("utf-8"))
    assert out.encode("utf-8") == path.read_bytes(), f"{name} changed; review, then REGIMENS_UPDATE_GOLDEN=1"
