"""docs/api.md's example is run as written, so the documented public API cannot drift from the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import regimens

DOC = Path(__file__).parents[2] / "docs" / "api.md"


def test_api_doc_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1
    out = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    # NCT03114865 (seed record): blinatumomab 9 mcg/day from day 1 of cycle 1 for a patient >= 45 kg.
    assert out.stdout.splitlines()[0] == "2027-01-04 blinatumomab 9.0 mcg/day"
    assert out.stdout.splitlines()[1].startswith("refused: unknown arm 'Z'")


def test_every_documented_name_is_public():
    table = DOC.read_text(encoding="utf-8").split("## Example")[0]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    names = {m for cell in first_cells for m in re.findall(r"`(\w+)", cell)}
    assert {"load", "compile", "resolve_doses", "to_ics", "render_pdf"} <= names
    missing = sorted(n for n in names if n not in regimens.__all__)
    assert missing == []


def test_private_names_are_not_exported():
    # Only the documented names are public: a typo or an internal helper is not an attribute.
    try:
        regimens.compile_timeline  # noqa: B018
    except AttributeError:
        return
    raise AssertionError("regimens.compile_timeline should not exist")
