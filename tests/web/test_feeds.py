"""Calendar feeds through the service's pages and the feed URL (Django test client): tokens stored
hashed and shown once, only verified revisions served, HTTP validators, revoke and rotate,
permissions, audit, the access log, the "many addresses" flag, the byte cache, change e-mails."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import format_datetime

import icalendar
import pytest
from django.urls import reverse

from regimens.web.clinic import service
from regimens.web.clinic.models import AuditEntry
from regimens.web.feeds import served
from regimens.web.feeds.models import FeedAccess, FeedBody, FeedToken

pytestmark = pytest.mark.django_db
TOKEN = re.compile(rb"/feeds/([A-Za-z0-9_-]{40,64})\.ics")


@pytest.fixture(autouse=True)
def _sync_log_and_cold_cache(settings):
    settings.REGIMENS_FEED_LOG_FLUSH_SECONDS = 0  # write each access at once
    served.clear()
    yield
    served.clear()


def make_feed(client, plan, audience="full", holder="patient", email=""):
    r = client.post(reverse("feed_new", args=[plan.id]), {"audience": audience, "holder": holder, "email": email})
    assert r.status_code == 201, r.content[:500]
    tokens = set(TOKEN.findall(r.content))
    assert len(tokens) == 1
    return tokens.pop().decode(), r


def fetch(client, token, method="get", **headers):
    return getattr(client, method)(f"/feeds/{token}.ics", headers=headers)


def _change(client, plan, base, new_start):
    data = {"kind": "actual_start", "cycle": "maintenance.c2", "new_start": new_start, "reason": "counts low",
            "base": str(base), "action": "preview", "bsa_formula": ""}
    r = client.post(reverse("plan_change", args=[plan.id]), data)
    data.update(action="save", previewed=r.context["form"]["previewed"].value())
    assert client.post(reverse("plan_change", args=[plan.id]), data).status_code == 302


def _verify(client, plan):
    plan.refresh_from_db()
    rev = plan.revisions.get(number=plan.latest_number)
    assert client.post(reverse("plan_verify", args=[plan.id]), {"revision": str(rev.id)}).status_code == 302
    rev.refresh_from_db()
    return rev


def test_a_feed_from_creation_to_revocation(plan, as_user, client, patient, caplog):
    ph1, ph2 = as_user("ph1"), as_user("ph2")
    token, page = make_feed(ph1, plan)
    ft = FeedToken.objects.get()
    # shown once, stored as its SHA-256 only, 256 random bits
    assert len(token) >= 43 and ft.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert b"webcal://" in page.content and page.content.count(b"<svg") == 2 and b"Shown only now" in page.content
    for needle in (b"Google", b"iPhone", b"Outlook", b"Android", b"Mac"):
        assert needle in page.content
    assert b"feeds/handout.css" in page.content  # the page prints as the patient's handout
    # nothing verified yet: no calendar, and the plan page (shown again) never carries the token
    assert fetch(client, token).status_code == 503
    assert token.encode() not in ph1.get(reverse("plan", args=[plan.id])).content

    rev = _verify(ph2, plan)
    r = fetch(client, token)
    body = r.content
    assert r.status_code == 200 and r["Content-Type"] == "text/calendar; charset=utf-8"
    assert r["ETag"] == '"' + hashlib.sha256(body).hexdigest() + '"'
    assert r["Last-Modified"] == format_datetime(rev.verified_at.astimezone(UTC).replace(microsecond=0), usegmt=True)
    assert r["Cache-Control"] == "private, no-cache"
    cal = icalendar.Calendar.from_ical(body)
    stamp = rev.verified_at.astimezone(UTC).replace(microsecond=0)
    assert {e["DTSTAMP"].dt for e in cal.walk("VEVENT")} == {stamp}
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body and b"X-PUBLISHED-TTL:PT1H\r\n" in body
    for private in (patient.display_name, patient.record_number):  # never a name or record number
        assert private.encode() not in body and private.lower().encode() not in body.lower()
    head = fetch(client, token, "head")
    assert head.status_code == 200 and head.content == b"" and head["ETag"] == r["ETag"]
    assert fetch(client, token, **{"If-None-Match": r["ETag"]}).status_code == 304
    gz = fetch(client, token, **{"Accept-Encoding": "gzip"})
    assert gz["Content-Encoding"] == "gzip" and gz["ETag"] != r["ETag"]

    # a change awaiting verification: the feed keeps the verified bytes
    _change(ph1, plan, 1, "2027-03-22")
    assert fetch(client, token, **{"If-None-Match": r["ETag"]}).status_code == 304
    assert fetch(client, token).content == body
    rev2 = _verify(ph2, plan)
    new = fetch(client, token, **{"If-None-Match": r["ETag"]})
    assert new.status_code == 200 and new["ETag"] != r["ETag"] and new.content != body
    assert fetch(client, token, **{"If-None-Match": new["ETag"]}).status_code == 304
    before = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    after = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(new.content).walk("VEVENT")}
    moved = [u for u in after if u in before and after[u]["DTSTART"].dt != before[u]["DTSTART"].dt]
    assert moved and set(after) == set(before)  # same UIDs: the phone moves events, no duplicates
    for u in moved:
        assert int(after[u]["SEQUENCE"]) > int(before[u].get("SEQUENCE", 0))
        assert after[u]["LAST-MODIFIED"].dt == rev2.verified_at.astimezone(UTC).replace(microsecond=0)
        assert after[u]["DTSTART"].dt - before[u]["DTSTART"].dt == timedelta(days=35)  # 15 Feb → 22 Mar

    # revoked: 404 at once, and unknown or malformed tokens too
    assert ph1.post(reverse("feed_revoke", args=[plan.id, ft.id])).status_code == 302
    assert fetch(client, token).status_code == 404
    assert fetch(client, token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 404
    assert client.get("/feeds/x.ics").status_code == 404

    # the access log: time, client, app and status, never the token
    log = list(FeedAccess.objects.filter(feed=ft).order_by("at", "id"))
    assert [a.status for a in log] == [503, 200, 200, 304, 200, 304, 200, 200, 304, 404]
    assert {a.address for a in log} == {"127.0.0.1"}
    texts = [str(v) for a in log for v in (a.address, a.agent)]
    texts += [t for e in AuditEntry.objects.all() for t in (e.what, e.before, e.after, e.reason)]
    assert not any(token in t for t in texts)
    assert token not in caplog.text  # Django logs 4xx/5xx paths; a feed's path is its credential
    actions = list(AuditEntry.objects.filter(action__startswith="feed.").values_list("action", flat=True))
    assert actions == ["feed.create", "feed.revoke"]


def test_rotate_and_permissions(verified_plan, as_user, client):
    token, _ = make_feed(as_user("nurse"), verified_plan, audience="full", holder="carer")
    old = FeedToken.objects.get()
    assert fetch(client, token).status_code == 200
    r = as_user("ph1").post(reverse("feed_rotate", args=[verified_plan.id, old.id]))
    assert r.status_code == 200
    (new_token,) = {t.decode() for t in TOKEN.findall(r.content)}
    assert new_token != token
    assert fetch(client, token).status_code == 404 and fetch(client, new_token).status_code == 200
    new = FeedToken.objects.get(replaces=old)
    assert (new.audience, new.holder, new.revoked) == ("full", "carer", False)
    old.refresh_from_db()
    assert old.revoked and old.revoked_at is not None
    assert AuditEntry.objects.filter(action="feed.rotate").count() == 1
    # a prescriber sees the plan but may not make feeds; nobody signed out may do anything
    assert as_user("prescriber").post(reverse("feed_new", args=[verified_plan.id]),
                                      {"audience": "full", "holder": "patient"}).status_code == 403
    assert as_user("prescriber").post(reverse("feed_revoke", args=[verified_plan.id, new.id])).status_code == 403
    assert client.post(reverse("feed_revoke", args=[verified_plan.id, new.id])).status_code == 302  # to login
    new.refresh_from_db()
    assert not new.revoked
    assert FeedToken.objects.count() == 2


def test_a_poll_never_compiles_the_schedule(verified_plan, as_user, client, monkeypatch):
    token, _ = make_feed(as_user("ph1"), verified_plan)
    first = fetch(client, token)
    assert FeedBody.objects.count() == 1

    def boom(*a, **k):
        raise AssertionError("the schedule was compiled for a poll")

    monkeypatch.setattr(service, "released", boom)
    monkeypatch.setattr(service, "compiled", boom)
    monkeypatch.setattr(service, "timeline", boom)
    for cold in (False, True):  # from memory, then from the FeedBody table (a restart)
        if cold:
            served.clear()
        assert fetch(client, token, **{"If-None-Match": first["ETag"]}).status_code == 304
        again = fetch(client, token)
        assert again.status_code == 200 and again.content == first.content


def test_minimal_wording_has_no_medicine_names(verified_plan, as_user, client, patient):
    from dataclasses import fields

    from regimens.exporters.ics import IcsOptions

    if "audience" not in {f.name for f in fields(IcsOptions)}:
        pytest.skip("the calendar export has no minimal audience yet (IcsOptions.audience)")
    token, _ = make_feed(as_user("ph1"), verified_plan, audience="minimal")
    body = fetch(client, token).content.decode().lower()
    _pf, _p, tl = service.compiled(verified_plan.released)
    drugs = {e.drug.lower() for e in tl.events if e.drug}
    assert drugs  # blinatumomab, dexamethasone
    assert [d for d in drugs if d in body] == []
    assert "mg" not in re.findall(r"\b(mg|mcg)\b", body)
    for private in (patient.display_name, patient.record_number):
        assert private.lower() not in body


def test_many_addresses_are_flagged_on_the_plan_page(verified_plan, as_user, settings):
    from django.utils import timezone

    make_feed(as_user("ph1"), verified_plan)
    ft = FeedToken.objects.get()
    page = as_user("prescriber").get(reverse("plan", args=[verified_plan.id]))
    assert b"Calendar feeds" in page.content and b"addresses (more than" not in page.content
    assert b"Create feed link" not in page.content  # not the prescriber's to make
    now = timezone.now()
    FeedAccess.objects.bulk_create([FeedAccess(feed=ft, at=now - timedelta(hours=i), address=f"198.51.100.{i}",
                                               status=200) for i in range(settings.REGIMENS_FEED_ADDRESS_LIMIT + 1)])
    page = as_user("ph1").get(reverse("plan", args=[verified_plan.id]))
    assert f"Fetched from {settings.REGIMENS_FEED_ADDRESS_LIMIT + 1} addresses".encode() in page.content


def test_same_day_change_email(verified_plan, as_user, settings, monkeypatch):
    from aiosmtpd.controller import Controller
    from dav_server import free_port

    from regimens.web.feeds import views

    got = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append(envelope.original_content)
            return "250 OK"

    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        settings.REGIMENS_SMTP_HOST, settings.REGIMENS_SMTP_PORT = "127.0.0.1", port
        settings.REGIMENS_SMTP_SECURITY = "none"
        settings.REGIMENS_MAIL_FROM, settings.REGIMENS_MAIL_FROM_NAME = "onc-pharmacy@hospital.example", "Oncology"
        ph1, ph2 = as_user("ph1"), as_user("ph2")
        make_feed(ph1, verified_plan, email="patient@example.org")
        ft = FeedToken.objects.get()
        # decided on Sun 14 Feb 2027: cycle 2 (due Mon 15 Feb) moves to 22 Mar
        _change(ph1, verified_plan, 1, "2027-03-22")
        _verify(ph2, verified_plan)

        class Clock:
            @staticmethod
            def localdate():
                return date(2027, 2, 14)

            @staticmethod
            def now():
                return datetime(2027, 2, 14, 16, 0, tzinfo=UTC)

        monkeypatch.setattr(views, "timezone", Clock)
        r = ph1.post(reverse("feed_email", args=[verified_plan.id, ft.id]), {"email": "patient@example.org"},
                     follow=True)
        assert b"Sent 1 e-mail" in r.content, r.content[-2000:]
    finally:
        ctl.stop()
    (raw,) = got
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == "patient@example.org"
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert part.get_param("method") == str(cal["METHOD"]) == "REQUEST"
    evs = cal.walk("VEVENT")
    assert evs and all(e["DTSTART"].dt.strftime("%Y-%m-%d") >= "2027-03-22" for e in evs)
    assert {int(e["SEQUENCE"]) for e in evs} == {2}
    entry = AuditEntry.objects.get(action="feed.email")
    assert "patient@example.org" not in entry.what
