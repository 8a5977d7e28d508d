"""Property: any sequence of recorded changes (moves in every mode, administrations, ceased
drugs, with or without the England and Wales closures) never moves a given dose, never overlaps
two cycles, never leaves a dose on a closed day under a moving policy without listing it as not
moved, and keeps every uid of the compiled timeline. Calendar: changes_protocol.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import pairwise

from changes_protocol import PROTOCOL, START
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regimens.errors import PlanError
from regimens.plans.changes import Administered, Cease, Move, compiled, preview, realise
from regimens.plans.closures import closure_on, generate, load_closures, policy_for
from regimens.plans.plan import Given, merge
from regimens.protocol.loader import load_text

PF = load_text(PROTOCOL, "changetest.yaml")
BASE = merge(None, PF, Given(start=START, bsa_m2=2.0))
EW = load_closures(generate("GB", range(2027, 2028), "E&W", subdiv="ENG"), "ew.yaml")
COMPILED = compiled(PF, BASE)
UIDS = sorted(e.uid for e in COMPILED.events)
DOSES = [e for e in COMPILED.events if e.kind == "administration"]
SELECTORS = [f"main.c{c}:{d}" for c in (1, 2, 3) for d in (1, 2, 8, 15)] + \
            [f"main.c{c}:8:methotrexate" for c in (1, 2, 3)] + [f"main.c{c}:1:cyclophosphamide#2" for c in (1, 2, 3)]

move = st.builds(lambda sel, days, mode: ("move", sel, days, mode), st.sampled_from(SELECTORS),
                 st.integers(-3, 9), st.sampled_from(["dose", "cycle", "later"]))
give = st.builds(lambda i, late: ("give", i, late), st.integers(0, len(DOSES) - 1), st.integers(0, 90))
cease = st.builds(lambda drug, k: ("cease", drug, k), st.sampled_from([None, "vincristine", "doxorubicin"]),
                  st.integers(0, 60))


def _change(spec, tl):
    kind = spec[0]
    if kind == "move":
        _, sel, days, mode = spec
        first = min((e for e in tl.events if e.cycle_id == sel.split(":")[0] and e.day == int(sel.split(":")[1])
                     and e.kind not in ("phase", "rest")), key=lambda e: (e.date, e.time or time()), default=None)
        if first is None:
            return None
        return Move(sel, first.date + timedelta(days=days), mode=mode, reason="p", by="p")
    if kind == "give":
        e = next((x for x in tl.events if x.uid == DOSES[spec[1]].uid), None)
        if e is None or e.status != "planned":
            return None
        at = datetime.combine(e.date, e.time or time(9)) + timedelta(minutes=spec[2])
        return Administered(e.uid, True, at, e.patient_dose, e.patient_unit, "RN", "RN2")
    return Cease(spec[1], START + timedelta(days=spec[2]), "toxicity", "p", "p")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(move, give, cease), min_size=1, max_size=5), st.sampled_from([None, "next-open-day", "move-cycle"]))
def test_any_sequence_of_changes_keeps_the_invariants(specs, policy):
    plan = BASE
    if policy:
        plan = plan.model_copy(update={"closures": EW.model_copy(update={"policy": {**EW.policy, "administration": policy}})})
    for spec in specs:
        tl, _ = realise(PF, plan)
        ch = _change(spec, tl)
        if ch is None:
            continue
        try:
            plan = preview(PF, plan, ch).plan
        except PlanError:
            continue  # refused, with its rule: the plan stays as it was
        tl, report = realise(PF, plan)
        by_uid = {e.uid: e for e in tl.events}
        # every uid of the compiled timeline still there, no other
        assert sorted(by_uid) == UIDS
        # a given dose is where it was given
        for a in plan.administrations:
            e = by_uid[a.uid]
            assert datetime.combine(e.date, e.time) == a.at
        # no two cycles overlap; nothing before its own day 1
        cycles = list(tl.cycles)
        for c, nxt in pairwise(cycles):
            assert nxt.start > c.start
            for e in tl.by_cycle(c.cycle_id):
                if e.kind not in ("phase", "rest", "gate"):
                    assert c.start <= e.date < nxt.start, (e.cycle_id, e.day, e.title, e.date, nxt.start)
        # under a moving policy a dose on a closed day is listed as not moved (or is fixed)
        if policy:
            fixed = {a.uid for a in plan.administrations}
            not_moved = {i.uid for i in report.not_moved}
            for e in tl.events:
                if (e.kind == "administration" and e.status in ("planned", "held") and e.uid not in fixed
                        and closure_on(plan.closures, e.date)
                        and policy_for(plan.closures, e, False) in ("next-open-day", "move-cycle")):
                    assert e.uid in not_moved, (e.cycle_id, e.day, e.title, e.date)
