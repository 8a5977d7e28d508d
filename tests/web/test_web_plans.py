"""Plans through the pages: create, two-person verification, release, changes with a preview,
optimistic locking, import. Dates are checked against the seed record (NCT03114865: 28-day
blinatumomab cycles, continuous infusion days 1-28, 14 days rest; docs/protocols)."""

from __future__ import annotations

import io

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from pypdf import PdfReader

from regimens.plans.plan import load_plan
from regimens.plans.verification import timeline_digest
from regimens.web.clinic import service
from regimens.web.clinic.models import Revision, SheetRow

pytestmark = pytest.mark.django_db


def test_new_plan_awaits_verification_and_nothing_is_released(plan, as_user):
    rev = plan.revisions.get()
    assert rev.number == 1 and not rev.is_verified and plan.released_id is None
    text = load_plan(rev.plan_text, "stored")
    assert text.protocol.id == "nct03114865" and text.start.isoformat() == "2027-01-04"
    # the stored digest is the library's digest of the compiled plan
    _pf, _p, tl = service.compiled(rev)
    assert rev.timeline_digest == timeline_digest(tl)
    page = as_user("ph1").get(reverse("plan", args=[plan.id]))
    assert page.status_code == 200 and b"NOT VERIFIED" in page.content
    for kind in ("nurse", "patient"):
        r = as_user("nurse").get(reverse("plan_sheet", args=[plan.id, kind, "html"]))
        assert r.status_code == 409, kind
    assert as_user("ph1").get(reverse("plan_ics", args=[plan.id])).status_code == 409
    assert not SheetRow.objects.exists()
    with pytest.raises(service.NotReleased):
        service.released(plan)


def test_author_cannot_verify_own_plan_page_library_or_database(plan, as_user, users):
    rev = plan.revisions.get()
    r = as_user("ph1").post(reverse("plan_verify", args=[plan.id]), {"revision": str(rev.id)}, follow=True)
    assert b"second pharmacist" in r.content
    rev.refresh_from_db()
    assert not rev.is_verified
    # the database refuses it even when the page and the service are bypassed
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.filter(id=rev.id).update(verified_by=users["ph1"], verified_at=timezone.now(),
                                                  verified_digest=rev.timeline_digest)
    # and a verification must carry the digest of what was compiled
    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.filter(id=rev.id).update(verified_by=users["ph2"], verified_at=timezone.now(),
                                                  verified_digest="0" * 64)


def test_nurse_and_prescriber_cannot_verify(plan, as_user):
    rev = plan.revisions.get()
    for who in ("nurse", "prescriber"):
        r = as_user(who).post(reverse("plan_verify", args=[plan.id]), {"revision": str(rev.id)})
        assert r.status_code == 403


def test_second_pharmacist_verifies_then_sheets_and_ics_are_released(verified_plan, as_user):
    rev = verified_plan.revisions.get()
    assert rev.verified_by.username == "ph2" and rev.verified_digest == rev.timeline_digest
    pdf = as_user("nurse").get(reverse("plan_sheet", args=[verified_plan.id, "nurse", "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "NOT VERIFIED" not in text and "Test Patient A" in text
    ics = as_user("nurse").get(reverse("plan_ics", args=[verified_plan.id]))
    assert ics.status_code == 200 and ics.content.startswith(b"BEGIN:VCALENDAR")
    # nurse "today" index: one row per administration of the verified revision
    assert SheetRow.objects.filter(revision=rev).count() > 0


def test_pharmacist_sheet_of_a_draft_prints_with_not_verified_band(plan, as_user):
    r = as_user("ph1").get(reverse("plan_sheet", args=[plan.id, "pharmacist", "pdf"]))
    assert r.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "NOT VERIFIED" in text


def _change(client, plan, base, action, **extra):
    data = {"kind": "actual_start", "cycle": "maintenance.c2", "new_start": "2027-03-22", "reason": "counts low",
            "base": str(base), "action": action, "bsa_formula": "", **extra}
    return client.post(reverse("plan_change", args=[plan.id]), data)


def test_change_is_previewed_before_saving_and_voids_the_release(verified_plan, as_user):
    c = as_user("ph1")
    # cycle 2 starts day 43 (28 days infusion + 14 rest): 2027-01-04 + 42 = 2027-02-15
    c2 = service.events(verified_plan.revisions.get(), ["maintenance.c2"])
    assert min(e["date"] for e in c2) == "2027-02-15"
    # a save without the preview shown for exactly this change is only a preview
    r = _change(c, verified_plan, 1, "save")
    assert r.status_code == 200 and b"What this change moves" in r.content
    assert verified_plan.revisions.count() == 1
    digest = r.context["form"]["previewed"].value()
    moved = r.context["preview_dict"]["moved"]
    assert moved and all(i["shift_days"] == 35 for i in moved)  # 2027-02-15 → 2027-03-22
    r = _change(c, verified_plan, 1, "save", previewed=digest)
    assert r.status_code == 302
    verified_plan.refresh_from_db()
    assert verified_plan.latest_number == 2 and verified_plan.released_id is None
    assert as_user("nurse").get(reverse("plan_sheet", args=[verified_plan.id, "nurse", "html"])).status_code == 409
    assert not SheetRow.objects.filter(plan=verified_plan).exists()
    rev2 = verified_plan.revisions.get(number=2)
    assert load_plan(rev2.plan_text, "r2").actual_starts["maintenance.c2"].isoformat() == "2027-03-22"
    assert rev2.reason == "counts low"


def test_second_save_on_the_same_revision_is_refused_with_what_changed(plan, as_user):
    a, b = as_user("ph1"), as_user("ph2")
    pa = _change(a, plan, 1, "preview")
    pb = _change(b, plan, 1, "preview", new_start="2027-03-01", reason="patient away")
    assert _change(a, plan, 1, "save", previewed=pa.context["form"]["previewed"].value()).status_code == 302
    r = _change(b, plan, 1, "save", new_start="2027-03-01", reason="patient away",
                previewed=pb.context["form"]["previewed"].value())
    assert r.status_code == 409
    assert b"saved revision 2 meanwhile" in r.content and b"2027-03-22" in r.content
    plan.refresh_from_db()
    assert plan.latest_number == 2
    # nothing lost: the refused change is still in the form
    assert r.context["form"]["new_start"].value() == "2027-03-01"


def test_library_validation_is_shown_next_to_the_field(patient, as_user):
    bad = {"protocol": "nct03114865", "arm": "1", "start": "2027-01-04", "choice_cycles": "2",
           "height_cm": "1.75", "weight_kg": "80", "bsa_formula": "mosteller"}
    r = as_user("ph1").post(reverse("plan_new", args=[patient.id]), bad)
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert "height_cm" in errors and "metres" in errors["height_cm"][0]


def test_import_a_plan_file_made_with_the_cli(patient, as_user, run_cli, tmp_path):
    out = tmp_path / "p.yaml"
    code, _out, err = run_cli("plan", "new", "nct03114865", "--start", "2027-01-04", "--height", "175",
                              "--weight", "80", "-o", str(out))
    assert code == 0, err
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = as_user("ph1").post(reverse("plan_import", args=[patient.id]),
                            {"plan_file": SimpleUploadedFile("p.yaml", out.read_bytes())})
    assert r.status_code == 302
    rev = Revision.objects.get(plan__patient=patient)
    assert load_plan(rev.plan_text, "x").measurements.height_cm == 175 and not rev.is_verified
    bad = as_user("ph1").post(reverse("plan_import", args=[patient.id]),
                              {"plan_file": SimpleUploadedFile("p.yaml", b"format: nope\n")})
    assert bad.status_code == 200 and b"not a regimens plan file" in bad.content


def test_plan_file_download_round_trips(verified_plan, as_user):
    r = as_user("ph1").get(reverse("plan_file", args=[verified_plan.id]))
    assert r.status_code == 200
    assert load_plan(r.content.decode(), "dl") == load_plan(verified_plan.revisions.get().plan_text, "db")


def test_month_working_and_protocol_pages(verified_plan, as_user):
    c = as_user("prescriber")
    m = c.get(reverse("plan_month", args=[verified_plan.id]) + "?month=2027-01")
    assert m.status_code == 200 and b"January 2027" in m.content
    w = c.get(reverse("plan_working", args=[verified_plan.id]))
    assert w.status_code == 200 and b"9 mcg/day (flat dose)" in w.content
    assert b"blinatumomab is on the never-round list" in w.content
    p = c.get(reverse("protocol", args=["nct03114865"]))
    assert p.status_code == 200 and b"Decisions" in p.content


def test_nurse_records_an_administration_with_a_second_checker(verified_plan, as_user, users):
    from django.utils import timezone

    row = SheetRow.objects.filter(plan=verified_plan).first()
    SheetRow.objects.filter(id=row.id).update(date=timezone.localdate())  # make it due today
    c = as_user("nurse")
    page = c.get(reverse("today"))
    assert page.status_code == 200 and b"Test Patient A" in page.content
    data = {"row": str(row.id), "uid": row.uid, "dose_given": row.dose or "as prescribed", "checker": "nurse1",
            "checker_password": "x"}
    assert c.post(reverse("today"), data).status_code == 400  # self as checker
    data.update(checker="nurse2", checker_password="wrong")
    assert c.post(reverse("today"), data).status_code == 400
    data.update(checker_password="correct-horse-battery-9")
    assert c.post(reverse("today"), data).status_code == 302
    a = verified_plan.revisions.get().administrations.get()
    assert a.given_by == users["nurse"] and a.checked_by == users["nurse2"]
    assert b"given" in c.get(reverse("today")).content


def test_cease_goes_through_the_library_preview_and_is_stored(plan, as_user):
    c = as_user("ph1")
    data = {"kind": "cease", "drug": "blinatumomab", "new_start": "2027-02-15", "cease_why": "toxicity",
            "reason": "CRS grade 3", "base": "1", "action": "preview", "bsa_formula": "", "mode": "dose"}
    r = c.post(reverse("plan_change", args=[plan.id]), data)
    assert r.status_code == 200, r.context["form"].errors
    changed = r.context["preview_dict"]["status_changed"]
    # cycle 2 (day 1 2027-02-15) blinatumomab is cancelled; cycle 1 doses stay planned
    assert changed and {i["cycle_id"] for i in changed} == {"maintenance.c2"}
    data.update(action="save", previewed=r.context["form"]["previewed"].value())
    assert c.post(reverse("plan_change", args=[plan.id]), data).status_code == 302
    stored = load_plan(plan.revisions.get(number=2).plan_text, "r2")
    assert stored.ceased[0].drug == "blinatumomab" and stored.ceased[0].by == "ph1"


def test_a_change_the_protocol_forbids_is_refused_with_the_library_message(plan, as_user):
    # cycle 2 cannot start before cycle 1 has ended (day 42 = 2027-02-14)
    r = _change(as_user("ph1"), plan, 1, "preview", new_start="2027-02-01")
    assert r.status_code == 200 and r.context["preview"] is None
    assert "2027-02-15" in str(r.context["form"].errors)
    assert plan.revisions.count() == 1


def test_downloaded_calendar_uids_are_this_plans_own(verified_plan, as_user):
    # Two patients on the same protocol, arm and start date must not overwrite each other in one
    # CalDAV collection: the download's UIDs carry the plan's tag (the same one its feeds use).
    from icalendar import Calendar

    from regimens.web.feeds.served import ics_options

    ics = as_user("nurse").get(reverse("plan_ics", args=[verified_plan.id]))
    uids = {str(c["UID"]) for c in Calendar.from_ical(ics.content).walk("VEVENT")}
    assert uids and all(u.endswith("@regimens") for u in uids)
    assert ics_options("full", verified_plan).uid_salt == f"plan {verified_plan.id}"
    # A calendar of the same timeline without the plan's salt has other UIDs: the download is this plan's.
    from regimens.exporters.ics import IcsOptions, to_ics

    _rev, _pf, _p, tl = service.released(verified_plan)
    plain = to_ics(tl, IcsOptions(tz="America/Chicago"), service.generated_at())
    assert uids.isdisjoint(str(c["UID"]) for c in Calendar.from_ical(plain).walk("VEVENT"))
    again = as_user("nurse").get(reverse("plan_ics", args=[verified_plan.id]))
    assert {str(c["UID"]) for c in Calendar.from_ical(again.content).walk("VEVENT")} == uids, "stable"


def test_the_plan_page_says_when_each_pump_stops(verified_plan, as_user):
    # NCT03114865 (seed-004): blinatumomab 9 mcg/day days 1-7, then 28 mcg/day days 8-28, each bag
    # from 09:00; started Mon 2027-01-04, the 9 mcg/day infusion comes off on day 8 (Mon 11 Jan)
    # at 09:00 and the 28 mcg/day one on day 29 (Mon 1 Feb) at 09:00, when the next would start
    page = as_user("ph1").get(reverse("plan", args=[verified_plan.id]) + "?cycle=maintenance.c1").content.decode()
    assert "pump stops Mon 11 Jan 09:00" in page
    assert "pump stops Mon 1 Feb 09:00" in page
    assert page.count("pump stops") == 2  # a dexamethasone push has no pump
