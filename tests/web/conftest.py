"""Fixtures for the clinic service: users in each role, a patient, a plan made through the pages.

Runs on SQLite by default; with REGIMENS_DATABASE_URL=postgresql://... (set by .ci/run for a
throw-away cluster) the same tests run on PostgreSQL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from regimens.web.clinic.models import Patient, TreatmentPlan

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The real hasher (PBKDF2, a million rounds) takes a second per user; tests need many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    def _make(name: str, role: str | None) -> User:
        u = User.objects.create_user(name, password=PASSWORD)
        if role:
            u.groups.add(Group.objects.get(name=role))
        if role == "administrator":
            u.is_staff = True
            u.save()
        return u

    return _make


@pytest.fixture
def users(make_user):
    return {"ph1": make_user("ph1", "pharmacist"), "ph2": make_user("ph2", "pharmacist"),
            "nurse": make_user("nurse1", "nurse"), "nurse2": make_user("nurse2", "nurse"),
            "prescriber": make_user("dr1", "prescriber"), "admin": make_user("admin1", "administrator"),
            "nobody": make_user("nobody", None)}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def as_user(users):
    return lambda key: client_for(users[key])


@pytest.fixture
def patient(db):
    return Patient.objects.create(display_name="Test Patient A", record_number="MRN-001")


@pytest.fixture
def other_patient(db):
    return Patient.objects.create(display_name="Test Patient B", record_number="MRN-002")


NEW_PLAN = {"protocol": "nct03114865", "arm": "1", "start": "2027-01-04", "choice_cycles": "2",
            "height_cm": "175", "weight_kg": "80", "age_years": "45", "bsa_formula": "mosteller"}


@pytest.fixture
def make_plan(as_user):
    def _make(patient, data=None, author="ph1") -> TreatmentPlan:
        c = as_user(author)
        r = c.post(reverse("plan_new", args=[patient.id]), data or NEW_PLAN)
        assert r.status_code == 302, r.content.decode()[:3000]
        return TreatmentPlan.objects.filter(patient=patient).latest("created_at")

    return _make


@pytest.fixture
def plan(make_plan, patient):
    return make_plan(patient)


@pytest.fixture
def verified_plan(plan, as_user):
    r = as_user("ph2").post(reverse("plan_verify", args=[plan.id]), {"revision": str(plan.revisions.get().id)})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.released_id is not None
    return plan
