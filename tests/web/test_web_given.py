"""A dose recorded on Today is an administration row and an audit entry against the verified
revision the nurse worked from — never a plan revision (docs/service.md, "What was given"): the
schedule, its verification and what is released stay as they were, and the plan page lists what
was given against each dose."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from regimens.web.clinic import service
from regimens.web.clinic.models import AuditEntry, SheetRow

pytestmark = pytest.mark.django_db


def test_a_recorded_dose_is_an_administration_not_a_revision_and_shows_on_the_plan(verified_plan, as_user, users):
    row = SheetRow.objects.filter(plan=verified_plan).exclude(dose="").first()
    SheetRow.objects.filter(id=row.id).update(date=timezone.localdate())  # due today
    rev = verified_plan.released
    before = (verified_plan.latest_number, rev.id, rev.timeline_digest, verified_plan.revisions.count())
    c = as_user("nurse")
    data = {"row": str(row.id), "uid": row.uid, "dose_given": "given as 7 mcg/day (pump fault)", "checker": "nurse2",
            "checker_password": "correct-horse-battery-9", "note": "pump changed at 10:40"}
    assert c.post(reverse("today"), data).status_code == 302

    verified_plan.refresh_from_db()
    after = (verified_plan.latest_number, verified_plan.released_id, verified_plan.released.timeline_digest,
             verified_plan.revisions.count())
    assert after == before  # no new revision, nothing to verify again
    service.released(verified_plan)  # still released to nurses and patients
    a = rev.administrations.get()
    entry = AuditEntry.objects.get(action="dose.given")
    assert entry.revision_ref == str(rev.id) and entry.after == a.dose_given and entry.reason == a.note
    assert "checked by nurse2" in entry.what

    page = as_user("ph1").get(reverse("plan", args=[verified_plan.id])).content.decode()
    section = page[page.index('id="given"'):]
    section = section[:section.index("</section>")]
    for text in ("given as 7 mcg/day (pump fault)", "nurse1", "nurse2", "pump changed at 10:40",
                 f"{row.cycle_id} day {row.day}"):
        assert text in section, text
    assert row.dose in section  # the planned dose beside what was given
    assert "Record a change" in section  # how a pharmacist makes the schedule follow


def test_the_plan_page_says_when_nothing_was_given(verified_plan, as_user):
    page = as_user("ph1").get(reverse("plan", args=[verified_plan.id])).content.decode()
    assert "Nothing recorded as given yet." in page
