"""No column of the nurse sheet breaks a word in the middle: a nurse reads "continuo us" or
"(independ ent)" as a misprint on the sheet they sign. Read back from the PDF with poppler's
pdftotext, an independent reader: a word wrapped whole comes out with a space or a line break
before it, a word split inside comes out in two pieces."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")


def _words(run_cli, tmp_path, kind: str) -> str:
    """The text of NCT02877303's hyper-CVAD cycle 1 sheet of `kind`, as pdftotext reads the PDF,
    whitespace squeezed (a line break between two words reads as a space)."""
    out = tmp_path / f"{kind}.pdf"
    code, _o, err = run_cli("sheet", "nct02877303", "--start", "2027-03-08", "--kind", kind, "--cycle",
                            "intensive.c1", "--height", "175", "--weight", "80", "--age", "40",
                            "--tz", "America/Chicago", "-o", str(out))
    assert code == 0, err
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", " ", text)


def test_the_nurse_sheet_keeps_each_column_word_whole(run_cli, tmp_path):
    # mesna runs as a continuous infusion over 69 h (seed record; docs/protocols/nct02877303.md),
    # the narrowest text in the Duration column
    words = _words(run_cli, tmp_path, "nurse")
    assert "continuous infusion over 69 h" in words
    assert "2nd check (independent)" in words
    for piece in ("continuo ", "independ "):
        assert piece not in words, piece


def test_the_pharmacist_sheet_keeps_each_column_header_whole(run_cli, tmp_path):
    words = _words(run_cli, tmp_path, "pharmacist")
    for header in ("Unrounded", "Dose as written", "Dose to give", "Basis · measurement"):
        assert header in words, header
