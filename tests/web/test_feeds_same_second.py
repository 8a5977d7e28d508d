"""Issue 17's intermittent live-feed failure, made deterministic: two verifications in the same
wall-clock second. Feeds send Last-Modified to the second and answer an If-Modified-Since that is
not older with 304, so the newer verified revision must be served with a later second, or a
phone that kept only the date (no ETag) would be told its old schedule is current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from types import SimpleNamespace

import pytest
from test_feeds import _change, _verify, fetch, make_feed

from regimens.web.clinic import service
from regimens.web.feeds import served

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 12, 2, 12, 0, 0, 250_000, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _sync_log_and_cold_cache(settings):
    settings.REGIMENS_FEED_LOG_FLUSH_SECONDS = 0
    served.clear()
    yield
    served.clear()


def _same_second(monkeypatch):
    """The service's clock (only: sessions keep the real one) stops at 12:00:00.25."""
    monkeypatch.setattr(service, "timezone", SimpleNamespace(now=lambda: NOON))


def test_a_change_verified_in_the_same_second_gets_a_later_last_modified(plan, as_user, client, monkeypatch):
    ph1, ph2 = as_user("ph1"), as_user("ph2")
    _same_second(monkeypatch)
    rev1 = _verify(ph2, plan)
    token, _ = make_feed(ph1, plan)
    r1 = fetch(client, token)
    lm1 = r1["Last-Modified"]
    assert lm1 == format_datetime(NOON.replace(microsecond=0), usegmt=True)

    _change(ph1, plan, 1, "2027-03-22")  # recording a change clears the plan's released revision
    rev2 = _verify(ph2, plan)
    assert rev1.verified_at == NOON
    assert rev2.verified_at == NOON.replace(microsecond=0) + timedelta(seconds=1)

    # a client that kept only the date gets the new bytes; with the new date, a 304
    r2 = fetch(client, token, **{"If-Modified-Since": lm1})
    assert r2.status_code == 200 and r2.content != r1.content and r2["Last-Modified"] != lm1
    assert fetch(client, token, **{"If-Modified-Since": r2["Last-Modified"]}).status_code == 304


def test_a_third_revision_in_the_same_second_is_later_again(plan, as_user, monkeypatch):
    ph1, ph2 = as_user("ph1"), as_user("ph2")
    _same_second(monkeypatch)
    _verify(ph2, plan)
    _change(ph1, plan, 1, "2027-03-22")
    _verify(ph2, plan)
    _change(ph1, plan, 2, "2027-03-29")
    rev3 = _verify(ph2, plan)
    assert rev3.verified_at == NOON.replace(microsecond=0) + timedelta(seconds=2)
