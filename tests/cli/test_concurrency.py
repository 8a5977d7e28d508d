"""Concurrent writers, with real processes (issue 11 item 2): two `plan record` runs on one plan
never lose a change, and two `plan new -o` (or any write without --force) to one new name never
both succeed. Bounded: a few pairs, each process with a timeout."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

P = "nct03114865"
SRC = str(Path(__file__).parents[2] / "src")
CTX = multiprocessing.get_context("fork")


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC, "SOURCE_DATE_EPOCH": "1798761600"}
    return subprocess.Popen([sys.executable, "-c", "import sys; from regimens.cli import main; sys.exit(main())",
                             *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _new_plan(path: Path) -> None:
    p = _cli("plan", "new", P, "--start", "2027-01-04", "--choose", "cycles=4", "--height", "170", "--weight", "70",
             "-o", str(path))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err


# --- the lock: read, compare and write under it ---------------------------------------------


def _record_after_barrier(path: str, barrier, note: str, results) -> None:
    from regimens.cli.patient import read_plan
    from regimens.cli.plan_store import write_revision
    from regimens.errors import PlanError
    from regimens.plans.plan import dump_plan, next_revision

    saved = read_plan(path)
    barrier.wait(timeout=30)  # both have read the same revision before either writes
    try:
        write_revision(path, saved, dump_plan(next_revision(saved, note, None)))
        results.put((note, "written"))
    except PlanError as exc:
        results.put((note, str(exc)))


def test_two_writers_of_one_revision_one_is_refused_with_what_changed(tmp_path):
    plan = tmp_path / "plan.yaml"
    _new_plan(plan)
    for round_ in range(5):
        before = yaml.safe_load(plan.read_text())["revision"]
        barrier, results = CTX.Barrier(2), CTX.Queue()
        procs = [CTX.Process(target=_record_after_barrier, args=(str(plan), barrier, f"change {round_}{w}", results))
                 for w in "ab"]
        for p in procs:
            p.start()
        got = dict(results.get(timeout=60) for _ in procs)
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        written = [n for n, r in got.items() if r == "written"]
        assert len(written) == 1, got
        (refused,) = [r for r in got.values() if r != "written"]
        assert f"it is now revision {before + 1}, not {before}" in refused
        assert f"revision {before + 1}: {written[0]}" in refused and "nothing was written" in refused
        data = yaml.safe_load(plan.read_text())
        assert data["revision"] == before + 1 and data["history"][-1]["note"] == written[0]


def test_parallel_plan_record_commands_never_lose_a_change(tmp_path):
    # The real command, twice at once, three times: every run that says "written" is in the plan.
    plan = tmp_path / "plan.yaml"
    _new_plan(plan)
    claimed = []
    for k in range(3):
        runs = []
        for selector, month in (("maintenance.c2", 3), ("maintenance.c3", 9)):
            when = f"2027-{month:02d}-{k + 1:02d}"
            runs.append((f"{selector}={when}", _cli("plan", "record", str(plan), "--actual-start",
                                                    f"{selector}={when}", "--reason", "parallel", "--by", "tester")))
        for change, p in runs:
            out, err = p.communicate(timeout=120)
            assert p.returncode in (0, 2), err
            if p.returncode == 0:
                assert "(written)" in out
                claimed.append(change)
            else:
                assert "changed while this change was being prepared" in err and len(err.splitlines()) == 1
    data = yaml.safe_load(plan.read_text())
    notes = [h["note"] for h in data["history"]]
    assert data["revision"] == 1 + len(claimed)
    for change in claimed:
        assert any(f"actual start {change}" in n for n in notes), (change, notes)


# --- exclusive creation of a new name -------------------------------------------------------


def _create_after_barrier(path: str, barrier, name: str, results) -> None:
    from regimens.cli.output import write_atomic
    from regimens.errors import RegimensError

    barrier.wait(timeout=30)
    try:
        write_atomic(path, name.encode() * 5000)
        results.put((name, "written"))  # small messages: a child exits only once its queue is read
    except RegimensError as exc:
        results.put((name, str(exc)))


@pytest.mark.parametrize("round_", range(10))
def test_two_creators_of_one_new_file_exactly_one_wins(tmp_path, round_):
    target = tmp_path / "plan.yaml"
    barrier, results = CTX.Barrier(2), CTX.Queue()
    procs = [CTX.Process(target=_create_after_barrier, args=(str(target), barrier, name, results))
             for name in ("first\n", "second\n")]
    for p in procs:
        p.start()
    got = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    winners = [d for d, r in got.items() if r == "written"]
    assert len(winners) == 1, got
    assert target.read_bytes() == winners[0].encode() * 5000
    (loser,) = [r for r in got.values() if r != "written"]
    assert "already exists; use --force" in loser
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.yaml"]  # no temporary left


def test_parallel_plan_new_without_force_keeps_the_first(tmp_path):
    target = tmp_path / "plan.yaml"
    runs = [_cli("plan", "new", P, "--start", start, "--height", "170", "--weight", "70", "-o", str(target))
            for start in ("2027-01-04", "2027-01-11")]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in runs]
    assert sorted(code for code, _ in outcomes) == [0, 2], outcomes
    (loser,) = [err for code, err in outcomes if code == 2]
    assert "already exists" in loser
    (winner,) = [i for i, (code, _) in enumerate(outcomes) if code == 0]
    assert str(yaml.safe_load(target.read_text())["start"]) == ("2027-01-04", "2027-01-11")[winner]
