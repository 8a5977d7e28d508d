"""A delay recorded in the service reaches a subscribed calendar, shown through real HTTP: the
service runs as a live server on 127.0.0.1 and the feed is fetched the way calendar apps do
(conditional GETs with the ETag and date they kept), then read by the ten independent clients
of ~/icscheck."""

from __future__ import annotations

import gzip
import http.client
import os
import subprocess
from datetime import UTC, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
from django.urls import reverse
from test_feeds import TOKEN, _change, _verify

from regimens.web.feeds import served

os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")
ICSCHECK = Path.home() / "icscheck" / "icscheck"


@pytest.fixture(autouse=True)
def _sync_log(settings):
    settings.REGIMENS_FEED_LOG_FLUSH_SECONDS = 0
    served.clear()


@pytest.fixture
def audit_triggers_survive_the_flush(transactional_db):
    """A live-server test's database is emptied afterwards by a flush, which on SQLite deletes rows
    — refused by the append-only audit triggers (clinic migration 0002). They are dropped just
    before the flush and made again right after it (Django's post_migrate follows a flush), so
    the tests that check them still find them."""
    import importlib

    from django.db import connection
    from django.db.models.signals import post_migrate

    yield
    if connection.vendor != "sqlite":
        return  # PostgreSQL's flush is a TRUNCATE, which the row triggers do not see
    roles = importlib.import_module("regimens.web.clinic.migrations.0002_roles")

    def again(**kwargs):
        post_migrate.disconnect(again, dispatch_uid="feeds-live-audit-triggers")
        with connection.cursor() as c:
            for sql in roles.SQLITE:
                c.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))

    with connection.cursor() as c:
        c.execute("DROP TRIGGER IF EXISTS audit_no_update")
        c.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    post_migrate.connect(again, dispatch_uid="feeds-live-audit-triggers", weak=False)


def get(base: str, path: str, method: str = "GET", **headers) -> tuple[int, dict, bytes]:
    u = urlsplit(base)
    assert u.hostname == "127.0.0.1"
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request(method, path, headers={"User-Agent": "test-calendar/1.0", **headers})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


# Once intermittent (issue 17): when this ran fast (after test_feeds.py warmed the caches) the
# change was verified in the same second as the revision before it, and the If-Modified-Since
# with the first Last-Modified got 304. The service now makes each verified revision at least a
# second later than the last (test_feeds_same_second.py shows it without the race).
def test_a_recorded_delay_reaches_the_subscriber(live_server, verified_plan, as_user, tmp_path,
                                                audit_triggers_survive_the_flush):
    ph1, ph2 = as_user("ph1"), as_user("ph2")
    r = ph1.post(reverse("feed_new", args=[verified_plan.id]), {"audience": "full", "holder": "patient"})
    (token,) = {t.decode() for t in TOKEN.findall(r.content)}
    path = f"/feeds/{token}.ics"
    status, h1, body1 = get(live_server.url, path)
    assert status == 200 and h1["content-type"] == "text/calendar; charset=utf-8"
    etag1, lm1 = h1["etag"], h1["last-modified"]
    assert get(live_server.url, path, **{"If-None-Match": etag1})[0] == 304

    # the pharmacist records a five-week delay of cycle 2 (15 Feb → 22 Mar); a second verifies
    _change(ph1, verified_plan, 1, "2027-03-22")
    assert get(live_server.url, path, **{"If-None-Match": etag1})[0] == 304  # awaiting verification
    rev2 = _verify(ph2, verified_plan)

    status, h2, body2 = get(live_server.url, path, **{"If-None-Match": etag1, "If-Modified-Since": lm1})
    assert status == 200 and body2 != body1 and h2["etag"] != etag1
    assert h2["last-modified"] == format_datetime(rev2.verified_at.astimezone(UTC).replace(microsecond=0), usegmt=True)
    status, h3, body3 = get(live_server.url, path, **{"If-None-Match": h2["etag"]})
    assert (status, body3) == (304, b"") and h3["etag"] == h2["etag"]
    assert get(live_server.url, path, **{"If-Modified-Since": h2["last-modified"]})[0] == 304
    assert get(live_server.url, path, **{"If-Modified-Since": lm1})[0] == 200  # an older date: new bytes
    status, hh, head = get(live_server.url, path, "HEAD")
    assert (status, head, hh["etag"]) == (200, b"", h2["etag"])
    status, hz, zipped = get(live_server.url, path, **{"Accept-Encoding": "gzip"})
    assert hz["content-encoding"] == "gzip" and gzip.decompress(zipped) == body2

    before = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body1).walk("VEVENT")}
    after = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body2).walk("VEVENT")}
    assert set(before) == set(after)
    moved = {u for u in after if after[u]["DTSTART"].dt != before[u]["DTSTART"].dt}
    assert moved
    for u in moved:
        assert after[u]["DTSTART"].dt - before[u]["DTSTART"].dt == timedelta(days=35)
        assert int(after[u]["SEQUENCE"]) == 2 > int(before[u]["SEQUENCE"])
        assert after[u]["LAST-MODIFIED"].dt > before[u]["LAST-MODIFIED"].dt

    if not ICSCHECK.exists():
        pytest.skip("~/icscheck is not installed: the independent clients were not run")
    f = tmp_path / "feed.ics"
    f.write_bytes(body2)
    run = subprocess.run([str(ICSCHECK), str(f)], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]
    assert "0 disagreements" in run.stdout
