"""The audit trail: every action is recorded, rows are append-only, and an edited or deleted row
is detected by the hash chain."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from regimens.web.clinic import audit
from regimens.web.clinic.models import AppendOnly, AuditEntry

pytestmark = pytest.mark.django_db


def _actions(patient):
    return [e.action for e in AuditEntry.objects.filter(patient=patient).order_by("seq")]


def test_create_verify_view_print_download_are_recorded(verified_plan, patient, as_user):
    as_user("prescriber").get(reverse("patient", args=[patient.id]))
    as_user("nurse").get(reverse("plan_sheet", args=[verified_plan.id, "nurse", "html"]))
    as_user("nurse").get(reverse("plan_ics", args=[verified_plan.id]))
    as_user("ph1").get(reverse("plan_file", args=[verified_plan.id]))
    acts = _actions(patient)
    for a in ("plan.create", "plan.verify", "patient.view", "sheet.print", "calendar.download", "plan.download"):
        assert a in acts, a
    verify = AuditEntry.objects.get(patient=patient, action="plan.verify")
    assert verify.actor == "ph2" and verify.after == verified_plan.revisions.get().timeline_digest
    create = AuditEntry.objects.get(patient=patient, action="plan.create")
    assert create.actor == "ph1" and "format: regimens-plan/1" in create.after
    assert audit.verify_chain() == []


def test_entries_cannot_be_changed_or_deleted(plan):
    e = AuditEntry.objects.first()
    e.what = "nothing happened"
    with pytest.raises(AppendOnly):
        e.save()
    with pytest.raises(AppendOnly):
        e.delete()
    # the database itself refuses (trigger), whatever the application does
    for sql in ("UPDATE clinic_auditentry SET what = 'x'", "DELETE FROM clinic_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)


def _drop_triggers():
    # What someone with direct database access could do; the chain must still show it.
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER audit_no_update" + (" ON clinic_auditentry" if connection.vendor == "postgresql"
                                                      else ""))
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER audit_no_delete")


def test_an_edited_row_is_detected(verified_plan, as_user):
    as_user("nurse").get(reverse("plan_sheet", args=[verified_plan.id, "nurse", "html"]))
    assert audit.verify_chain() == []
    target = AuditEntry.objects.get(action="plan.verify")
    _drop_triggers()
    with connection.cursor() as cur:
        cur.execute("UPDATE clinic_auditentry SET actor = %s WHERE seq = %s", ["ph1", target.seq])
    problems = audit.verify_chain()
    assert problems == [f"entry {target.seq}: content does not match its hash (edited)"]


def test_a_deleted_row_is_detected(verified_plan):
    target = AuditEntry.objects.get(action="plan.create")
    _drop_triggers()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM clinic_auditentry WHERE seq = %s", [target.seq])
    problems = audit.verify_chain()
    assert any("missing" in p for p in problems) and any("link" in p for p in problems)


def test_patient_page_and_exports(verified_plan, patient, other_patient, as_user):
    c = as_user("prescriber")
    page = c.get(reverse("patient_audit", args=[patient.id]))
    assert page.status_code == 200 and b"plan.verify" in page.content
    rows = json.loads(c.get(reverse("patient_audit_export", args=[patient.id, "json"])).content)
    assert {r["patient"] for r in rows} == {str(patient.id)}
    assert all(len(r["hash"]) == 64 for r in rows)
    text = c.get(reverse("patient_audit_export", args=[patient.id, "csv"])).content.decode()
    assert [r["action"] for r in csv.DictReader(io.StringIO(text))] == [r["action"] for r in rows]
    # the whole-hospital export is for administrators only, and says whether the chain holds
    assert c.get(reverse("audit_export", args=["json"])).status_code == 403
    full = as_user("admin").get(reverse("audit_export", args=["json"]))
    assert full.status_code == 200 and full["X-Audit-Chain"] == "intact"
