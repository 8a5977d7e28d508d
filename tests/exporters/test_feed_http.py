"""The feed's HTTP answer (regimens.exporters.feed.respond) and the served calendar
(feed_calendar), checked against RFC 9110 rules written out by hand: tags recomputed with
hashlib, dates written as HTTP-date strings, gzip undone with the standard library."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, date, datetime, timedelta

import icalendar
from hypothesis import given
from hypothesis import strategies as st
from ics_readers import all_parsers

from regimens.exporters import ics
from regimens.exporters.feed import CONTENT_TYPE, GZIP_MIN_BYTES, feed_calendar, precheck, respond

REV = datetime(2027, 4, 18, 15, 30, 5, tzinfo=UTC)
REV_HTTP = "Sun, 18 Apr 2027 15:30:05 GMT"
BODY = b"BEGIN:VCALENDAR\r\n" + b"X-FILL:" + b"x" * 4000 + b"\r\nEND:VCALENDAR\r\n"
TAG = '"' + hashlib.sha256(BODY).hexdigest() + '"'
TAG_GZ = '"' + hashlib.sha256(BODY).hexdigest() + '-gz"'


def get(headers=None, body=BODY, method="GET", **kw):
    return respond(body, REV, method, headers or {}, **kw)


def test_a_plain_get():
    r = get()
    assert r.status == 200 and r.body == BODY
    assert r.header("content-type") == "text/calendar; charset=utf-8" == CONTENT_TYPE
    assert r.header("ETag") == TAG
    assert r.header("Last-Modified") == REV_HTTP
    assert r.header("Content-Length") == str(len(BODY))
    assert r.header("Cache-Control") == "private, no-cache"
    assert r.header("Vary") == "Accept-Encoding"
    assert r.header("Content-Encoding") is None


def test_if_none_match():
    for inm in (TAG, f"W/{TAG}", "*", f'"other", {TAG}', TAG_GZ):
        r = get({"If-None-Match": inm})
        assert (r.status, r.body) == (304, b""), inm
        assert r.header("ETag") == TAG and r.header("Last-Modified") == REV_HTTP
        assert r.header("Content-Type") is None
    for inm in ('"other"', TAG.strip('"'), "", "W/", '"' + hashlib.sha256(BODY + b" ").hexdigest() + '"'):
        r = get({"If-None-Match": inm})
        assert (r.status, r.body) == (200, BODY), inm


def test_if_none_match_takes_precedence_over_if_modified_since():
    later = "Mon, 19 Apr 2027 00:00:00 GMT"
    # old tag + a date after the revision: the tag decides, the client gets the new bytes
    r = get({"If-None-Match": '"old-bytes"', "If-Modified-Since": later})
    assert (r.status, r.body) == (200, BODY)
    # current tag + a date before the revision: still the tag decides
    r = get({"If-None-Match": TAG, "If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT"})
    assert r.status == 304


def test_if_modified_since_alone():
    assert get({"If-Modified-Since": REV_HTTP}).status == 304
    assert get({"If-Modified-Since": "Sun, 18 Apr 2027 15:30:06 GMT"}).status == 304
    assert get({"If-Modified-Since": "Sun, 18 Apr 2027 15:30:04 GMT"}).status == 200  # one second older
    for bad in ("yesterday", "", "Sun, 99 Foo 2027 15:30:05 GMT", "Sun, 18 Apr 2027 15:30:05"):
        assert get({"If-Modified-Since": bad}).status == 200, bad
    # a date from the future is ignored when the server's time is known
    future = "Sat, 01 Jan 2028 00:00:00 GMT"
    assert get({"If-Modified-Since": future}, now=datetime(2027, 5, 1, tzinfo=UTC)).status == 200
    assert get({"If-Modified-Since": future}).status == 304


def test_head_has_the_get_headers_and_no_body():
    g, h = get(), get(method="HEAD")
    assert h.status == 200 and h.body == b"" and h.headers == g.headers
    assert get({"If-None-Match": TAG}, method="head").status == 304
    gz = get({"Accept-Encoding": "gzip"}, method="HEAD")
    assert gz.body == b"" and gz.header("Content-Length") == get({"Accept-Encoding": "gzip"}).header("Content-Length")


def test_precheck_answers_a_poll_from_the_digest_alone():
    digest = hashlib.sha256(BODY).hexdigest()
    for headers in ({"If-None-Match": TAG}, {"If-None-Match": TAG_GZ, "Accept-Encoding": "gzip"},
                    {"If-Modified-Since": REV_HTTP}):
        early = precheck(digest, REV, "GET", headers, size=len(BODY))
        assert early == get(headers), headers
    assert precheck(digest, REV, "GET", {"If-None-Match": '"old"'}, size=len(BODY)) is None
    assert precheck(digest, REV, "GET", {}) is None
    assert precheck(digest, REV, "DELETE", {}).status == 405
    # a small body is never gzipped, so its 304 carries the identity tag
    small = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    d = hashlib.sha256(small).hexdigest()
    r = precheck(d, REV, "GET", {"If-None-Match": f'"{d}"', "Accept-Encoding": "gzip"}, size=len(small))
    assert r.header("ETag") == f'"{d}"' == get({"Accept-Encoding": "gzip"}, body=small).header("ETag")


def test_other_methods():
    r = get(method="POST")
    assert r.status == 405 and r.header("Allow") == "GET, HEAD"


def test_gzip():
    r = get({"Accept-Encoding": "br, gzip;q=0.8"})
    assert r.header("Content-Encoding") == "gzip" and gzip.decompress(r.body) == BODY
    assert r.header("Content-Length") == str(len(r.body)) and len(r.body) < len(BODY)
    assert r.header("ETag") == TAG_GZ  # another coding, another strong tag (RFC 9110 §8.8.3)
    assert get({"Accept-Encoding": "gzip"}).body == r.body  # deterministic (no gzip timestamp)
    assert get({"accept-encoding": "*"}).header("Content-Encoding") == "gzip"
    for no in ("identity", "gzip;q=0", "gzip;q=0, *", "deflate", "*;q=0", "gzip;q=bad"):
        assert get({"Accept-Encoding": no}).header("Content-Encoding") is None, no
    small = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    assert len(small) < GZIP_MIN_BYTES
    assert get({"Accept-Encoding": "gzip"}, body=small).body == small
    # a client that stored the identity form and now accepts gzip still gets its 304
    assert get({"Accept-Encoding": "gzip", "If-None-Match": TAG}).status == 304


@given(st.binary(min_size=1, max_size=3000), st.binary(min_size=1, max_size=3000), st.booleans())
def test_a_304_only_when_the_bytes_are_the_same(old, new, gz):
    ae = {"Accept-Encoding": "gzip"} if gz else {}
    first = respond(old, REV, "GET", ae)
    again = respond(new, REV + timedelta(hours=1), "GET", {**ae, "If-None-Match": first.header("ETag")})
    assert (again.status == 304) == (old == new)
    if old != new:
        assert (gzip.decompress(again.body) if again.header("Content-Encoding") else again.body) == new


def _opts() -> ics.IcsOptions:
    # a fixed per-plan UID salt where the exporter takes one, as the service's feeds pass
    from dataclasses import fields

    salt = {"uid_salt": "plan test"} if "uid_salt" in {f.name for f in fields(ics.IcsOptions)} else {}
    return ics.IcsOptions(tz="America/Chicago", **salt)


def _calendar(timeline, revision=0, stamp=REV, **kw):
    tl = timeline("nct03114865", start=date(2027, 3, 8), **kw)
    tl = tl.with_events(tuple(e for e in tl.events if e.cycle == 1), revision=revision)
    return ics.to_ics(tl, _opts(), stamp)


def test_feed_calendar(timeline):
    raw = _calendar(timeline)
    fed = feed_calendar(raw, REV)
    assert fed == feed_calendar(raw, REV) == feed_calendar(fed, REV)  # deterministic, idempotent
    lines = fed.decode().split("\r\n")
    head = lines[:lines.index("BEGIN:VTIMEZONE")]
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in head and "X-PUBLISHED-TTL:PT1H" in head
    cal = icalendar.Calendar.from_ical(fed)
    events = cal.walk("VEVENT")
    assert events and all(e["LAST-MODIFIED"].dt == REV == e["DTSTAMP"].dt for e in events)
    assert all(a.get("LAST-MODIFIED") is None for e in events for a in e.walk("VALARM"))
    # the same occurrences as the exported file, in three independent parsers
    assert {k: v for k, v in all_parsers(fed).items()} == {k: v for k, v in all_parsers(raw).items()}
    assert len(set(map(frozenset, all_parsers(fed).values()))) == 1


def test_a_new_revision_changes_bytes_and_tag(timeline):
    a = feed_calendar(_calendar(timeline), REV)
    later = REV + timedelta(days=1)
    # revision 1: cycle 1 starts a week late
    b = feed_calendar(_calendar(timeline, 1, later, actual_starts={"maintenance.c1": date(2027, 3, 15)}), later)
    ra = respond(a, REV, "GET", {})
    rb = respond(b, later, "GET", {"If-None-Match": ra.header("ETag")})
    assert rb.status == 200 and rb.body == b and rb.header("ETag") != ra.header("ETag")
    assert respond(b, later, "GET", {"If-None-Match": rb.header("ETag")}).status == 304
    old = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(a).walk("VEVENT")}
    new = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(b).walk("VEVENT")}
    tl_premed = next(e for e in timeline("nct03114865", start=date(2027, 3, 8)).events
                     if e.cycle == 1 and e.day == 1 and e.kind == "premedication")
    # the calendar UID starts with the timeline uid's hex (a plan tag or -bagN may follow)
    premed = next(u for u in old if u[:24] == tl_premed.uid[:24] and "-bag" not in u and "-end" not in u)
    assert new[premed]["DTSTART"].dt - old[premed]["DTSTART"].dt == timedelta(days=7)  # same UID, moved
    assert {int(e["SEQUENCE"]) for e in new.values()} == {1}
    assert {e["LAST-MODIFIED"].dt for e in new.values()} == {later}
