"""No overlapping treatment (issue 10): an actual start before the previous cycle has ended is
refused with the earliest allowed date, unless the protocol allows an early start."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regimens.errors import ProtocolError, RequestError
from regimens.protocol.catalog import Catalog
from regimens.protocol.loader import load_text
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

CATALOG = Catalog()
SHIPPED = {pid: CATALOG.load(pid) for pid in CATALOG.ids()}
DAY1 = date(2027, 1, 4)


def test_blinatumomab_cycle_2_inside_cycle_1_is_refused(timeline):
    # seed-004: "infusion over four weeks followed by a two-week treatment-free interval", a
    # 42-day cycle: cycle 1 from 2027-01-04 runs to 2027-02-14, so cycle 2 can start 2027-02-15.
    with pytest.raises(RequestError) as err:
        timeline("nct03114865", actual_starts={"maintenance.c2": date(2027, 1, 20)})
    msg = str(err.value)
    assert "maintenance.c2=2027-01-20" in msg and "earliest allowed date is 2027-02-15" in msg
    assert "\n" not in msg
    tl = timeline("nct03114865", actual_starts={"maintenance.c2": date(2027, 2, 15)})
    c2 = [e for e in tl.events if e.cycle_id == "maintenance.c2" and e.drug == "blinatumomab"]
    assert [e.date for e in c2] == [date(2027, 2, 15)]


def test_refusal_through_the_cli(run_cli):
    code, out, err = run_cli("timeline", "nct03114865", "--start", "2027-01-04",
                             "--actual-start", "maintenance.c2=2027-01-20")
    assert code == 2 and "2027-02-15" in err and "Traceback" not in err and out == ""


def test_hyper_cvad_may_start_early_once_course_a_is_over(timeline):
    # seed-000 course A: dexamethasone days 1-4 and 11-14 is its last treatment (day 14 =
    # 2027-01-17 for day 1 2027-01-04); adult-2 (SRL): next course "every 21 days or earlier once
    # counts recover". Day 15 (2027-01-18) is accepted, day 14 refused naming day 15.
    with pytest.raises(RequestError, match="earliest allowed date is 2027-01-18"):
        timeline("nct02877303", actual_starts={"intensive.c2": date(2027, 1, 17)})
    tl = timeline("nct02877303", actual_starts={"intensive.c2": date(2027, 1, 18)})
    frame = [e for e in tl.events if e.cycle_id == "intensive.c1" and e.kind == "phase"]
    assert frame[0].end_date == date(2027, 1, 17) and "cut short" in frame[0].note
    assert min(e.date for e in tl.events if e.cycle_id == "intensive.c2") == date(2027, 1, 18)


def test_early_start_needs_a_source():
    text = """
id: early
title: Early start without source
version: "1.0"
registry: {}
sources: [{key: s1, kind: site, cite: test}]
courses:
  c: {name: C, length_days: 21, length_source: s1, next_start_early: true,
      items: [{event: lab, title: Counts, days: "1", source: s1}]}
arms: [{label: A, name: Arm A, sequence: [c], source: s1}]
"""
    with pytest.raises(ProtocolError, match="next_start_early_source"):
        load_text(text, "early.yaml")


# --- property: for any accepted actual starts, nothing overlaps --------------------------------

def _end(e) -> datetime:
    if e.time is not None and e.duration_minutes:
        return datetime.combine(e.date, e.time) + timedelta(minutes=e.duration_minutes)
    return datetime.combine(e.end_date + timedelta(days=1), datetime.min.time())


def _start(e) -> datetime:
    return datetime.combine(e.date, e.time or datetime.min.time())


def _defaults(pf) -> dict[str, str]:
    return {n: d.choices[0].value for n, d in pf.protocol.decisions.items() if d.default is None}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_two_cycles_overlap_for_any_accepted_actual_starts(data):
    pid = data.draw(st.sampled_from(sorted(SHIPPED)))
    pf = SHIPPED[pid]
    arm = data.draw(st.sampled_from([a.label for a in pf.protocol.arms]))
    base = ScheduleRequest(start=DAY1, arm=arm, choices=_defaults(pf))
    nominal = compile_timeline(pf, base)
    ids = [c.cycle_id for c in nominal.cycles[1:]]
    if not ids:
        return
    picked = data.draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    starts = {}
    by_id = {c.cycle_id: c for c in nominal.cycles}
    for cid in sorted(picked, key=ids.index):
        starts[cid] = by_id[cid].start + timedelta(days=data.draw(st.integers(-45, 30)))
    try:
        tl = compile_timeline(pf, ScheduleRequest(start=DAY1, arm=arm, choices=base.choices,
                                                   actual_starts=starts))
    except RequestError as e:
        assert "earliest allowed date" in str(e) or "before the start of" in str(e) or "premedication" in str(e)
        return
    cycles = tl.cycles
    frames = {e.cycle_id: e for e in tl.events if e.kind == "phase"}
    for a, b in zip(cycles, cycles[1:]):
        # a cycle's span ends before the next one's day 1
        assert frames[a.cycle_id].end_date < b.start, (pid, arm, starts, a.cycle_id)
    # no treatment-free interval holds any treatment, whatever cycle it belongs to
    rests = [e for e in tl.events if e.kind == "rest"]
    treat = [e for e in tl.events if e.kind in ("administration", "premedication")]
    for r in rests:
        for t in treat:
            assert not (t.date <= r.end_date and t.end_date >= r.date and _end(t) > datetime.combine(
                r.date, datetime.min.time())), (pid, arm, starts, r.cycle_id, t.title, t.date)
    # no two continuous infusions of the same drug run at once
    infusions = sorted((e for e in treat if e.continuous), key=_start)
    for x, y in zip(infusions, infusions[1:]):
        if x.drug == y.drug:
            assert _start(y) >= _end(x), (pid, arm, starts, x.cycle_id, y.cycle_id)
