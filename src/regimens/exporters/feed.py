"""Subscription feeds: the calendar bytes a feed serves, and the HTTP answer to one request for
them — pure functions, so the web front end (or any other server) only passes bytes and headers
through (docs/feeds.md).

HTTP done the way calendar clients need it (RFC 9110):
  - `Content-Type: text/calendar; charset=utf-8`; a strong `ETag` that is the SHA-256 of the exact
    bytes sent (the gzip form has its own tag, `"<hash>-gz"`, as RFC 9110 §8.8.3 wants for a
    different content coding);
  - `If-None-Match` wins over `If-Modified-Since` (§13.2.2): with an `If-None-Match` the date is
    never looked at, so a client that has other bytes always gets them, whatever its date says;
  - `Last-Modified` is the revision time (also the DTSTAMP and LAST-MODIFIED inside), so the same
    revision gives the same bytes and the same headers on every server and every restart;
  - `HEAD` answers the GET headers without a body; gzip when the client accepts it;
  - `Cache-Control: private, no-cache`: shared caches must not keep a patient's calendar, and
    every client poll revalidates (a 304 costs a hash comparison, not a schedule compile).

A 304 to an `If-Modified-Since` alone is only as right as the date: the bytes of a feed must be a
function of its revision (the audience of a feed token never changes; a new audience is a new
token), so a date not older than the revision's means the client has these bytes.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import icalendar

CONTENT_TYPE = "text/calendar; charset=utf-8"
REFRESH = timedelta(hours=1)
GZIP_MIN_BYTES = 1024
"""Below this, gzip saves less than its own header costs on a phone connection."""


def feed_calendar(data: bytes, revision_time: datetime) -> bytes:
    """The served form of a calendar from `ics.to_ics(..., generated=revision_time)`: RFC 7986
    `REFRESH-INTERVAL;VALUE=DURATION:PT1H` and `X-PUBLISHED-TTL:PT1H` (the form Outlook and Apple
    read) on the calendar, and `LAST-MODIFIED` = the revision time on every event, so a moved
    event has a later LAST-MODIFIED as well as a higher SEQUENCE."""
    cal = icalendar.Calendar.from_ical(data)
    when = revision_time.astimezone(UTC).replace(microsecond=0)
    for p in ("REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        cal.pop(p, None)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))  # an X- property is otherwise str()-ed
    for ev in cal.walk("VEVENT"):
        ev.pop("LAST-MODIFIED", None)
        ev.add("last-modified", when)
    return cal.to_ical()


@dataclass(frozen=True)
class FeedResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def etag(body: bytes, coding: str | None = None) -> str:
    """Strong entity tag of the exact bytes (before content coding; the coding is named)."""
    h = hashlib.sha256(body).hexdigest()
    return f'"{h}-gz"' if coding == "gzip" else f'"{h}"'


def precheck(digest: str, modified: datetime, method: str, headers: Mapping[str, str],
             now: datetime | None = None, size: int | None = None) -> FeedResponse | None:
    """The answer that needs no body — 405 for another method, 304 when the client has these
    bytes — or None when the body must be sent. `digest` is the SHA-256 (hex) of the bytes and
    `size` their length, so a server that keeps both need not load, hash or compress the body to
    answer a poll."""
    h = {k.lower(): v for k, v in headers.items()}
    method = method.upper()
    if method not in ("GET", "HEAD"):
        return FeedResponse(405, (("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")),
                            b"Only GET and HEAD.\n")
    modified = modified.astimezone(UTC).replace(microsecond=0)
    if _not_modified(digest, modified, h, now):
        big = size is None or size >= GZIP_MIN_BYTES
        coding = "gzip" if big and _accepts_gzip(h.get("accept-encoding", "")) else None
        return FeedResponse(304, tuple(_common(digest, modified, coding)), b"")
    return None


def respond(body: bytes, modified: datetime, method: str, headers: Mapping[str, str],
            now: datetime | None = None, digest: str | None = None, gzipped: bytes | None = None) -> FeedResponse:
    """The answer to one GET or HEAD of a feed whose current bytes are `body` (from
    `feed_calendar`) and whose revision was made at `modified`. `headers` are the request's
    (any case); `now`, when given, makes an If-Modified-Since from the future count as absent
    (RFC 9110 §13.1.3). `digest` and `gzipped` may be given when the caller keeps them."""
    digest = digest or hashlib.sha256(body).hexdigest()
    early = precheck(digest, modified, method, headers, now, len(body))
    if early is not None:
        return early
    h = {k.lower(): v for k, v in headers.items()}
    modified = modified.astimezone(UTC).replace(microsecond=0)
    coding = "gzip" if len(body) >= GZIP_MIN_BYTES and _accepts_gzip(h.get("accept-encoding", "")) else None
    payload = (gzipped or gzip.compress(body, compresslevel=6, mtime=0)) if coding else body
    out = [("Content-Type", CONTENT_TYPE), *_common(digest, modified, coding), ("Content-Length", str(len(payload))),
           ("Content-Disposition", 'inline; filename="treatment.ics"'), ("X-Content-Type-Options", "nosniff")]
    if coding:
        out.append(("Content-Encoding", coding))
    return FeedResponse(200, tuple(out), b"" if method.upper() == "HEAD" else payload)


def _common(digest: str, modified: datetime, coding: str | None) -> list[tuple[str, str]]:
    return [
        ("ETag", f'"{digest}-gz"' if coding == "gzip" else f'"{digest}"'),
        ("Last-Modified", format_datetime(modified, usegmt=True)),
        ("Cache-Control", "private, no-cache"),
        ("Vary", "Accept-Encoding"),
    ]


def _not_modified(digest: str, modified: datetime, h: Mapping[str, str], now: datetime | None) -> bool:
    inm = h.get("if-none-match")
    if inm is not None:
        # weak comparison (§13.1.2), and either coding of these same bytes: the client has them
        current = {digest, f"{digest}-gz"}
        tags = [t.strip() for t in inm.split(",")]
        return any(t == "*" or _opaque(t) in current for t in tags)
    ims = h.get("if-modified-since")
    if not ims:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False  # an invalid date is ignored (§13.1.3)
    if since is None or since.tzinfo is None:
        return False
    if now is not None and since > now:
        return False
    return modified <= since


def _opaque(tag: str) -> str:
    tag = tag.removeprefix("W/")
    return tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else "\0"  # unquoted: matches nothing


def _accepts_gzip(value: str) -> bool:
    """Accept-Encoding names gzip (or *) with q > 0 (RFC 9110 §12.5.3)."""
    star = None
    for part in value.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if name in ("gzip", "x-gzip"):
            return q > 0
        if name == "*":
            star = q > 0
    return bool(star)
