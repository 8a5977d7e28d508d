"""The patient calendar printed by the service with a feed's link (issue 17): from the page that
shows the link once, as a POST carrying the token (never in a URL); the QR codes in the PDF read
back (zbarimg) as exactly that feed's links; a wrong, revoked or foreign token is refused; the
audit names the feed, never the token."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.urls import reverse
from test_feeds import make_feed

from regimens.web.clinic.models import AuditEntry
from regimens.web.feeds.models import FeedToken

pytestmark = pytest.mark.django_db
READER = shutil.which("zbarimg") and shutil.which("pdftoppm")


def _print(client, plan, feed, token):
    return client.post(reverse("feed_calendar", args=[plan.id, feed.id]), {"token": token})


def test_print_the_calendar_with_the_feed_link(verified_plan, as_user, client, tmp_path):
    nurse = as_user("nurse")
    token, created = make_feed(nurse, verified_plan)
    feed = FeedToken.objects.get()
    assert reverse("feed_calendar", args=[verified_plan.id, feed.id]).encode() in created.content
    assert token not in reverse("feed_calendar", args=[verified_plan.id, feed.id])
    r = _print(nurse, verified_plan, feed, token)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf", r.content[:300]
    assert r["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.filter(action="sheet.print").latest("seq")
    assert str(feed.id)[:8] in entry.what and token not in entry.what
    if READER:
        pdf = tmp_path / "c.pdf"
        pdf.write_bytes(r.content)
        subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "2", "-l", "2", str(pdf), str(tmp_path / "p")],
                       check=True)
        out = subprocess.run(["zbarimg", "--quiet", "--raw", str(next(tmp_path.glob("p*.png")))],
                             capture_output=True, text=True, check=True).stdout.split()
        url = f"http://testserver/feeds/{token}.ics"
        assert sorted(out) == sorted([url, url.replace("http://", "webcal://")])


def test_a_wrong_revoked_or_foreign_token_is_refused(verified_plan, as_user, client, make_plan, other_patient):
    nurse = as_user("nurse")
    token, _ = make_feed(nurse, verified_plan)
    feed = FeedToken.objects.get()
    assert _print(nurse, verified_plan, feed, "x" * 43).status_code == 400
    other = make_plan(other_patient)
    as_user("ph2").post(reverse("plan_verify", args=[other.id]), {"revision": str(other.revisions.get().id)})
    other_token, _ = make_feed(nurse, other)
    assert _print(nurse, verified_plan, feed, other_token).status_code == 400
    assert as_user("prescriber").post(reverse("feed_calendar", args=[verified_plan.id, feed.id]),
                                      {"token": token}).status_code == 403
    nurse.post(reverse("feed_revoke", args=[verified_plan.id, feed.id]))
    r = _print(nurse, verified_plan, feed, token)
    assert r.status_code == 400 and token.encode() not in r.content
