"""Each plan's patient language (issue 18) in the service: chosen on the new-plan form, changed on
the plan page (audited, no new revision), and used by every patient-facing output — the patient
calendar HTML/PDF, the patient .ics, the feeds (full/minimal, patient/carer) and the printed feed
handout — while staff pages and sheets stay in English. A language no longer installed falls back
to English with a line saying so. Expected words are copied by hand from the catalogs."""

from __future__ import annotations

import re
import shutil
from html import unescape
from email.utils import format_datetime, parsedate_to_datetime

import icalendar
import pytest
from conftest import NEW_PLAN
from django.urls import reverse
from test_feeds import _change, _verify, fetch, make_feed

from regimens.language.catalogs import language, shipped_dir
from regimens.language.site import UNREVIEWED_EN
from regimens.web.clinic.models import AuditEntry, TreatmentPlan
from regimens.web.feeds import served

pytestmark = pytest.mark.django_db
ARABIC = re.compile("[\u0600-\u06ff]")
# the review line as each catalog has it (regimens.po, msgstr of UNREVIEWED_EN)
UNREVIEWED = {
    "es": "Esta traducción todavía no ha sido revisada por su equipo de atención.",
    "vi": "Bản dịch này chưa được nhóm chăm sóc của quý vị xem xét.",
}


@pytest.fixture(autouse=True)
def _cold(settings):
    settings.REGIMENS_FEED_LOG_FLUSH_SECONDS = 0
    settings.REGIMENS_LANGUAGES = None
    settings.REGIMENS_LANGUAGE_REVIEWS = None
    served.clear()
    yield
    served.clear()


def _plan_in(make_plan, patient, as_user, code: str, verify: bool = True) -> TreatmentPlan:
    tp = make_plan(patient, {**NEW_PLAN, "language": code})
    assert tp.language == code
    if verify:
        _verify(as_user("ph2"), tp)
        tp.refresh_from_db()
    return tp


def _descriptions(body: bytes) -> list[str]:
    cal = icalendar.Calendar.from_ical(body)
    return [str(cal["DESCRIPTION"])] + [str(e["DESCRIPTION"]) for e in cal.walk("VEVENT")]


def _summaries(body: bytes) -> list:
    return [e["SUMMARY"] for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]


def test_the_review_line_text_is_the_catalogs():
    # the hand-copied lines above are what the catalogs say (else the tests below test nothing)
    for code, line in UNREVIEWED.items():
        po = (shipped_dir() / code / "LC_MESSAGES" / "regimens.po").read_text(encoding="utf-8")
        assert line.split(" ")[0] in po


def test_a_spanish_plan_feeds_spanish_text_with_latin_drug_names(make_plan, patient, as_user, client):
    tp = _plan_in(make_plan, patient, as_user, "es")
    nurse = as_user("nurse")
    full, _ = make_feed(nurse, tp, audience="full")
    carer, _ = make_feed(nurse, tp, audience="full", holder="carer")
    minimal, _ = make_feed(nurse, tp, audience="minimal")
    body = fetch(client, full).content
    assert fetch(client, carer).content == body  # the same plan, the same words
    text = "\n".join(_descriptions(body))
    assert "Medicamento: blinatumomab" in text  # Spanish around the INN, the INN in Latin script
    assert "Cómo: en una vena" in text
    assert "Medicine:" not in text
    # the review line in both languages, at the start of the calendar and on every event
    descs = _descriptions(body)
    assert all(UNREVIEWED["es"] in d and UNREVIEWED_EN.split(" If")[0] in d for d in descs)
    summaries = _summaries(body)
    assert any("blinatumomab" in str(s) for s in summaries)
    assert {s.params.get("LANGUAGE") for s in summaries} == {"es"}
    small = fetch(client, minimal).content
    mtext = "\n".join(_descriptions(small))
    assert "Detalles: pregunte a su equipo de atención." in mtext
    assert "blinatumomab" not in small.decode().lower()  # minimal wording: no drug names in any language
    assert UNREVIEWED["es"] in mtext


def test_downloads_use_the_plan_language_and_staff_sheets_stay_english(make_plan, patient, as_user):
    tp = _plan_in(make_plan, patient, as_user, "ar")
    nurse = as_user("nurse")
    html = nurse.get(reverse("plan_sheet", args=[tp.id, "patient", "html"])).content.decode()
    assert re.search(r'<html[^>]*\blang="ar"', html) and re.search(r'<html[^>]*\bdir="rtl"', html)
    assert "blinatumomab" in html and ARABIC.search(html)
    assert UNREVIEWED_EN.split(" If")[0] in html  # the review line, in English too
    sheet = nurse.get(reverse("plan_sheet", args=[tp.id, "nurse", "html"])).content.decode()
    assert not re.search(r'dir="rtl"', sheet) and not ARABIC.search(sheet)
    assert re.search(r'<html[^>]*\blang="en"', sheet)
    assert "BLINatumomab" in sheet or "blinatumomab" in sheet.lower()
    ics = nurse.get(reverse("plan_ics", args=[tp.id])).content
    assert ARABIC.search("\n".join(_descriptions(ics))) and "blinatumomab" in ics.decode()
    # the staff plan page stays English and names the language
    page = nurse.get(reverse("plan", args=[tp.id])).content.decode()
    assert "Arabic (العربية), ar" in page and "not yet reviewed" in page
    assert "<td>ar</td>" in nurse.get(reverse("patient", args=[patient.id])).content.decode()
    # the printed feed handout: the patient's part right to left, the staff part English
    _token, created = make_feed(nurse, tp)
    handout = created.content.decode()
    assert '<div class="handout" lang="ar" dir="rtl">' in handout and "هذا الرابط خاص." in handout
    assert "Shown only now." in handout


def test_english_stays_the_default(plan, as_user):
    assert plan.language == "en"  # a form posted without the field (older page, script)
    assert plan.revisions.get().plan_text.find("language") == -1  # not part of the plan file


def test_changing_the_language_is_audited_and_needs_no_new_verification(make_plan, patient, as_user, client):
    tp = _plan_in(make_plan, patient, as_user, "es")
    token, _ = make_feed(as_user("nurse"), tp)
    first = fetch(client, token)
    assert "Medicamento: blinatumomab" in "\n".join(_descriptions(first.content))
    released, latest = tp.released_id, tp.latest_number
    # a nurse may not change it
    assert as_user("nurse").post(reverse("plan_language", args=[tp.id]),
                                 {"language": "vi", "reason": "x"}).status_code == 403
    r = as_user("ph1").post(reverse("plan_language", args=[tp.id]),
                            {"language": "vi", "reason": "patient asked; interpreter advised"})
    assert r.status_code == 302
    tp.refresh_from_db()
    assert (tp.language, tp.released_id, tp.latest_number) == ("vi", released, latest)  # still released
    e = AuditEntry.objects.filter(action="plan.language").get()
    assert (e.before, e.after, e.actor, e.reason) == ("es", "vi", "ph1", "patient asked; interpreter advised")
    assert e.plan_ref == str(tp.id)
    # the feed now speaks Vietnamese; a client polling with the old Last-Modified gets the new words
    since = first["Last-Modified"]
    again = fetch(client, token, **{"If-Modified-Since": since})
    assert again.status_code == 200
    assert parsedate_to_datetime(again["Last-Modified"]) > parsedate_to_datetime(since)
    vtext = "\n".join(_descriptions(again.content))
    assert "Thuốc: blinatumomab" in vtext and UNREVIEWED["vi"] in vtext and "Medicamento" not in vtext
    assert fetch(client, token, **{"If-None-Match": again["ETag"]}).status_code == 304
    # the same language again: nothing to record
    as_user("ph1").post(reverse("plan_language", args=[tp.id]), {"language": "vi", "reason": "again"})
    assert AuditEntry.objects.filter(action="plan.language").count() == 1


def test_a_new_language_reaches_a_feed_only_from_a_verified_revision(make_plan, patient, as_user, client):
    tp = _plan_in(make_plan, patient, as_user, "es")
    token, _ = make_feed(as_user("nurse"), tp)
    spanish = fetch(client, token).content
    _change(as_user("ph1"), tp, 1, "2027-03-22")  # revision 2 awaits verification
    as_user("ph1").post(reverse("plan_language", args=[tp.id]), {"language": "vi", "reason": "asked"})
    served.clear()
    # the last verified bytes, in the language they were verified in; never a 503, never the draft
    assert fetch(client, token).content == spanish
    assert as_user("nurse").get(reverse("plan_sheet", args=[tp.id, "patient", "html"])).status_code == 409
    _verify(as_user("ph2"), tp)
    assert "Thuốc: blinatumomab" in "\n".join(_descriptions(fetch(client, token).content))


def test_the_feed_handout_is_in_the_plan_language(make_plan, patient, as_user):
    tp = _plan_in(make_plan, patient, as_user, "es")
    _token, page = make_feed(as_user("nurse"), tp)
    html = page.content.decode()
    assert 'lang="es"' in html and "Este enlace es privado." in html
    assert "Suscríbase, no lo importe" in html
    assert "Consulte siempre con su equipo de atención" in html  # a message added for the handout
    assert UNREVIEWED["es"] in html
    assert "Shown only now." in html  # the staff part stays English
    # an English plan keeps the English handout
    en = make_plan(patient)
    _verify(as_user("ph2"), en)
    _t, page = make_feed(as_user("nurse"), en)
    assert "How to subscribe" in page.content.decode() and 'lang="es"' not in page.content.decode()


def test_a_reviewed_catalog_drops_the_line_from_the_feed(make_plan, patient, as_user, client, settings, tmp_path):
    tp = _plan_in(make_plan, patient, as_user, "es")
    token, _ = make_feed(as_user("nurse"), tp)
    first = fetch(client, token)
    assert UNREVIEWED["es"] in "\n".join(_descriptions(first.content))
    reviews = tmp_path / "reviews.yaml"
    reviews.write_text(f"es:\n  reviewed_by: \"A. García, PharmD\"\n  date: 2027-01-15\n"
                       f"  catalog_sha256: {language('es').catalog_sha256}\n", encoding="utf-8")
    settings.REGIMENS_LANGUAGE_REVIEWS = str(reviews)
    # a calendar app that polls with If-Modified-Since alone gets the new words, not a 304
    again = fetch(client, token, If_Modified_Since=first["Last-Modified"])
    assert again.status_code == 200 and again.content != first.content
    assert parsedate_to_datetime(again["Last-Modified"]) > parsedate_to_datetime(first["Last-Modified"])
    text = "\n".join(_descriptions(again.content))
    assert UNREVIEWED["es"] not in text and "Medicamento: blinatumomab" in text
    # and from then on the reviewed bytes are what a 304 stands for
    assert fetch(client, token, If_Modified_Since=again["Last-Modified"]).status_code == 304


def test_a_language_removed_from_the_site_falls_back_to_english_visibly(make_plan, patient, as_user, client,
                                                                         settings, tmp_path):
    site = tmp_path / "languages"
    site.mkdir()
    po = (shipped_dir() / "es" / "LC_MESSAGES" / "regimens.po").read_text(encoding="utf-8")
    (site / "ko.po").write_text(po.replace('"Language: es\\n"', '"Language: ko\\n"'), encoding="utf-8")
    settings.REGIMENS_LANGUAGES = str(site)
    form = as_user("ph1").get(reverse("plan_new", args=[patient.id]) + "?protocol=nct03114865").content.decode()
    assert 'value="ko"' in form
    tp = _plan_in(make_plan, patient, as_user, "ko")
    token, _ = make_feed(as_user("nurse"), tp)
    assert fetch(client, token).status_code == 200
    shutil.rmtree(site)  # the site removes the catalog
    served.clear()
    line = "The patient's language (ko) is not installed at this site, so this calendar is in English."
    nurse = as_user("nurse")
    html = nurse.get(reverse("plan_sheet", args=[tp.id, "patient", "html"]))
    assert html.status_code == 200 and line in unescape(html.content.decode())
    assert "My treatment calendar" in html.content.decode()
    ics = nurse.get(reverse("plan_ics", args=[tp.id]))
    assert ics.status_code == 200 and all(line in d for d in _descriptions(ics.content))
    feed = fetch(client, token)
    assert feed.status_code == 200
    descs = _descriptions(feed.content)
    assert all(line in d for d in descs) and "Medicine: blinatumomab" in "\n".join(descs)
    page = nurse.get(reverse("plan", args=[tp.id])).content.decode()
    assert "not installed at this site" in page
    _t, handout = make_feed(nurse, tp)
    assert handout.status_code == 201 and line in unescape(handout.content.decode())


def test_the_language_change_form_refuses_an_unknown_code(plan, as_user):
    r = as_user("ph1").post(reverse("plan_language", args=[plan.id]), {"language": "klingon", "reason": "x"})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.language == "en" and not AuditEntry.objects.filter(action="plan.language").exists()


def test_last_modified_of_a_language_change_in_the_verification_second(make_plan, patient, as_user, client):
    # verified and changed within one second: Last-Modified must still move forward
    tp = _plan_in(make_plan, patient, as_user, "es")
    token, _ = make_feed(as_user("nurse"), tp)
    before = fetch(client, token)["Last-Modified"]
    as_user("ph1").post(reverse("plan_language", args=[tp.id]), {"language": "vi", "reason": "asked"})
    after = fetch(client, token, **{"If-Modified-Since": before})
    assert after.status_code == 200 and after["Last-Modified"] != before
    assert format_datetime(parsedate_to_datetime(after["Last-Modified"]), usegmt=True) == after["Last-Modified"]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_the_patient_calendar_pdf_download_is_in_the_plan_language(make_plan, patient, as_user, tmp_path):
    import subprocess

    tp = _plan_in(make_plan, patient, as_user, "es")
    r = as_user("nurse").get(reverse("plan_sheet", args=[tp.id, "patient", "pdf"]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(r.content)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "Mi calendario de tratamiento" in text and "blinatumomab" in text
    assert "Esta traducción todavía no ha sido revisada" in text
    assert "My treatment calendar" not in text


def test_an_imported_plan_file_takes_the_language_chosen_on_the_import_form(patient, as_user, run_cli, tmp_path):
    # a plan file made with the CLI carries no patient language: the import form asks for it
    from django.core.files.uploadedfile import SimpleUploadedFile

    out = tmp_path / "p.yaml"
    code, _out, err = run_cli("plan", "new", "nct03114865", "--start", "2027-01-04", "--height", "175",
                              "--weight", "80", "-o", str(out))
    assert code == 0, err
    c = as_user("ph1")
    form = c.get(reverse("plan_import", args=[patient.id])).content.decode()
    assert 'name="language"' in form and 'value="vi"' in form
    r = c.post(reverse("plan_import", args=[patient.id]),
               {"plan_file": SimpleUploadedFile("p.yaml", out.read_bytes()), "language": "vi"})
    assert r.status_code == 302
    tp = TreatmentPlan.objects.get(patient=patient)
    assert tp.language == "vi"
    assert "patient language vi" in AuditEntry.objects.get(action="plan.create", plan_ref=str(tp.id)).what
