"""The bad-protocol corpus: tests/data/protocols/invalid/*.yaml, one broken rule per file.

Each file states the exact problems `regimens validate FILE` must report, as `# expect:` lines
(`LINE:COL: field.path: message`, without the file name). The test runs the real entry point and
compares stderr line for line, so a changed message, line or column fails it. A file with several
problems lists them all: they must be reported in one run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data" / "protocols"
INVALID = sorted((DATA / "invalid").glob("*.yaml"))
VALID = sorted((DATA / "valid").glob("*.yaml"))


def _expected(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ").rstrip("\n")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect: ")
    ]


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_protocol_reports_exactly_the_expected_lines(run_cli, path):
    expected = _expected(path)
    assert expected, f"{path.name} has no `# expect:` line"
    code, out, err = run_cli("validate", str(path))
    assert code == 2
    assert out == ""  # problems go to stderr only
    assert "Traceback" not in err
    assert err.splitlines() == [f"{path}:{line}" for line in expected]


def test_several_problems_are_reported_in_one_run():
    # A schema problem (the unit) must not hide the cross-field problems of the rest of the file.
    lines = _expected(DATA / "invalid" / "several-problems.yaml")
    assert [line.split(": ")[1] for line in lines] == [
        "courses.c.items[0].dose.unit",
        "courses.c.items[1].days",
        "arms[0].sequence[1]",
        "arms[0].source",
        "arms[1].label",
    ]


def test_corpus_covers_the_issue_list():
    # Issue 7 / issue 2 name these kinds of bad input; each has at least one file here.
    names = {p.stem for p in INVALID}
    required = {
        "yaml-bad-indentation", "yaml-unclosed-quote", "yaml-tab-indent", "unknown-field-top",
        "unknown-field-item", "wrong-type-length", "wrong-type-arms", "unit-ug-micro", "unit-ug",
        "unit-cc", "unit-U", "unit-IU", "unit-mg-m-caret-2", "day-beyond-cycle", "days-overlapping",
        "days-negative", "days-backwards", "empty-course", "duplicate-course-id",
        "duplicate-source-key", "duplicate-arm-label", "arm-unknown-element",
        "when-unknown-decision", "when-unknown-choice", "phase-names-itself", "step-doses-overlap",
        "cap-below-dose", "missing-item-source", "unknown-source-key", "missing-length-source",
        "terminal-followed", "several-problems",
    }
    assert required <= names, sorted(required - names)


def test_each_line_has_file_line_col_path_message():
    for path in INVALID:
        for line in _expected(path):
            where, _, rest = line.partition(": ")
            ln, col = where.split(":")
            assert ln.isdigit() and col.isdigit() and int(ln) >= 1 and int(col) >= 1, (path, line)
            field, _, message = rest.partition(": ")
            assert field and message, (path, line)


def test_no_expected_line_points_at_a_comment_line():
    # Line numbers must land on the problem, not on the `# expect:` header of the file.
    for path in INVALID:
        lines = path.read_text(encoding="utf-8").splitlines()
        for exp in _expected(path):
            n = int(exp.split(":")[0])
            if lines and path.stem != "empty-file":
                assert not lines[n - 1].lstrip().startswith("#"), (path.name, exp)


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_minimal_files_pass(run_cli, path):
    code, out, err = run_cli("validate", str(path))
    assert (code, err) == (0, "")
    assert out == "1 protocol file valid\n"


def test_validate_reports_every_bad_file_of_a_directory(run_cli):
    code, out, err = run_cli("validate", str(DATA / "invalid"))
    assert code == 2
    expected = [f"{p}:{line}" for p in INVALID for line in _expected(p)]
    assert err.splitlines() == expected
