"""Publish a calendar into a CalDAV collection (RFC 4791) the patient or ward already syncs:
Nextcloud, iCloud, a hospital Radicale (docs/ics.md, "Publish to a CalDAV calendar").

One resource per UID (RFC 4791 §4.1: every component of a UID in one resource, a VCALENDAR
with the VTIMEZONE it needs and no METHOD). Resources are written in place: an event that moved
keeps its UID, and so its resource, and the server's clients move it. A resource whose content
is already the same is left alone, so a second run changes nothing. Resources of events that
left the schedule are deleted, but only ones this tool made: their UIDs end in `@regimens`
(ics.py); anything else in the collection is never touched.

The `caldav` library does the protocol; this module decides what to write, retries what is
worth retrying (network errors, 5xx, 429) with exponential backoff, and turns every failure
into one line without the password or the collection path (which may name a patient).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import icalendar

from regimens.errors import RegimensError

UID_SUFFIX = "@regimens"
"""The UIDs regimens writes (ics.py): resources holding only such UIDs are ours to delete."""
NAME_PREFIX = "regimens-"
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
_T = TypeVar("_T")


class PublishError(RegimensError):
    """Publishing failed (bad address, credentials, missing collection, network): exit 2."""


@dataclass(frozen=True)
class PublishResult:
    created: int
    updated: int
    unchanged: int
    deleted: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def __str__(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.deleted} deleted")


# --- what to write ----------------------------------------------------------------------------


def resource_name(uid: str) -> str:
    """The resource name of a UID: `regimens-<uid before @regimens>.ics` when that is a safe path
    segment (it is for every UID ics.py writes), else a hash of the UID."""
    local = uid.removesuffix(UID_SUFFIX)
    if uid.endswith(UID_SUFFIX) and _SAFE.match(local):
        return f"{NAME_PREFIX}{local}.ics"
    return f"{NAME_PREFIX}{hashlib.sha256(uid.encode()).hexdigest()[:32]}.ics"


def split_resources(data: bytes) -> dict[str, bytes]:
    """UID → one VCALENDAR holding that UID's VEVENTs and the calendar's VTIMEZONEs, in order.

    Raises PublishError when `data` is not a calendar made by regimens (every VEVENT must have a
    UID ending in @regimens), since only those can be cleaned up again later."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError):
        # no parser detail: it would quote the file, which may hold a patient label
        raise PublishError("not an iCalendar file; make one with `regimens ics`") from None
    if not isinstance(cal, icalendar.Calendar) or cal.name != "VCALENDAR":
        raise PublishError("not an iCalendar file (no VCALENDAR); make one with `regimens ics`")
    tzs = [c for c in cal.subcomponents if c.name == "VTIMEZONE"]
    events: dict[str, list[icalendar.Event]] = {}
    for ev in (c for c in cal.subcomponents if c.name == "VEVENT"):
        uid = str(ev.get("UID", ""))
        if not uid.endswith(UID_SUFFIX):
            raise PublishError(f"the calendar has an event with UID {uid or '(none)'!r}, not one made by "
                               "regimens; publish only calendars written by `regimens ics`")
        events.setdefault(uid, []).append(ev)
    if not events:
        raise PublishError("the calendar has no events to publish")
    out: dict[str, bytes] = {}
    for uid, evs in events.items():
        res = icalendar.Calendar()
        res.add("prodid", cal.get("PRODID", "-//regimens//regimens iCalendar export//EN"))
        res.add("version", "2.0")
        res.add("calscale", "GREGORIAN")
        if any("TZID" in ev[p].params for ev in evs for p in ("DTSTART", "DTEND") if p in ev):
            for tz in tzs:
                res.add_component(tz)
        for ev in evs:
            res.add_component(ev)
        out[uid] = res.to_ical()
    return out


def canonical(data: bytes | str) -> Any:
    """A form of a calendar that is equal when the content is, whatever line folding, escaping
    and property order a server writes back (Radicale re-serializes through vobject)."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError):
        return None

    def walk(c) -> tuple:
        props = sorted(str(c.content_line(k, v)) for k, v in c.property_items(recursive=False)
                       if k not in ("BEGIN", "END"))
        return (c.name, tuple(props), tuple(sorted(walk(s) for s in c.subcomponents)))

    return walk(cal)


# --- talking to the server --------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    attempts: int = 4
    """Tries per request, the first included."""
    backoff: float = 0.5
    """Seconds before the second try; doubled before each further one."""


def publish(data: bytes, url: str, *, username: str | None = None, password: str | None = None,
            sleep: Callable[[float], None], retry: Retry = Retry(), timeout: float = 30) -> PublishResult:
    """Write calendar `data` into the CalDAV collection at `url` (see the module docstring).

    `sleep` waits between retries (time is the caller's: the library never reads the clock)."""
    import caldav
    from caldav.elements import dav

    wanted = split_resources(data)
    where = server_of(url)
    client = caldav.DAVClient(url=url, username=username, password=password, timeout=timeout,
                              enable_rfc6764=False)
    collection = client.calendar(url=url)
    call = _Caller(where, sleep, retry)
    kinds = call(lambda: collection.get_property(dav.ResourceType()), "open the collection")
    if "{urn:ietf:params:xml:ns:caldav}calendar" not in (kinds or []):
        raise PublishError(f"{where}: the address is not a calendar collection; give the URL of the "
                           "calendar itself (e.g. …/user/treatment/), not of the account or server")
    existing = call(lambda: list(collection.get_events()), "list the calendar")

    by_uid: dict[str, Any] = {}
    ours_stale: list[Any] = []
    for obj in existing:
        uids = _uids(obj.data)
        if len(uids) == 1 and uids[0] in wanted and uids[0] not in by_uid:
            by_uid[uids[0]] = obj
        elif uids and all(u.endswith(UID_SUFFIX) for u in uids):
            ours_stale.append(obj)  # an event that left the schedule (or a resource merging several)
    # stale resources go first: one may still hold a wanted UID (merged with others), and a
    # server refuses a second resource with the same UID (RFC 4791 §5.3.2.1 no-uid-conflict)
    for obj in ours_stale:
        call(obj.delete, "delete an event that left the schedule")
    created = updated = unchanged = 0
    for uid, body in wanted.items():
        old = by_uid.get(uid)
        if old is not None and canonical(old.data) == canonical(body):
            unchanged += 1
            continue
        target = old.url if old is not None else collection.url.join(resource_name(uid))
        res = caldav.Event(client=client, parent=collection, url=target, data=body.decode("utf-8"))
        # increase_seqno=False: SEQUENCE is the plan revision, set by ics.py, not per upload
        call(lambda res=res: res.save(increase_seqno=False), "write an event")
        if old is None:
            created += 1
        else:
            updated += 1
    return PublishResult(created, updated, unchanged, len(ours_stale))


def _uids(text: str | bytes | None) -> list[str]:
    if not text:
        return []
    try:
        cal = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError):
        return []
    return sorted({str(ev.get("UID", "")) for ev in cal.walk("VEVENT")})


def server_of(url: str) -> str:
    """scheme://host:port only: the path may name a patient, the user part carries credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise PublishError("the CalDAV address is not a URL; give http(s)://host/path/to/calendar/") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishError("the CalDAV address must start with http:// or https:// and name a server")
    if parts.username or parts.password:
        raise PublishError("put no user name or password in the CalDAV address; use --user and --password-file")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise PublishError("the CalDAV address has an invalid port number") from None
    return f"{parts.scheme}://{host}{port}"


class _Caller:
    """One request with retries: network errors, timeouts, 5xx and 429 are retried with
    exponential backoff; 401/403 and 404 fail at once with what to do."""

    def __init__(self, where: str, sleep: Callable[[float], None], retry: Retry):
        self.where, self.sleep, self.retry = where, sleep, retry

    def __call__(self, fn: Callable[[], _T], doing: str) -> _T:
        from caldav.lib import error

        delay = self.retry.backoff
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return fn()
            except error.AuthorizationError as exc:
                if exc.status == 403:
                    raise PublishError(f"{self.where}: permission denied (403) trying to {doing}; the user "
                                       "may not write this calendar") from None
                raise PublishError(f"{self.where}: authentication failed (401); check --user and the "
                                   "password file") from None
            except error.NotFoundError:
                raise PublishError(f"{self.where}: the calendar collection does not exist (404); create it "
                                   "in the calendar app or check the URL") from None
            except error.DAVError as exc:
                status = exc.status
                if attempt < self.retry.attempts and (status is None or status >= 500 or status == 429):
                    self.sleep(delay)
                    delay *= 2
                    continue
                code = f" ({status})" if status else ""
                raise PublishError(f"{self.where}: the server refused to {doing}{code}: "
                                   f"{_short(exc.reason)}") from None
            except OSError as exc:  # niquests' ConnectionError and Timeout are OSErrors
                if attempt < self.retry.attempts:
                    self.sleep(delay)
                    delay *= 2
                    continue
                raise PublishError(f"{self.where}: cannot reach the server ({_network_reason(exc)}) after "
                                   f"{self.retry.attempts} attempts; check the address and the network") from None
        raise AssertionError("unreachable")


def _short(text: object) -> str:
    one = " ".join(str(text).split())
    return one[:160] or "no reason given"


def _network_reason(exc: OSError) -> str:
    text = str(exc).lower()
    for needle, reason in (("refused", "connection refused"), ("timed out", "timed out"),
                           ("timeout", "timed out"), ("name or service", "unknown host name"),
                           ("nodename", "unknown host name"), ("resolve", "unknown host name"),
                           ("certificate", "TLS certificate not accepted"), ("ssl", "TLS error"),
                           ("unreachable", "network unreachable")):
        if needle in text:
            return reason
    return type(exc).__name__
