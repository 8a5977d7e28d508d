"""Same-day changes by e-mail: an iTIP (RFC 5546) message over iMIP (RFC 6047) carrying only the
events a change moved, changed or cancelled, so a phone whose subscription refreshes once a day
(Google, Outlook) shows a change decided in clinic for today or tomorrow (docs/feeds.md).

Input is two calendars from `ics.to_ics` — the one the recipient has (the last verified
revision) and the new one — never the timeline: whatever privacy the calendar was made with
(full or minimal wording) is what the e-mail says. Output is an `email.message.EmailMessage`;
sending it (SMTP) is the front end's job.

Why the properties are what they are:
  - the same UID, and a SEQUENCE higher than the one the recipient holds (ics.py writes the plan
    revision): clients replace an event only for a higher SEQUENCE (RFC 5546 §2.1.4). A new
    calendar whose SEQUENCE is not higher is refused rather than sent to be ignored.
  - ORGANIZER (the clinic's mailbox) and one ATTENDEE (the recipient), both required in
    REQUEST and CANCEL; RSVP=FALSE and PARTSTAT=NEEDS-ACTION because nobody should reply.
  - METHOD:REQUEST for moved, changed and new events; METHOD:CANCEL (STATUS:CANCELLED) for events
    that left the schedule or were omitted. One iCalendar object has one METHOD and mail clients
    act on the first text/calendar part only, so a change with both gives two messages.
  - the MIME `method=` parameter equals the body's METHOD (RFC 6047 §2.4; Outlook and Gmail
    ignore the invitation otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import icalendar

from regimens.errors import RegimensError

REQUEST, CANCEL = "REQUEST", "CANCEL"
_IGNORED = {"DTSTAMP", "SEQUENCE", "LAST-MODIFIED"}
"""Properties that differ between revisions without the event having changed."""


class ItipError(RegimensError):
    """The change cannot be sent as an invitation (nothing changed, SEQUENCE not higher, bad address)."""


@dataclass(frozen=True)
class Party:
    email: str
    name: str | None = None

    def check(self, what: str) -> None:
        local, at, domain = self.email.partition("@")
        if not at or not local or "." not in domain or any(c in self.email for c in " <>,;:\"\r\n"):
            raise ItipError(f"{what} e-mail address is not valid; give it as name@example.org")

    @property
    def uri(self) -> str:
        return f"mailto:{self.email}"


@dataclass(frozen=True)
class Changes:
    """UIDs, in calendar order: REQUEST ones (moved, changed, added) and CANCEL ones (gone or omitted)."""

    request: tuple[str, ...]
    cancel: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.request or self.cancel)


def _events(data: bytes) -> tuple[icalendar.Calendar, dict[str, icalendar.Event]]:
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError):
        raise ItipError("not an iCalendar file; give calendars made by `regimens ics`") from None
    evs: dict[str, icalendar.Event] = {}
    for ev in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in ev:
            raise ItipError("calendars with RECURRENCE-ID overrides are not supported")
        evs[str(ev["UID"])] = ev
    return cal, evs


def _content(ev: icalendar.Event) -> tuple:
    props = sorted(str(ev.content_line(k, v)) for k, v in ev.property_items(recursive=False)
                   if k not in ("BEGIN", "END") and k not in _IGNORED)
    return tuple(props) + tuple(sorted(s.to_ical() for s in ev.subcomponents))


def _cancelled(ev: icalendar.Event) -> bool:
    return str(ev.get("STATUS", "")).upper() == "CANCELLED"


def _span(ev: icalendar.Event) -> tuple[date, date]:
    """First and last day the event touches, in its own (clinic) time, recurrences included."""
    start = ev["DTSTART"].dt
    end = ev["DTEND"].dt if "DTEND" in ev else start
    first = start.date() if isinstance(start, datetime) else start
    last = end.date() if isinstance(end, datetime) else end - timedelta(days=1) if end > start else end
    if "RRULE" in ev:
        from itertools import islice

        from dateutil.rrule import rrulestr

        rule = rrulestr(ev["RRULE"].to_ical().decode(), dtstart=datetime.combine(first, datetime.min.time()))
        occurrences = list(islice(rule, 5000))  # ics.py always writes COUNT; the bound is for other files
        if occurrences:
            last = max(last, occurrences[-1].date() + (last - first))
    return first, max(first, last)


def changes(old: bytes, new: bytes, within: tuple[date, date] | None = None) -> Changes:
    """What the recipient of `old` must be told to have `new`. With `within` (first, last day,
    inclusive), only events whose old or new dates touch those days: "today and tomorrow"."""
    _, before = _events(old)
    _, after = _events(new)

    def touches(*evs: icalendar.Event | None) -> bool:
        if within is None:
            return True
        lo, hi = within
        return any(ev is not None and _span(ev)[0] <= hi and _span(ev)[1] >= lo for ev in evs)

    request, cancel = [], []
    for uid, ev in after.items():
        was = before.get(uid)
        if was is not None and _content(was) == _content(ev):
            continue
        if not touches(was, ev):
            continue
        if _cancelled(ev):
            if was is not None and not _cancelled(was):
                cancel.append(uid)
        else:
            request.append(uid)
    for uid, was in before.items():
        if uid not in after and not _cancelled(was) and touches(was):
            cancel.append(uid)
    return Changes(tuple(request), tuple(cancel))


def itip_calendar(old: bytes, new: bytes, uids: Iterable[str], method: str, organizer: Party,
                  attendee: Party, stamp: datetime) -> bytes:
    """One iTIP object: METHOD `method`, the VTIMEZONEs, and the events `uids` as in `new`
    (CANCEL: as in `new` when it still has them, else as in `old`), each with ORGANIZER, ATTENDEE
    and a SEQUENCE higher than in `old`; DTSTAMP is `stamp` (when the message is made)."""
    if method not in (REQUEST, CANCEL):
        raise ItipError(f"method {method!r} is not REQUEST or CANCEL")
    organizer.check("the organizer's")
    attendee.check("the recipient's")
    old_cal, before = _events(old)
    new_cal, after = _events(new)
    uids = list(uids)
    if not uids:
        raise ItipError("no event changed: there is nothing to send")
    out = icalendar.Calendar()
    out.add("prodid", new_cal.get("PRODID", "-//regimens//regimens iCalendar export//EN"))
    out.add("version", "2.0")
    out.add("calscale", "GREGORIAN")
    out.add("method", method)
    seq_new = max((int(ev.get("SEQUENCE", 0)) for ev in after.values()), default=0)
    zones: dict[str, icalendar.Timezone] = {}
    for cal in (old_cal, new_cal):
        zones.update({str(tz["TZID"]): tz for tz in cal.walk("VTIMEZONE")})
    used: set[str] = set()
    events = []
    for uid in uids:
        src = after.get(uid) if method == REQUEST or uid in after else before.get(uid)
        if src is None:
            raise ItipError(f"event {uid} is in neither calendar")
        ev = icalendar.Event.from_ical(src.to_ical())
        was = before.get(uid)
        seq = int(ev.get("SEQUENCE", 0)) if uid in after else seq_new
        if was is not None and seq <= int(was.get("SEQUENCE", 0)):
            raise ItipError(f"the new calendar's SEQUENCE ({seq}) is not higher than the one the recipient has "
                            f"({int(was.get('SEQUENCE', 0))}): record the change as a new plan revision first")
        for p in ("SEQUENCE", "DTSTAMP", "ORGANIZER", "ATTENDEE"):
            ev.pop(p, None)
        ev.add("dtstamp", stamp.astimezone(UTC).replace(microsecond=0))
        ev.add("sequence", seq)
        ev.add("organizer", organizer.uri, parameters={"CN": organizer.name} if organizer.name else {})
        att = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"}
        if attendee.name:
            att["CN"] = attendee.name
        ev.add("attendee", attendee.uri, parameters=att)
        if method == CANCEL:
            ev.pop("STATUS", None)
            ev.add("status", "CANCELLED")
            for alarm in [c for c in ev.subcomponents if c.name == "VALARM"]:
                ev.subcomponents.remove(alarm)
        for p in ("DTSTART", "DTEND"):
            if p in ev and "TZID" in ev[p].params:
                used.add(str(ev[p].params["TZID"]))
        events.append(ev)
    for tzid in sorted(used):
        if tzid in zones:
            out.add_component(zones[tzid])
    for ev in events:
        out.add_component(ev)
    return out.to_ical()


def itip_message(calendar: bytes, sender: Party, to: Party, subject: str, text: str, stamp: datetime) -> EmailMessage:
    """The iMIP e-mail: multipart/alternative of the plain text and the text/calendar part whose
    `method=` parameter is the calendar's METHOD; Date from `stamp`. No Message-ID (the sending
    front end adds one: it must be unique, which a pure function cannot promise)."""
    cal = icalendar.Calendar.from_ical(calendar)
    method = str(cal.get("METHOD", "")).upper()
    if method not in (REQUEST, CANCEL):
        raise ItipError("the calendar has no METHOD:REQUEST or METHOD:CANCEL")
    sender.check("the sender's")
    to.check("the recipient's")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = Address(display_name=sender.name or "", addr_spec=sender.email)
    msg["To"] = Address(display_name=to.name or "", addr_spec=to.email)
    msg["Date"] = format_datetime(stamp.astimezone(UTC))
    msg.set_content(text)
    # bytes, base64: the CRLF line ends RFC 5545 requires survive every mail hop unchanged
    msg.add_alternative(calendar, maintype="text", subtype="calendar", cte="base64",
                        params={"charset": "utf-8", "method": method})
    return msg


def _when(ev: icalendar.Event) -> str:
    start = ev["DTSTART"].dt  # clinic wall-clock time (TZID), as on the calendar
    return start.strftime("%a %d %b %Y %H:%M") if isinstance(start, datetime) else start.strftime("%a %d %b %Y")


def describe(calendar: bytes, old: bytes | None = None) -> list[str]:
    """One line per event of an iTIP object for the e-mail text, with the old time when it moved:
    `- Premed: dexamethasone 20 mg IV — C2 D1: Mon 26 Apr 2027 08:00 (was Mon 19 Apr 2027 08:00)`."""
    before = _events(old)[1] if old is not None else {}
    lines = []
    for ev in icalendar.Calendar.from_ical(calendar).walk("VEVENT"):
        now, was = _when(ev), before.get(str(ev["UID"]))
        moved = f" (was {_when(was)})" if was is not None and _when(was) != now else ""
        lines.append(f"- {ev.get('SUMMARY', 'event')}: {now}{moved}")
    return lines


def same_day_messages(old: bytes, new: bytes, organizer: Party, recipient: Party, stamp: datetime,
                      within: tuple[date, date] | None = None) -> list[EmailMessage]:
    """At most two messages (a REQUEST for moved and changed events, a CANCEL for removed ones)
    telling the recipient of `old` what `new` changed, within `within` when given."""
    ch = changes(old, new, within)
    if not ch:
        raise ItipError("no event changed in that period: there is nothing to send")
    out = []
    for method, uids, head in ((REQUEST, ch.request, "Your treatment calendar has changed. New times:"),
                               (CANCEL, ch.cancel, "These calendar entries are cancelled:")):
        if not uids:
            continue
        cal = itip_calendar(old, new, uids, method, organizer, recipient, stamp)
        text = "\n".join([head, "", *describe(cal, old), "",
                          ("Your calendar app can update the entries from this message. The treatment "
                           "calendar you subscribed to will show the same change when it next refreshes."),
                          "Always confirm with your care team: the calendar is a reminder, not the order."])
        n = len(uids)
        subject = (f"Treatment calendar: {n} {'change' if n == 1 else 'changes'}" if method == REQUEST
                   else f"Treatment calendar: {n} {'entry' if n == 1 else 'entries'} cancelled")
        out.append(itip_message(cal, organizer, recipient, subject, text, stamp))
    return out
