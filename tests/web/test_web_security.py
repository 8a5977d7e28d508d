"""OWASP basics against the service; each attempt must fail safely (no effect, no error page,
no script in a page)."""

from __future__ import annotations

import pytest
import yaml
from django.conf import settings
from django.test import Client
from django.urls import reverse

from regimens.protocol.catalog import shipped_dir
from regimens.web.clinic.models import AuditEntry, Patient, TreatmentPlan

pytestmark = pytest.mark.django_db
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def _no_raw_markup(body: bytes) -> None:
    assert b"<script>alert" not in body and b"<img src=x" not in body


# --- CSRF ------------------------------------------------------------------------------------

def test_posts_without_csrf_token_are_refused(users, plan):
    c = Client(enforce_csrf_checks=True)
    c.force_login(users["ph2"])
    rev = plan.revisions.get()
    assert c.post(reverse("plan_verify", args=[plan.id]), {"revision": str(rev.id)}).status_code == 403
    assert c.post(reverse("patient_new"), {"display_name": "Mallory"}).status_code == 403
    rev.refresh_from_db()
    assert not rev.is_verified and not Patient.objects.filter(display_name="Mallory").exists()
    # with the token from the page, the same request works
    page = c.get(reverse("patient_new"))
    token = page.context["csrf_token"]
    assert c.post(reverse("patient_new"), {"display_name": "Mallory", "csrfmiddlewaretoken": str(token)}
                  ).status_code == 302


def test_login_form_needs_csrf_too(users):
    c = Client(enforce_csrf_checks=True)
    assert c.post(reverse("login"), {"username": "ph1", "password": "x"}).status_code == 403


# --- XSS ---------------------------------------------------------------------------------------

def test_free_text_is_escaped_everywhere(as_user, make_plan):
    c = as_user("ph1")
    r = c.post(reverse("patient_new"), {"display_name": XSS, "record_number": XSS[:40]})
    p = Patient.objects.get(display_name=XSS)
    tp = make_plan(p)
    data = {"kind": "hold", "cycle": "maintenance.c1", "selector": "maintenance.c1:8", "reason": XSS,
            "note": XSS, "base": "1", "action": "preview", "bsa_formula": ""}
    pv = c.post(reverse("plan_change", args=[tp.id]), data)
    data.update(action="save", previewed=pv.context["form"]["previewed"].value())
    assert c.post(reverse("plan_change", args=[tp.id]), data).status_code == 302
    as_user("ph2").post(reverse("plan_verify", args=[tp.id]), {"revision": str(tp.revisions.get(number=2).id)})
    pages = [reverse("patients") + "?q=" + XSS, reverse("patient", args=[p.id]), reverse("plan", args=[tp.id]),
             reverse("plan", args=[tp.id]) + "?cycle=maintenance.c1", reverse("plan_month", args=[tp.id]),
             reverse("plan_working", args=[tp.id]), reverse("patient_audit", args=[p.id]),
             reverse("plan_sheet", args=[tp.id, "nurse", "html"]),
             reverse("plan_sheet", args=[tp.id, "pharmacist", "html"]),
             reverse("plan_sheet", args=[tp.id, "patient", "html"])]
    for url in pages:
        body = c.get(url).content
        assert b"&lt;script&gt;" in body or b"&lt;script" in body or url.endswith("month/"), url
        _no_raw_markup(body)
    assert r.status_code == 302


def test_protocol_notes_from_a_site_file_are_escaped(tmp_path, as_user, patient, settings):
    site = tmp_path / "site"
    site.mkdir()
    data = yaml.safe_load((shipped_dir() / "nct03114865.yaml").read_text())
    data["notes"] = XSS
    data["ambiguities"][0]["text"] = XSS
    (site / "nct03114865.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    settings.REGIMENS_PROTOCOLS = str(site)
    c = as_user("ph1")
    for url in (reverse("protocol", args=["nct03114865"]),
                reverse("plan_new", args=[patient.id]) + "?protocol=nct03114865"):
        body = c.get(url).content
        _no_raw_markup(body)
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in c.get(reverse("protocol", args=["nct03114865"])).content


def test_pages_carry_a_strict_csp_and_no_store(plan, as_user):
    r = as_user("ph1").get(reverse("plan", args=[plan.id]))
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r["Cache-Control"] == "no-store"
    assert b"<script>" not in r.content and b" onclick=" not in r.content and b' style="' not in r.content
    assert settings.SESSION_COOKIE_SECURE and settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_SECURE


# --- IDOR and roles ---------------------------------------------------------------------------

def test_every_page_needs_login(plan, patient):
    c = Client()
    for url in (reverse("patients"), reverse("patient", args=[patient.id]), reverse("plan", args=[plan.id]),
                reverse("plan_file", args=[plan.id]), reverse("today"), reverse("audit_export", args=["csv"])):
        r = c.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url


def test_roles_are_checked_server_side(plan, patient, as_user):
    rev = plan.revisions.get()
    forbidden = {
        "nobody": [reverse("patients"), reverse("patient", args=[patient.id]), reverse("plan", args=[plan.id])],
        "nurse": [reverse("plan_new", args=[patient.id]), reverse("plan_change", args=[plan.id]),
                  reverse("plan_file", args=[plan.id]), reverse("plan_import", args=[patient.id]),
                  reverse("plan_sheet", args=[plan.id, "pharmacist", "html"])],
        "prescriber": [reverse("plan_change", args=[plan.id]), reverse("today"), reverse("patient_new"),
                       reverse("plan_file", args=[plan.id])],
        "admin": [reverse("patient", args=[patient.id]), reverse("plan", args=[plan.id])],
    }
    for who, urls in forbidden.items():
        for url in urls:
            assert as_user(who).get(url).status_code == 403, (who, url)
    for who in ("nurse", "prescriber", "admin", "nobody"):
        assert as_user(who).post(reverse("plan_verify", args=[plan.id]), {"revision": str(rev.id)}).status_code == 403
    rev.refresh_from_db()
    assert not rev.is_verified


def test_objects_of_one_plan_cannot_be_reached_through_another(make_plan, patient, other_patient, as_user):
    a, b = make_plan(patient), make_plan(other_patient)
    rev_b = b.revisions.get()
    # verifying plan A with plan B's revision id: not found, and nothing verified
    r = as_user("ph2").post(reverse("plan_verify", args=[a.id]), {"revision": str(rev_b.id)})
    assert r.status_code == 404
    rev_b.refresh_from_db()
    assert not rev_b.is_verified
    # unknown or malformed ids: 404, never another patient's data or an error page
    import uuid

    for url in (f"/plans/{uuid.uuid4()}/", f"/patients/{uuid.uuid4()}/", "/plans/1/", "/patients/../admin/"):
        assert as_user("ph1").get(url).status_code == 404, url


def test_urls_never_carry_patient_data(plan, patient, as_user):
    body = as_user("ph1").get(reverse("patient", args=[patient.id])).content.decode()
    import re

    for href in re.findall(r'href="([^"]+)"', body):
        assert patient.display_name not in href and patient.record_number not in href


# --- SQL injection in search --------------------------------------------------------------------

@pytest.mark.parametrize("q", ["' OR '1'='1", "'; DROP TABLE clinic_patient; --", "%", "_", "\\",
                               "A' UNION SELECT username, password FROM auth_user --"])
def test_search_injection_is_only_text(q, patient, other_patient, as_user):
    r = as_user("prescriber").get(reverse("patients"), {"q": q})
    assert r.status_code == 200
    assert r.context["patients"] == [] and b"pbkdf2" not in r.content and b"md5$" not in r.content
    assert Patient.objects.count() == 2 and TreatmentPlan.objects.count() == 0


def test_search_finds_by_name_and_exact_record_number(patient, other_patient, as_user):
    c = as_user("prescriber")
    assert [p.id for p in c.get(reverse("patients"), {"q": "patient a"}).context["patients"]] == [patient.id]
    assert [p.id for p in c.get(reverse("patients"), {"q": "MRN-002"}).context["patients"]] == [other_patient.id]
    assert c.get(reverse("patients"), {"q": "MRN-00"}).context["patients"] == []


# --- login lockout ----------------------------------------------------------------------------

def test_lockout_after_repeated_failures(users):
    c = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        c.post(reverse("login"), {"username": "ph1", "password": "wrong"})
    r = c.post(reverse("login"), {"username": "ph1", "password": "correct-horse-battery-9"})
    assert r.status_code == 429 and b"locked" in r.content
    assert "_auth_user_id" not in c.session
    # another account from the same address is not locked by ph1's failures
    ok = Client().post(reverse("login"), {"username": "ph2", "password": "correct-horse-battery-9"})
    assert ok.status_code == 302


def test_audit_and_logs_hold_no_password(users):
    Client().post(reverse("login"), {"username": "ph1", "password": "s3cret-typo"})
    assert not AuditEntry.objects.filter(what__contains="s3cret").exists()

