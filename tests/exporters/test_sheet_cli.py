"""The `sheet` and `timeline` command lines (issue 14): format from the -o extension, no HTML on a
terminal, contradictions refused, a `wrote FILE (N pages, SIZE)` line, JSON that carries its
provenance, CSV booleans, and a table that fits the terminal."""

from __future__ import annotations

import csv
import io
import json

import pytest

P = "nct03114865"
START = ("--start", "2027-01-04")


def test_pdf_format_follows_the_extension(run_cli, tmp_path):
    out = tmp_path / "check.pdf"
    code, _, err = run_cli("sheet", P, *START, "-o", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    # three treatment days, three pages (hand count in test_sheet.py), and the size on stderr
    assert err == f"regimens: wrote {out} (3 pages, {len(data) / 1000:.1f} kB)\n"


@pytest.mark.parametrize("args, words", [
    (("-o", "x.pdf", "--format", "html"), ("--format html contradicts -o", "x.pdf")),
    (("-o", "x.html", "--format", "pdf"), ("--format pdf contradicts",)),
    (("-o", "x.txt"), ("cannot tell the format", ".pdf or .html")),
    (("--kind", "patient", "--layout", "overview", "-o", "x.html"), ("--layout overview is for the nurse sheet",)),
])
def test_contradictions_are_refused_before_any_work(run_cli, tmp_path, args, words):
    code, out, err = run_cli("sheet", P, *START, *[a if not a.startswith("x.") else str(tmp_path / a) for a in args])
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err
    assert list(tmp_path.iterdir()) == []


def test_no_html_onto_a_terminal(run_cli, monkeypatch):
    import sys

    class Tty(io.StringIO):
        def isatty(self):
            return True

    from regimens.cli import main

    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", Tty())
    monkeypatch.setattr(sys, "stderr", err)
    code = main(["sheet", P, *START])
    assert code == 2
    assert "give -o FILE.pdf or -o FILE.html" in err.getvalue()
    assert "<html" not in sys.stdout.getvalue()


def test_quiet_silences_the_wrote_line(run_cli, tmp_path):
    out = tmp_path / "c.html"
    code, _, err = run_cli("sheet", P, *START, "-o", str(out), "-q")
    assert code == 0 and err == ""
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_timeline_json_is_an_object_with_its_provenance(run_cli):
    code, out, err = run_cli("timeline", P, *START, "--format", "json", "--height", "175", "--weight", "80",
                             "--choose", "cycles=2")
    assert code == 0, err
    data = json.loads(out)
    assert data["format"] == 2
    head = data["timeline"]
    assert head["protocol"] == P and head["version"] == "1.0.0" and len(head["content_hash"]) == 64
    assert head["arm"] == "1" and head["choices"] == {"cycles": "2"} and head["revision"] == 0
    assert head["measurements"]["height_cm"] == 175 and head["measurements"]["weight_kg"] == 80
    assert head["warnings"] == []
    # the record's two 42-day cycles (test_sheet.py): C1D1 2027-01-04, C2D1 2027-02-15
    assert [e["date"] for e in data["events"] if e["kind"] == "phase"] == ["2027-01-04", "2027-02-15"]


def test_csv_booleans_are_true_false(run_cli):
    code, out, err = run_cli("timeline", P, *START, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["continuous"] for r in rows} == {"true", "false"}  # blinatumomab is continuous, the rest not
    assert "True" not in out and "False" not in out


def test_table_fits_the_width_and_wide_keeps_one_line_per_event(timeline):
    from regimens.exporters.tabular import to_table

    tl = timeline(P)
    narrow = to_table(tl, width=100).decode()
    assert max(len(line) for line in narrow.splitlines()) <= 100
    wide = to_table(tl).decode()
    assert max(len(line) for line in wide.splitlines()) > 100  # the notes are long
    # nothing is lost by wrapping: the same characters, less the empty "patient dose" column
    # (no measurements given, so it has nothing in it)
    from collections import Counter

    lost = Counter("".join(wide.split())) - Counter("".join(narrow.split()))
    assert lost == Counter("patientdose") and not Counter("".join(narrow.split())) - Counter("".join(wide.split()))


def test_wide_is_for_the_table_only(run_cli):
    code, _, err = run_cli("timeline", P, *START, "--format", "json", "--wide")
    assert code == 2 and "--wide is for the table" in err
