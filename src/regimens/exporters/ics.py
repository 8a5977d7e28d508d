"""iCalendar (RFC 5545) export of a timeline: bytes that Google, Apple, Outlook and Thunderbird
import the same way (see docs/ics.md and shared/reference/calendar-interop.md).

Which event becomes what:
  - timed administration or premedication  → timed VEVENT in the clinic zone (TZID + VTIMEZONE)
  - day-level item (phase, rest, hospital stay, lab, gate, untimed dose)
                                            → all-day VEVENT, VALUE=DATE, exclusive DTEND
  - continuous infusion                     → one all-day multi-day VEVENT (transparent) plus
                                              timed start / bag-change / end events
  - oral take-home doses (route PO)         → one recurring VEVENT (RRULE) per run of equal doses
                                              at a steady interval, with a VALARM reminder
  - omitted dose                            → STATUS:CANCELLED; held dose → STATUS:TENTATIVE

UIDs are the timeline's uids (derived events add a suffix), SEQUENCE is the plan revision and
DTSTAMP the generation time passed in, so the same inputs give the same bytes and a CalDAV server
or subscription updates events in place after a delay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, vCategory, vDDDTypes, vInt, vRecur, vText

from regimens.errors import RequestError
from regimens.exporters import ics_text as text
from regimens.exporters.vtimezone import vtimezone
from regimens.notation.ismp import plain_frequency
from regimens.protocol.bibliography import public_text
from regimens.schedule.timeline import KIND_ADMINISTRATION, KIND_PREMEDICATION, DoseEvent, Timeline

PRODID = "-//regimens//regimens iCalendar export//EN"
MAX_BYTES = 1_000_000
"""Google Calendar's import limit (about 1 MB; calendar-interop.md §10)."""
BAG_HOURS = (24, 48, 72, 96, 168)
SPLITS = ("phase", "cycle")
_TRANSPARENT = {"phase", "rest"}
_KIND_CATEGORY = {
    KIND_ADMINISTRATION: "Medication", KIND_PREMEDICATION: "Premedication", "phase": "Treatment phase",
    "rest": "Treatment-free", "hospitalization": "Hospital stay", "lab": "Lab test",
    "assessment": "Assessment", "procedure": "Procedure", "gate": "Start condition",
    "milestone": "Milestone", "visit": "Visit",
}


@dataclass(frozen=True)
class IcsOptions:
    tz: str
    """IANA zone of the clinic (Area/City): timed doses are at clinic wall-clock time."""
    bag_hours: int = 24
    reminders: bool = True
    reminder_minutes: int = 30
    """Lead time of the VALARM before a timed take-home dose."""
    all_day_reminder: time = time(8, 0)
    """Clock time of the reminder on the day of an untimed take-home dose."""
    patient_label: str | None = None
    measurements: bool = False
    """Height, weight, BSA and date measured in dose descriptions (off: privacy)."""
    tall_man: Mapping[str, str] | None = None

    def check(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise RequestError(f"unknown time zone {self.tz!r}; give an IANA name such as "
                               "America/Chicago or Europe/Berlin") from None
        if self.bag_hours not in BAG_HOURS:
            raise RequestError(f"bag length {self.bag_hours} h is not one of "
                               f"{', '.join(map(str, BAG_HOURS))}")
        if self.reminder_minutes < 0:
            raise RequestError("reminder lead time must be 0 minutes or more")


# --- public API --------------------------------------------------------------------------------


def to_ics(tl: Timeline, opts: IcsOptions, generated: datetime, part: str | None = None) -> bytes:
    """One VCALENDAR for the whole timeline (or the part of it `tl` already is)."""
    opts.check()
    return _Builder(tl, opts, generated).calendar(part).to_ical()


def parts(tl: Timeline, by: str) -> list[tuple[str, Timeline]]:
    """The timeline cut per phase or per cycle, in order: (phase or cycle id, sub-timeline)."""
    if by not in SPLITS:
        raise RequestError(f"split {by!r} is not one of {', '.join(SPLITS)}")
    attr = "phase_id" if by == "phase" else "cycle_id"
    keys: list[str] = []
    for c in tl.cycles:
        k = getattr(c, attr)
        if k not in keys:
            keys.append(k)
    out = []
    for k in keys:
        events = tuple(e for e in tl.events if getattr(e, attr) == k)
        cycles = tuple(c for c in tl.cycles if getattr(c, attr) == k)
        out.append((k, tl.with_events(events, cycles=cycles)))
    return out


def export(tl: Timeline, opts: IcsOptions, generated: datetime, split: str | None = None,
           max_bytes: int = MAX_BYTES) -> list[tuple[str | None, bytes]]:
    """Calendars to write: [(None, bytes)] for one file, or [(part id, bytes), ...].

    Without `split`, a calendar over `max_bytes` is split per phase, and a phase still over it
    per cycle (Google refuses larger imports). A single cycle over the limit stays whole: the
    caller says so.
    """
    opts.check()
    if split is None:
        whole = to_ics(tl, opts, generated)
        if len(whole) <= max_bytes:
            return [(None, whole)]
        out: list[tuple[str | None, bytes]] = []
        for key, sub in parts(tl, "phase"):
            data = to_ics(sub, opts, generated, key)
            if len(data) > max_bytes:
                out.extend((k, to_ics(s, opts, generated, k)) for k, s in parts(sub, "cycle"))
            else:
                out.append((key, data))
        return out
    return [(k, to_ics(s, opts, generated, k)) for k, s in parts(tl, split)]


# --- building ------------------------------------------------------------------------------


@dataclass
class _Series:
    events: list[DoseEvent]
    interval: int


def _is_take_home(e: DoseEvent) -> bool:
    return e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION) and e.route == "PO" and not e.continuous


def _series_key(e: DoseEvent) -> tuple:
    return (e.cycle_id, e.kind, e.title, e.drug, e.dose, e.unit, e.patient_dose, e.patient_unit,
            e.route, e.time, e.duration_minutes, e.status, e.status_reason, e.not_public,
            e.premed_for, e.step, e.note, e.window, e.decision)


def group_take_home(events: Iterable[DoseEvent]) -> list[DoseEvent | _Series]:
    """Oral take-home doses into runs of equal doses at a steady interval (one RRULE each), so a
    28-day mercaptopurine course is one event, not 28. Anything else passes through as is."""
    events = list(events)
    runs: dict[tuple, list[list[DoseEvent]]] = {}
    first_of: dict[str, _Series] = {}
    for e in events:
        if not _is_take_home(e):
            continue
        rs = runs.setdefault(_series_key(e), [])
        if rs:
            run = rs[-1]
            step = (e.date - run[-1].date).days
            if step > 0 and (len(run) == 1 or step == (run[1].date - run[0].date).days):
                run.append(e)
                continue
        rs.append([e])
    member: dict[str, _Series] = {}
    for rs in runs.values():
        for run in rs:
            s = _Series(run, (run[1].date - run[0].date).days if len(run) > 1 else 1)
            first_of[run[0].uid] = s
            for e in run:
                member[e.uid] = s
    out: list[DoseEvent | _Series] = []
    for e in events:
        if e.uid in first_of:
            s = first_of[e.uid]
            out.append(s if len(s.events) > 1 else e)
        elif e.uid not in member:
            out.append(e)
    return out


class _Builder:
    def __init__(self, tl: Timeline, opts: IcsOptions, generated: datetime):
        self.tl, self.opts = tl, opts
        self.labels = text.Labels.of(tl, opts.tall_man, opts.measurements)
        self.tz = ZoneInfo(opts.tz)
        self.stamp = generated.astimezone(UTC).replace(microsecond=0)
        self.timed = False
        self.span: list[date] = []
        self._stamp = vDDDTypes(self.stamp)
        self._sequence = vInt(tl.revision)
        self._categories: dict[str, vCategory] = {}
        self._names = dict(tl.source_names)
        self._public_cache: dict[str, str] = {}
        self.cont_starts = {(e.drug, self._at(e)) for e in tl.events if e.continuous and e.time}

    def calendar(self, part: str | None) -> Calendar:
        tl, o = self.tl, self.opts
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", "PUBLISH")
        name = text.calendar_name(tl, o.patient_label, part)
        desc = self._public(text.calendar_description(tl, o.patient_label, o.tz, o.measurements))
        # vText: non-standard and RFC 7986 properties are otherwise written unescaped
        cal.add("x-wr-calname", vText(name))
        cal.add("name", vText(name))
        cal.add("x-wr-caldesc", vText(desc))
        cal.add("description", vText(desc))
        cal.add("x-wr-timezone", vText(o.tz))
        vevents = [v for item in group_take_home(tl.events) for v in self._vevents(item)]
        if self.timed:
            cal.add_component(vtimezone(o.tz, min(self.span), max(self.span)))
        for v in vevents:
            cal.add_component(v)
        return cal

    # one timeline item → VEVENTs

    def _vevents(self, item: DoseEvent | _Series) -> list[Event]:
        if isinstance(item, _Series):
            return [self._series(item)]
        e = item
        if e.continuous and e.time is not None:
            return self._continuous(e)
        if e.time is None:
            ev = self._event(e.uid, text.summary(e, self.labels, last_day=self._last_day(e)),
                             text.description(e, self.labels), e)
            self._all_day(ev, e.date, e.end_date)
        else:
            ev = self._event(e.uid, text.summary(e, self.labels),
                             text.description(e, self.labels), e)
            self._timed(ev, self._at(e), e.duration_minutes)
        if _is_take_home(e):
            self._alarm(ev, e)
        return [ev]

    def _series(self, s: _Series) -> Event:
        first, last = s.events[0], s.events[-1]
        n = len(s.events)
        every = "daily" if s.interval == 1 else "weekly" if s.interval == 7 else f"every {s.interval} days"
        at = f" at {first.time:%H:%M}" if first.time else ""
        doses = f"Take-home: {n} doses, {every}{at}, days {first.day}–{last.day}"
        if first.dose_number and last.dose_number and first.doses_total:
            if last.dose_number - first.dose_number + 1 == n:
                doses += f" (doses {first.dose_number}–{last.dose_number} of {first.doses_total} in this cycle)"
            else:  # one clock time of a BID/TID schedule
                doses += f" ({n} of the {first.doses_total} doses in this cycle; the other times are separate events)"
        ev = self._event(first.uid, text.summary(first, self.labels, last_day=last.day, extra=every),
                         text.description(first, self.labels, doses=doses), first)
        if first.time is None:
            self._all_day(ev, first.date, first.date)
        else:
            self._timed(ev, self._at(first), first.duration_minutes)
        self.span.append(last.date)
        rule = {"FREQ": "DAILY", "COUNT": n} if s.interval == 1 else {"FREQ": "DAILY", "INTERVAL": s.interval, "COUNT": n}
        ev.add("rrule", vRecur(rule))
        self._alarm(ev, first)
        return ev

    def _continuous(self, e: DoseEvent) -> list[Event]:
        o = self.opts
        start = self._at(e)
        minutes = e.duration_minutes or (e.end_date - e.date).days * 1440 + 1440
        end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.tz)
        bag = timedelta(hours=o.bag_hours)
        bags = max(1, math.ceil(minutes / (o.bag_hours * 60)))
        timing = text.continuous_timing(start, end, minutes, o.bag_hours, bags)
        desc = text.description(e, self.labels, timing=timing)
        main = self._event(e.uid, text.summary(e, self.labels, last_day=self._last_day(e), extra="continuous"),
                           desc, e)
        self._all_day(main, e.date, e.end_date)
        main.add("transp", "TRANSPARENT")
        out = [main]
        base = e.uid.removesuffix("@regimens")
        # bag and end events point to the infusion event instead of repeating its text
        short = text.derived_description(e, self.labels, timing)
        for k in range(bags):
            t = (start.astimezone(UTC) + k * bag).astimezone(self.tz)
            day = e.day + (t.date() - e.date).days
            head = "Start " if k == 0 else "Bag change: "
            ev = self._event(f"{base}-bag{k + 1}@regimens",
                             self._derived_summary(e, head, f"bag {k + 1} of {bags}", day), short, e)
            self._timed(ev, t, None)
            out.append(ev)
        if (e.drug, end) not in self.cont_starts:
            day = e.day + (end.date() - e.date).days
            ev = self._event(f"{base}-end@regimens", self._derived_summary(e, "End of infusion: ", "", day), short, e)
            self._timed(ev, end, None)
            out.append(ev)
        return out

    def _derived_summary(self, e: DoseEvent, head: str, tail: str, day: int) -> str:
        moved = e.with_(day=day)
        s = text.summary(moved, self.labels, head=head, extra=f"({tail})" if tail else "")
        return s

    # properties

    def _public(self, text: str) -> str:
        # A calendar is patient-facing: no QD/BID/TID and no internal citation keys
        # (`adult-regimens.md §3`, `CHEMOX`, seed file names), plain names instead.
        if text not in self._public_cache:
            self._public_cache[text] = plain_frequency(public_text(text, self._names))
        return self._public_cache[text]

    def _event(self, uid: str, summary: str, description: str, e: DoseEvent) -> Event:
        # Property values are built directly (and the shared ones once per calendar): going
        # through Event.add() for each of thousands of events is most of the export time.
        ev = Event()
        # a calendar is patient-facing: no QD/BID/TID, even inside quoted source text
        ev["SUMMARY"] = vText(self._public(summary))
        ev["UID"] = vText(uid)
        ev["DTSTAMP"] = self._stamp
        ev["SEQUENCE"] = self._sequence
        ev["DESCRIPTION"] = vText(self._public(description))
        ev["CATEGORIES"] = self._category(e.kind)
        # planned events carry no STATUS (RFC 5545 default); a changed status always says so
        if e.status == "omitted":
            ev.add("status", "CANCELLED")
        elif e.status == "held":
            ev.add("status", "TENTATIVE")
        if e.kind in _TRANSPARENT:
            ev.add("transp", "TRANSPARENT")
        return ev

    def _category(self, kind: str) -> vCategory:
        if kind not in self._categories:
            self._categories[kind] = vCategory([_KIND_CATEGORY.get(kind, kind.capitalize())])
        return self._categories[kind]

    def _all_day(self, ev: Event, first: date, last: date) -> None:
        ev.add("dtstart", first)
        ev.add("dtend", last + timedelta(days=1))  # exclusive (RFC 5545; Google relies on it)
        self.span += [first, last]

    def _timed(self, ev: Event, start: datetime, minutes: int | None) -> None:
        ev.add("dtstart", start)
        if minutes:
            ev.add("dtend", (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.tz))
        self.timed = True
        self.span += [start.date(), start.date() + timedelta(days=1 + (minutes or 0) // 1440)]

    def _alarm(self, ev: Event, e: DoseEvent) -> None:
        o = self.opts
        if not o.reminders or e.status != "planned":
            return
        a = Alarm()
        a.add("action", "DISPLAY")
        a.add("description", f"Reminder: {ev['summary']}")
        if e.time is None:
            # relative to the start of the day, so the reminder comes that morning, not the evening before
            a.add("trigger", timedelta(hours=o.all_day_reminder.hour, minutes=o.all_day_reminder.minute))
        else:
            a.add("trigger", -timedelta(minutes=o.reminder_minutes))
        ev.add_component(a)

    def _at(self, e: DoseEvent) -> datetime:
        return datetime.combine(e.date, e.time or time(0), tzinfo=self.tz)

    def _last_day(self, e: DoseEvent) -> int | None:
        return e.day + (e.end_date - e.date).days if e.end_date != e.date else None
