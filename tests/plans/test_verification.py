"""The digest a verification is bound to (plans/verification.py): stable for the same inputs,
changed by anything that moves a date or changes a dose or its working."""

from __future__ import annotations

from datetime import date

import pytest

from regimens.plans.plan import Given, PlanModification, merge
from regimens.plans.verification import VerificationError, check_digest, check_verifier, compile_plan, timeline_digest


@pytest.fixture
def base(load):
    pf = load("nct03114865")
    return pf, merge(None, pf, Given(start=date(2027, 1, 4), height_cm=175, weight_kg=80, age_years=45))


def test_same_plan_same_digest(base):
    pf, plan = base
    assert timeline_digest(compile_plan(pf, plan)) == timeline_digest(compile_plan(pf, plan))


def test_revision_number_alone_does_not_change_the_digest(base):
    pf, plan = base
    renumbered = plan.model_copy(update={"revision": 7})
    assert timeline_digest(compile_plan(pf, plan)) == timeline_digest(compile_plan(pf, renumbered))


def test_a_delay_a_hold_or_a_dose_change_changes_the_digest(base):
    pf, plan = base
    d0 = timeline_digest(compile_plan(pf, plan))
    # maintenance.c2 day 1 is day 43 (28-day infusion + 14 rest) = 2027-02-15; a week later:
    delayed = merge(plan, pf, Given(actual_starts={"maintenance.c2": date(2027, 2, 22)}))
    held = merge(plan, pf, Given(hold={"maintenance.c1:8": "fever"}))
    reduced = merge(plan, pf, Given(modifications=(PlanModification(drug="dexamethasone", change="50%",
                                                                    reason="hyperglycaemia"),)))
    digests = {timeline_digest(compile_plan(pf, p)) for p in (delayed, held, reduced)}
    assert d0 not in digests and len(digests) == 3
    tl = compile_plan(pf, delayed)
    assert min(e.date for e in tl.events if e.cycle_id == "maintenance.c2") == date(2027, 2, 22)


def test_digest_covers_the_dose_working(base):
    pf, plan = base
    tl = compile_plan(pf, plan)
    e = next(e for e in tl.events if e.working is not None)
    from dataclasses import replace

    edited = tl.with_events(tuple(replace(x, working=replace(x.working, formula="edited")) if x is e else x
                                  for x in tl.events))
    assert timeline_digest(edited) != timeline_digest(tl)


def test_author_never_verifies_own_revision():
    with pytest.raises(VerificationError, match="second pharmacist"):
        check_verifier("7", "7")
    check_verifier("7", "8")


def test_release_needs_a_matching_verification():
    with pytest.raises(VerificationError, match="awaiting verification"):
        check_digest("", "a" * 64)
    with pytest.raises(VerificationError, match="verify it again"):
        check_digest("b" * 64, "a" * 64)
    check_digest("a" * 64, "a" * 64)
