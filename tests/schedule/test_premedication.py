"""A premedication rule holds for every cycle it applies to: in every shipped protocol, arm and
every value of each decision, a cycle that gives a drug whose course declares a premedication for
it (cycle_start trigger) also carries that premedication. Issue 10: NCT03114865 cycles 3+ repeat
cycle 2 (004_94d9d143a40d8968.txt spells out cycles 1 and 2 only) but had no dexamethasone."""

from __future__ import annotations

from datetime import date

import pytest

from regimens.protocol.catalog import Catalog
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.request import ScheduleRequest

CATALOG = Catalog(None)
IDS = sorted(CATALOG.ids())


def _requests(p):
    """Default choices, then each decision at each of its values (counts at their largest)."""
    base = {k: (d.default or d.choices[0].value) for k, d in p.decisions.items()}
    yield base
    for k, d in p.decisions.items():
        values = [c.value for c in d.choices]
        if d.kind == "count":
            values = [max(values, key=int)]
        for v in values:
            if v != base[k]:
                yield {**base, k: v}


@pytest.mark.parametrize("pid", IDS)
def test_every_cycle_of_a_premedicated_drug_has_its_premedication(pid):
    pf = CATALOG.load(pid)
    p = pf.protocol
    checked = 0
    for arm in p.arms:
        for choices in _requests(p):
            try:
                tl = compile_timeline(pf, ScheduleRequest(start=date(2027, 1, 4), arm=arm.label, choices=choices))
            except Exception:  # a combination the protocol refuses (e.g. a decision of another arm)
                continue
            for cyc in tl.cycles:
                course = p.courses[cyc.course_id]
                for_drugs = {i.premedication.for_drug for i in course.items
                             if i.premedication and "cycle_start" in i.premedication.triggers
                             and all(choices.get(k) in ((v,) if isinstance(v, str) else v)
                                     for k, v in i.when.items())}
                for drug in for_drugs:
                    given = [e for e in tl.events if e.cycle_id == cyc.cycle_id and e.drug == drug
                             and e.kind == "administration"]
                    if not given:
                        continue
                    checked += 1
                    premeds = [e for e in tl.events if e.cycle_id == cyc.cycle_id and e.premed_for == drug]
                    assert premeds, f"{pid} arm {arm.label} {choices}: {cyc.cycle_id} gives {drug} without its premedication"
    if pid in ("nct03114865", "nct02877303"):
        assert checked > 0


def test_nct03114865_cycle_6_has_dexamethasone_like_cycle_2(timeline):
    # "Drug: Dexamethasone Day 1 of Cycle 1 and 2, prior to a step dose ...: 20 mg IV"; cycles 3+
    # repeat cycle 2. Cycle 6 day 1 = 2027-01-04 + 5 × 42 = 210 days: Jan 31 is +27, Feb +28 = 55,
    # Mar 86, Apr 116, May 147, Jun 177, Jul 31 = +208, so +210 = 2027-08-02; 1 h before 09:00
    tl = timeline("nct03114865", choices={"cycles": "6"})
    dex = [e for e in tl.events if e.drug == "dexamethasone" and e.cycle == 6]
    assert [(e.date, e.time.strftime("%H:%M"), e.dose, e.unit, e.route) for e in dex] == [
        (date(2027, 8, 2), "08:00", 20, "mg", "IV")]
