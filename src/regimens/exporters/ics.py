"""iCalendar (RFC 5545) export of a timeline: bytes that Google, Apple, Outlook, Thunderbird and
the libraries their users' tools are built on read the same way (docs/ics.md, checked by ten
clients in tests/exporters/test_ics_clients.py).

Which event becomes what:
  - timed administration or premedication  → timed VEVENT in the clinic zone (TZID + VTIMEZONE),
                                              with its real duration (an estimate of minutes at
                                              the chair when the protocol gives none)
  - day-level item (phase, rest, hospital stay, lab, gate, untimed clinic dose)
                                            → all-day VEVENT, VALUE=DATE, exclusive DTEND
  - continuous infusion                     → one all-day multi-day VEVENT plus timed start /
                                              bag-change / end events of a few minutes
  - oral take-home doses (route PO)         → one recurring VEVENT (RRULE) per run of equal doses
                                              at a steady interval; an omitted or held dose is an
                                              EXDATE of that series (its UID never changes); an
                                              untimed dose is placed at the take-home time
  - omitted dose                            → STATUS:CANCELLED; held dose → STATUS:TENTATIVE

Only appointments (timed clinic events, hospital stays) are OPAQUE; everything else is
TRANSPARENT, so a calendar does not show the patient busy all day.

UIDs are the timeline's uids with a tag of the plan id (or `uid_salt`) mixed in, so two patients'
calendars never share a UID and one patient's UIDs survive every revision. SEQUENCE is the plan
revision (without a plan: derived from how far the event moved and its status), DTSTAMP the
generation time passed in. The library makes no randomness and reads no clock.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from regimens.errors import RequestError
from regimens.exporters import ics_text as text
from regimens.exporters.ics_lines import CATEGORIES, DT, DTLIST, DURATION, INT, RECUR, TEXT, Component, fold
from regimens.exporters.vtimezone import vtimezone
from regimens.notation.ismp import plain_frequency
from regimens.protocol.bibliography import public_text
from regimens.language.site import N_, PatientLanguage
from regimens.schedule.timeline import KIND_ADMINISTRATION, KIND_PREMEDICATION, DoseEvent, Timeline, infusion_stop

PRODID = "-//regimens//regimens iCalendar export//EN"
MAX_BYTES = 1_000_000
"""Google Calendar's import limit (about 1 MB; calendar-interop.md §10)."""
BAG_HOURS = (24, 48, 72, 96, 168)
SPLITS = ("phase", "cycle")
AUDIENCES = text.AUDIENCES
REMIND_KINDS = ("take-home", "clinic", "admission", "lab")
"""What can have a reminder: take-home doses, clinic appointments (timed doses, bag changes,
visits, procedures), admissions (hospital stays) and lab tests."""
_MINUTES_IF_UNKNOWN = {"PO": 5, "IT": 30, "ITH": 30}
"""Event length of a timed dose the protocol gives no duration for: a tablet, a spinal injection
(lumbar puncture); anything else (an IV push, an injection) 15 minutes."""
_DERIVED_MINUTES = 15
"""Start, bag change and end of a pump infusion: minutes of a nurse's time."""
_KIND_CATEGORY = {
    KIND_ADMINISTRATION: N_("Medication"), KIND_PREMEDICATION: N_("Premedication"), "phase": N_("Treatment phase"),
    "rest": N_("Treatment-free"), "hospitalization": N_("Hospital stay"), "lab": N_("Lab test"),
    "assessment": N_("Assessment"), "procedure": N_("Procedure"), "gate": N_("Start condition"),
    "milestone": N_("Milestone"), "visit": N_("Visit"),
}
_CLINIC_KINDS = ("visit", "procedure", "assessment")
_STATUS_RANK = {"planned": 0, "held": 1, "omitted": 2}


@dataclass(frozen=True)
class IcsOptions:
    tz: str
    """IANA zone of the clinic (Area/City): timed doses are at clinic wall-clock time."""
    bag_hours: int = 24
    reminders: bool = True
    """False: no VALARM at all."""
    reminder_minutes: int = 30
    """Lead time of the reminder before a timed take-home dose."""
    all_day_reminder: time = time(8, 0)
    """Take-home time: where an untimed take-home dose is placed (5 minutes), reminded at it."""
    patient_label: str | None = None
    measurements: bool = False
    """Height, weight, BSA and date measured in dose descriptions (off: privacy)."""
    tall_man: Mapping[str, str] | None = None
    audience: str = "patient"
    """`patient` (plain words, the default), `staff` (clinical wording, tall-man, sources) or
    `minimal` (no drug names or doses: "Clinic visit 09:30", "Take your tablets")."""
    uid_salt: str | None = None
    """Mixed into every UID: the plan's random id (Plan.id), or any text unique to the patient.
    None: derived from the start date (two patients on the same protocol, arm and start date
    then share UIDs; docs/ics.md)."""
    location: str | None = None
    """LOCATION of clinic appointments, labs and visits (e.g. "Day unit, 3rd floor")."""
    phone: str | None = None
    """The 24-hour number, in the calendar description and every event's description."""
    remind: frozenset[str] = frozenset(REMIND_KINDS)
    """Which kinds of event get a reminder (REMIND_KINDS)."""
    clinic_reminder_minutes: int = 60
    """Lead time before the first timed clinic appointment of a day."""
    day_before_reminder: time = time(18, 0)
    """Clock time, the day before, of the reminder of an all-day lab test, admission or visit."""
    language: PatientLanguage | None = None
    """The patient's language for the patient and minimal wordings (docs/languages.md); None is
    English. Staff calendars stay in the site's language."""

    @property
    def translated(self) -> bool:
        return self.language is not None and self.language.lang.code != "en"

    def check(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise RequestError(f"unknown time zone {self.tz!r}; give an IANA name such as "
                               "America/Chicago or Europe/Berlin") from None
        if self.bag_hours not in BAG_HOURS:
            raise RequestError(f"bag length {self.bag_hours} h is not one of "
                               f"{', '.join(map(str, BAG_HOURS))}")
        if self.reminder_minutes < 0 or self.clinic_reminder_minutes < 0:
            raise RequestError("reminder lead time must be 0 minutes or more")
        if self.audience not in AUDIENCES:
            raise RequestError(f"audience {self.audience!r} is not one of {', '.join(AUDIENCES)}")
        unknown = set(self.remind) - set(REMIND_KINDS)
        if unknown:
            raise RequestError(f"reminder kind {sorted(unknown)[0]!r} is not one of {', '.join(REMIND_KINDS)}")
        if self.uid_salt is not None and not self.uid_salt.strip():
            raise RequestError("the UID salt is empty; give some text unique to the patient")
        if self.translated and self.audience == "staff":
            raise RequestError("staff calendars stay in the site's language; --language is for the patient "
                               "and minimal audiences")


def _lead(alarm: Component, minutes: int) -> None:
    """A reminder `minutes` before the start; at the start it is `PT0S` (a zero DURATION is
    written `P0D`, which some parsers refuse for a time-of-day trigger)."""
    if minutes:
        alarm.set("TRIGGER", DURATION, -timedelta(minutes=minutes))
    else:
        alarm.set("TRIGGER", TEXT, "PT0S")


# --- UIDs ----------------------------------------------------------------------------------------


def uid_tag(salt: str) -> str:
    """12 hex digits standing for the plan id (or salt) in every UID: the id itself stays out."""
    return hashlib.sha256(f"regimens calendar uid\0{salt}".encode()).hexdigest()[:12]


def uid_salt(tl: Timeline, opts: IcsOptions) -> tuple[str, str]:
    """(salt, how the UIDs were made unique, in words for the calendar)."""
    if opts.uid_salt:
        return opts.uid_salt, "unique to this patient (plan id or UID salt)"
    # the start as given (`--start`), not where a delayed first cycle actually begins
    start = tl.cycles[0].nominal_start if tl.cycles else tl.start
    return (f"start {start.isoformat()}",
            f"derived from protocol, arm and start date {start.isoformat()} (no plan id or UID salt)")


def calendar_uid(timeline_uid: str, tag: str) -> str:
    """`<timeline uid>-<tag>@regimens`: the timeline uid stays readable (it is the id the JSON
    timeline and `--omit UID` use), the tag makes it this patient's."""
    return f"{timeline_uid.removesuffix('@regimens')}-{tag}@regimens"


# --- public API --------------------------------------------------------------------------------


def to_ics(tl: Timeline, opts: IcsOptions, generated: datetime, part: str | None = None,
           whole: Timeline | None = None) -> bytes:
    """One VCALENDAR for the whole timeline (or the part of it `tl` is, cut from `whole`)."""
    opts.check()
    return serialize(_Builder(tl, opts, generated, whole or tl).calendar(part))


def serialize(cal: Component) -> bytes:
    """The calendar's bytes: content lines written directly (exporters/ics_lines.py), the bytes
    icalendar's `Calendar.to_ical()` gives for the same calendar (tests/exporters/test_ics_lines.py),
    in about a fifth of the time and without importing icalendar."""
    return cal.to_ical()


_fold = fold  # the folding, for tests that check it against icalendar's


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
    caller says so. Every event of a part has the UID, SUMMARY and DESCRIPTION it has in the
    whole calendar: a split changes files, not events.
    """
    opts.check()
    if split is None:
        whole = to_ics(tl, opts, generated)
        if len(whole) <= max_bytes:
            return [(None, whole)]
        out: list[tuple[str | None, bytes]] = []
        for key, sub in parts(tl, "phase"):
            data = to_ics(sub, opts, generated, key, whole=tl)
            if len(data) > max_bytes:
                out.extend((k, to_ics(s, opts, generated, k, whole=tl)) for k, s in parts(sub, "cycle"))
            else:
                out.append((key, data))
        return out
    return [(k, to_ics(s, opts, generated, k, whole=tl)) for k, s in parts(tl, split)]


# --- grouping ----------------------------------------------------------------------------------


@dataclass
class _Series:
    events: list[DoseComponent]
    interval: int


def _is_take_home(e: DoseEvent) -> bool:
    return e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION) and e.route == "PO" and not e.continuous


def _series_key(e: DoseEvent) -> tuple:
    # no status: an omitted or held dose stays in its series (as an EXDATE), so the series and its
    # UID are the same whichever doses are omitted
    return (e.cycle_id, e.kind, e.title, e.drug, e.dose, e.unit, e.patient_dose, e.patient_unit,
            e.route, e.time, e.duration_minutes, e.not_public, e.premed_for, e.step, e.note, e.window,
            e.decision)


def group_take_home(events: Iterable[DoseComponent], key: Callable[[DoseComponent], tuple] = _series_key,
                    take_home: Callable[[DoseComponent], bool] = _is_take_home) -> list[DoseEvent | _Series]:
    """Oral take-home doses into runs of equal doses at a steady interval (one RRULE each), so a
    28-day mercaptopurine course is one event, not 28. Anything else passes through as is."""
    events = list(events)
    runs: dict[tuple, list[list[DoseComponent]]] = {}
    for e in events:
        if not take_home(e):
            continue
        rs = runs.setdefault(key(e), [])
        if rs:
            run = rs[-1]
            step = (e.date - run[-1].date).days
            if step > 0 and (len(run) == 1 or step == (run[1].date - run[0].date).days):
                run.append(e)
                continue
        rs.append([e])
    first_of: dict[str, _Series] = {}
    member: set[str] = set()
    for rs in runs.values():
        for run in rs:
            s = _Series(run, (run[1].date - run[0].date).days if len(run) > 1 else 1)
            first_of[run[0].uid] = s
            member.update(e.uid for e in run)
    out: list[DoseEvent | _Series] = []
    for e in events:
        if e.uid in first_of:
            s = first_of[e.uid]
            out.append(s if len(s.events) > 1 else e)
        elif e.uid not in member:
            out.append(e)
    return out


def _today(events: Iterable[DoseComponent]) -> dict[str, tuple[int, int]]:
    """uid → (k, n): dose k of the n take-home doses of the same medicine that day."""
    day: dict[tuple, list[DoseComponent]] = {}
    for e in events:
        if _is_take_home(e):
            day.setdefault((e.date, e.drug, e.title), []).append(e)
    out = {}
    for evs in day.values():
        evs.sort(key=lambda x: (x.time or time(0), x.order))
        for k, e in enumerate(evs, 1):
            out[e.uid] = (k, len(evs))
    return out


def _relocate_next(events: list[DoseComponent]) -> list[DoseComponent]:
    """"Next: Block 2 (date set by the treating team)" sits on day 1 of the element before it in
    the timeline; on a calendar it would read as if Block 2 started then. It goes on the last day
    of that element that has anything on it (its length is not public, so that is its last event)."""
    nexts = {id(e) for e in events if e.kind == "gate" and text.next_element(e)}  # a few of thousands
    if not nexts:
        return events
    last: dict[str, date] = {}
    for e in events:
        if e.kind != "phase" and id(e) not in nexts:
            d = last.get(e.cycle_id)
            if d is None or e.end_date > d:
                last[e.cycle_id] = e.end_date
    out = []
    for e in events:
        if id(e) in nexts:
            d = last.get(e.cycle_id)
            if d is not None and d > e.date:
                e = e.with_(date=d, end_date=d, day=e.day + (d - e.date).days)
        out.append(e)
    return out


# --- building ------------------------------------------------------------------------------------


@dataclass
class _Visit:
    """Minimal audience: one clinic visit per day, from the first to the last timed clinic event."""

    key: str
    start: datetime
    end: datetime
    statuses: set[str] = field(default_factory=set)


class _Builder:
    def __init__(self, tl: Timeline, opts: IcsOptions, generated: datetime, whole: Timeline):
        self.tl, self.opts = tl, opts
        self.minimal = opts.audience == "minimal"
        tr, unreviewed = None, None
        if opts.translated:
            tr = opts.language.translator(html=False)
            unreviewed = opts.language.unreviewed_lines(tr)
        elif opts.language is not None and opts.language.fallback_line() and opts.audience != "staff":
            # the patient's language is not installed here: English, saying so where the
            # "not yet reviewed" line would be (English only: there is no catalog)
            unreviewed = (opts.language.fallback_line(), None)
        self.labels = text.Labels.of(whole, opts.tall_man, "patient" if self.minimal else opts.audience,
                                     opts.measurements, tr, unreviewed)
        self.tr = self.labels.tr
        # RFC 5545 §3.2.10: the language of the text of SUMMARY and DESCRIPTION, when not English
        self._lang = {"LANGUAGE": opts.language.lang.html_lang} if opts.translated and opts.audience != "staff" else None
        self.tz = ZoneInfo(opts.tz)
        self.stamp = generated.astimezone(UTC).replace(microsecond=0)
        self.timed = False
        self.span: list[date] = []
        self._categories: dict[str, list[str]] = {}
        salt, self.uid_words = uid_salt(whole, opts)
        self.tag = uid_tag(salt)
        self.shift = {c.cycle_id: abs((c.start - c.nominal_start).days) for c in whole.cycles}
        self._names = dict(tl.source_names)
        self._public_cache: dict[str, str] = {}
        self.cont_starts = {(e.drug, self._at(e)) for e in tl.events if e.continuous and e.time}
        self.today = _today(tl.events)
        # the first timed clinic appointment of each day gets the clinic reminder
        self._clinic: dict[date, tuple[datetime, Component, str]] = {}
        self._location = opts.location or None

    def calendar(self, part: str | None) -> Component:
        tl, o = self.tl, self.opts
        cal = Component("VCALENDAR")
        cal.add("PRODID", TEXT, PRODID)
        cal.add("VERSION", TEXT, "2.0")
        cal.add("CALSCALE", TEXT, "GREGORIAN")
        # no METHOD: a plain calendar file (what Outlook treats as PUBLISH) needs no ORGANIZER,
        # which RFC 5546 wants with METHOD:PUBLISH and a made-up address would turn into an
        # invitation from somebody else (calendar-interop.md §3)
        name = text.calendar_name(tl, o.patient_label, part, o.audience, self.tr)
        desc = self._public(text.calendar_description(tl, o.patient_label, o.tz, o.audience, o.phone,
                                                      self.uid_words, o.measurements, self.tr,
                                                      self.labels.unreviewed))
        # TEXT escaping for the non-standard and RFC 7986 properties too
        cal.add("X-WR-CALNAME", TEXT, name)
        cal.add("NAME", TEXT, name, self._lang)
        cal.add("X-WR-CALDESC", TEXT, desc)
        cal.add("DESCRIPTION", TEXT, desc, self._lang)
        cal.add("X-WR-TIMEZONE", TEXT, o.tz)
        cal.add("X-REGIMENS-UIDS", TEXT, self.uid_words)
        events = _relocate_next(list(tl.events))
        if self.minimal:
            vevents = self._minimal(events)
        else:
            vevents = [v for item in group_take_home(events) for v in self._vevents(item)]
        self._clinic_reminders()
        if self.timed:
            cal.add_component(vtimezone(o.tz, min(self.span), max(self.span)))
        for v in vevents:
            cal.add_component(v)
        return cal

    # one timeline item → VEVENTs

    def _vevents(self, item: DoseEvent | _Series) -> list[Component]:
        if isinstance(item, _Series):
            return [self._series(item)]
        e = item
        lb, o = self.labels, self.opts
        if e.continuous and e.time is not None:
            return self._continuous(e)
        today = self.today.get(e.uid)
        desc = text.description(e, lb, today=today, location=self._where(e), phone=o.phone)
        if _is_take_home(e):
            ev = self._event(self._uid(e.uid), text.summary(e, lb, today=today), desc, e, (e,))
            self._take_home_time(ev, e)
            self._remind(ev, e, "take-home")
        elif e.time is None:
            ev = self._event(self._uid(e.uid), text.summary(e, lb, last_day=self._last_day(e)), desc, e, (e,))
            self._all_day(ev, e.date, e.end_date)
            self._remind(ev, e, self._reminder_kind(e))
        else:
            ev = self._event(self._uid(e.uid), text.summary(e, lb), desc, e, (e,))
            start = self._at(e)
            self._timed(ev, start, e.duration_minutes or self._unknown_minutes(e))
            self._clinic_candidate(ev, e, start)
        self._transp(ev, e)
        return [ev]

    def _series(self, s: _Series) -> Component:
        lb, o = self.labels, self.opts
        planned = [e for e in s.events if e.status == "planned"]
        skipped = [e for e in s.events if e.status != "planned"]
        first, last = s.events[0], s.events[-1]
        if planned:
            rep = first.with_(status="planned", status_reason=None)
        else:  # every dose omitted or held: the series itself says so, under the same UID
            rep = first if all(e.status == first.status for e in s.events) else first.with_(status="held")
        n = len(s.events)
        every = "daily" if s.interval == 1 else "weekly" if s.interval == 7 else f"every {s.interval} days"
        today = self.today.get(first.uid)
        doses = self._series_words(s, every)
        ev = self._event(self._uid(first.uid), text.summary(rep, lb, last_day=last.day, every=every, today=today),
                         text.description(rep, lb, doses=doses, today=today, phone=o.phone,
                                          not_on=text.not_on_lines(skipped, lb) if planned else ()),
                         rep, s.events)
        start = self._take_home_time(ev, first)
        self.span.append(last.date)
        rule = {"FREQ": "DAILY", "COUNT": n} if s.interval == 1 else {"FREQ": "DAILY", "INTERVAL": s.interval, "COUNT": n}
        ev.add("RRULE", RECUR, rule)
        if planned and skipped:
            ev.add("EXDATE", DTLIST, [start.replace(year=e.date.year, month=e.date.month, day=e.date.day)
                                      for e in skipped])
        self._remind(ev, rep, "take-home")
        self._transp(ev, rep)
        return ev

    def _series_words(self, s: _Series, every: str) -> str:
        first, last = s.events[0], s.events[-1]
        n = len(s.events)
        if not self.labels.staff:
            lb = self.labels
            return lb.gettext("%(n)s doses, %(every)s, from %(first)s to %(last)s") % {
                "n": n, "every": text.every_words(every, lb), "first": text.long_day(first.date, lb),
                "last": text.long_day(last.date, lb)}
        at = f" at {first.time:%H:%M}" if first.time else ""
        doses = f"Take-home: {n} doses, {every}{at}, days {first.day}–{last.day}"
        if first.dose_number and last.dose_number and first.doses_total:
            if last.dose_number - first.dose_number + 1 == n:
                doses += f" (doses {first.dose_number}–{last.dose_number} of {first.doses_total} in this cycle)"
            else:  # one clock time of a BID/TID schedule
                doses += f" ({n} of the {first.doses_total} doses in this cycle; the other times are separate events)"
        return doses

    def _continuous(self, e: DoseEvent) -> list[Component]:
        o, lb = self.opts, self.labels
        start = self._at(e)
        minutes = e.duration_minutes or (e.end_date - e.date).days * 1440 + 1440
        # the library's rule, so the .ics stops where the timeline, CSV and sheets say: days 1-7
        # from 09:00 stop at 09:00 on day 8 on the clock (where a step-up bag starts), an
        # infusion over 69 h runs 69 real hours, across a DST change too
        end = infusion_stop(e, self.opts.tz) or start + timedelta(minutes=minutes)
        bag = timedelta(hours=o.bag_hours)
        bags = max(1, math.ceil(minutes / (o.bag_hours * 60)))
        timing = text.continuous_timing(start, end, minutes, o.bag_hours, bags, lb)
        desc = text.description(e, lb, timing=timing, phone=o.phone)
        main = self._event(self._uid(e.uid), text.summary(e, lb, last_day=self._last_day(e)), desc, e, (e,))
        self._all_day(main, e.date, e.end_date)
        main.set("TRANSP", TEXT, "TRANSPARENT")
        out = [main]
        base = e.uid.removesuffix("@regimens")
        # bag and end events point to the infusion event instead of repeating its text
        short = text.derived_description(e, lb, timing, self.opts.location, o.phone)
        for k in range(bags):
            t = (start.astimezone(UTC) + k * bag).astimezone(self.tz)
            day = e.day + (t.date() - e.date).days
            part = text.Part("start" if k == 0 else "bag", k + 1, bags)
            ev = self._event(self._uid(f"{base}-bag{k + 1}@regimens"),
                             text.summary(e.with_(day=day), lb, part=part), short, e, (e,))
            self._timed(ev, t, _DERIVED_MINUTES)
            self._appointment(ev)
            self._clinic_candidate(ev, e, t)
            out.append(ev)
        if (e.drug, end) not in self.cont_starts:
            day = e.day + (end.date() - e.date).days
            ev = self._event(self._uid(f"{base}-end@regimens"),
                             text.summary(e.with_(day=day), lb, part=text.Part("end")), short, e, (e,))
            self._timed(ev, end, _DERIVED_MINUTES)
            self._appointment(ev)
            self._clinic_candidate(ev, e, end)
            out.append(ev)
        return out

    # the minimal audience: no drug names, one visit per clinic day, "Take your tablets"

    def _minimal(self, events: list[DoseComponent]) -> list[Component]:
        o = self.opts
        lb = self.labels
        desc = text.minimal_description(o.phone, lb=lb)
        visits: dict[date, _Visit] = {}
        slots: dict[tuple, list[DoseComponent]] = {}
        out: list[Component] = []

        def visit(e: DoseEvent, start: datetime, minutes: int) -> None:
            end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.tz)
            v = visits.get(start.date())
            if v is None:
                v = visits[start.date()] = _Visit(f"visit|{e.cycle_id}|{e.day + (start.date() - e.date).days}",
                                                  start, end)
            v.start, v.end = min(v.start, start), max(v.end, end)
            v.statuses.add(e.status)

        for e in events:
            if _is_take_home(e):
                slots.setdefault((e.date, e.time), []).append(e)
            elif e.continuous and e.time is not None:
                ev = self._event(self._uid(e.uid), text.minimal_summary("pump", lb=lb), desc, e, (e,))
                self._all_day(ev, e.date, e.end_date)
                ev.set("TRANSP", TEXT, "TRANSPARENT")
                out.append(ev)
                start = self._at(e)
                minutes = e.duration_minutes or (e.end_date - e.date).days * 1440 + 1440
                bag = timedelta(hours=o.bag_hours)
                times = [start.astimezone(UTC) + k * bag for k in range(max(1, math.ceil(minutes / (o.bag_hours * 60))))]
                end = (infusion_stop(e, self.opts.tz) or start + timedelta(minutes=minutes)).astimezone(UTC)
                if (e.drug, end.astimezone(self.tz)) not in self.cont_starts:
                    times.append(end)
                for t in times:
                    visit(e, t.astimezone(self.tz), _DERIVED_MINUTES)
            elif e.time is not None:
                visit(e, self._at(e), e.duration_minutes or self._unknown_minutes(e))
            else:
                kind = "clinic" if e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION) else e.kind
                words = text.minimal_summary("next" if text.next_element(e) else kind, lb=lb)
                ev = self._event(self._uid(e.uid), words, text.minimal_description(o.phone, self._where(e), lb), e,
                                 (e,))
                self._all_day(ev, e.date, e.end_date)
                self._remind(ev, e, self._reminder_kind(e))
                self._transp(ev, e)
                out.append(ev)
        reps = []
        for (d, t), evs in slots.items():
            planned = [e for e in evs if e.status == "planned"]
            first = (planned or evs)[0]
            status = "planned" if planned else first.status
            key = f"take|{first.cycle_id}|{first.day}|{t}"
            reps.append(first.with_(uid=f"{hashlib.sha256(key.encode()).hexdigest()[:24]}@regimens",
                                    status=status, status_reason=None))
        reps.sort(key=lambda e: (e.date, e.time or time(0)))
        for item in group_take_home(reps, key=lambda e: (e.cycle_id, e.time)):
            evs = item.events if isinstance(item, _Series) else [item]
            planned = [e for e in evs if e.status == "planned"]
            rep = evs[0].with_(status="planned") if planned else evs[0]
            ev = self._event(self._uid(evs[0].uid), text.minimal_summary("take-home", lb=lb), desc, rep, evs)
            start = self._take_home_time(ev, evs[0])
            if isinstance(item, _Series):
                self.span.append(evs[-1].date)
                ev.add("RRULE", RECUR, {"FREQ": "DAILY", "INTERVAL": item.interval, "COUNT": len(evs)}
                       if item.interval != 1 else {"FREQ": "DAILY", "COUNT": len(evs)})
                skipped = [e for e in evs if e.status != "planned"]
                if planned and skipped:
                    ev.add("EXDATE", DTLIST, [start.replace(year=e.date.year, month=e.date.month, day=e.date.day)
                                      for e in skipped])
            self._remind(ev, rep, "take-home")
            self._transp(ev, rep)
            out.append(ev)
        for d, v in sorted(visits.items()):
            status = "planned" if "planned" in v.statuses else "omitted" if v.statuses == {"omitted"} else "held"
            uid = f"{hashlib.sha256(v.key.encode()).hexdigest()[:24]}@regimens"
            stub = events[0].with_(status=status, kind="visit", route=None, continuous=False)
            ev = self._event(self._uid(uid), text.minimal_summary("clinic", v.start, lb),
                             text.minimal_description(o.phone, o.location, lb), stub, ())
            ev.add("DTSTART", DT, v.start)
            ev.add("DTEND", DT, v.end)
            self.timed = True
            self.span += [v.start.date(), v.end.date() + timedelta(days=1)]
            self._appointment(ev)
            if status == "planned":
                self._clinic[d] = (v.start, ev, "planned")
            out.append(ev)
        return out

    # properties

    def _public(self, text: str) -> str:
        # A calendar is patient-facing: no QD/BID/TID and no internal citation keys
        # (`adult-regimens.md §3`, `CHEMOX`, seed file names), plain names instead.
        if text not in self._public_cache:
            self._public_cache[text] = plain_frequency(public_text(text, self._names))
        return self._public_cache[text]

    def _uid(self, timeline_uid: str) -> str:
        return calendar_uid(timeline_uid, self.tag)

    def _sequence(self, events: Iterable[DoseComponent]) -> int:
        """The plan revision; without a plan, how far the event moved (days) plus 1 if held, 2 if
        omitted, so a delay or an omission never re-sends a changed event with the same SEQUENCE."""
        if self.tl.revision:
            n = self.tl.revision
        else:
            n = max((self.shift.get(e.cycle_id, 0) + _STATUS_RANK.get(e.status, 0) for e in events), default=0)
        return n

    def _event(self, uid: str, summary: str, description: str, e: DoseEvent,
               members: Iterable[DoseComponent]) -> Component:
        ev = Component("VEVENT")
        # a calendar is patient-facing: no QD/BID/TID, even inside quoted source text
        ev.set("SUMMARY", TEXT, self._public(summary), self._lang)
        ev.set("UID", TEXT, uid)
        ev.set("DTSTAMP", DT, self.stamp)
        ev.set("SEQUENCE", INT, self._sequence(members or (e,)))
        ev.set("DESCRIPTION", TEXT, self._public(description), self._lang)
        ev.set("CATEGORIES", CATEGORIES, self._category(e.kind))
        # planned events carry no STATUS (RFC 5545 default); a changed status always says so
        if e.status == "omitted":
            ev.set("STATUS", TEXT, "CANCELLED")
        elif e.status == "held":
            ev.set("STATUS", TEXT, "TENTATIVE")
        return ev

    def _category(self, kind: str) -> list[str]:
        if self.minimal:
            kind = "visit" if kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION) else kind
        if kind not in self._categories:
            word = _KIND_CATEGORY.get(kind)
            shown = self.tr.gettext(word) if word else kind.capitalize()
            self._categories[kind] = [shown]
        return self._categories[kind]

    def _transp(self, ev: Component, e: DoseEvent) -> None:
        """Busy (OPAQUE) only for appointments: a timed clinic event, a hospital stay."""
        if e.kind == "hospitalization" or (e.time is not None and not _is_take_home(e) and not e.continuous):
            self._appointment(ev, located=e.kind != "hospitalization")
        else:
            ev.set("TRANSP", TEXT, "TRANSPARENT")
            if self._location is not None and self._where(e):
                ev.set("LOCATION", TEXT, self._location)  # an all-day lab test or visit at the clinic

    def _appointment(self, ev: Component, located: bool = True) -> None:
        ev.set("TRANSP", TEXT, "OPAQUE")
        if located and self._location is not None:
            ev.set("LOCATION", TEXT, self._location)

    def _where(self, e: DoseEvent) -> str | None:
        if e.kind in ("lab", *_CLINIC_KINDS) or (e.drug and not _is_take_home(e)):
            return self.opts.location
        return None

    def _all_day(self, ev: Component, first: date, last: date) -> None:
        ev.add("DTSTART", DT, first)
        ev.add("DTEND", DT, last + timedelta(days=1))  # exclusive (RFC 5545; Google relies on it)
        self.span += [first, last]

    def _timed(self, ev: Component, start: datetime, minutes: int) -> None:
        ev.add("DTSTART", DT, start)
        ev.add("DTEND", DT, (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.tz))
        self.timed = True
        self.span += [start.date(), start.date() + timedelta(days=1 + minutes // 1440)]

    def _take_home_time(self, ev: Component, e: DoseEvent) -> datetime:
        """A take-home dose at its time, or (untimed) at the take-home time: a timed event is the
        reminder form every client expands (an all-day event's relative reminder crashes
        recurring-ical-events, and an absolute one fires for the first instance only)."""
        start = datetime.combine(e.date, e.time or self.opts.all_day_reminder, tzinfo=self.tz)
        self._timed(ev, start, e.duration_minutes or _MINUTES_IF_UNKNOWN["PO"])
        return start

    @staticmethod
    def _unknown_minutes(e: DoseEvent) -> int:
        return _MINUTES_IF_UNKNOWN.get((e.route or "").upper(), 15)

    def _reminder_kind(self, e: DoseEvent) -> str | None:
        if e.kind == "lab":
            return "lab"
        if e.kind == "hospitalization":
            return "admission"
        if e.kind in _CLINIC_KINDS or (e.drug and not _is_take_home(e) and not e.continuous):
            return "clinic"
        return None

    def _remind(self, ev: Component, e: DoseEvent, kind: str | None) -> None:
        o = self.opts
        if not o.reminders or kind not in o.remind or e.status != "planned":
            return
        a = self._alarm(ev)
        start = ev.value("DTSTART")
        if isinstance(start, datetime):
            lead = o.reminder_minutes if (kind == "take-home" and e.time is not None) else 0
            if kind != "take-home":
                lead = o.clinic_reminder_minutes
            _lead(a, lead)
        else:
            # all-day and not recurring: an absolute UTC time the evening before, which every
            # client expands (a relative trigger on a DATE event crashes recurring-ical-events)
            at = datetime.combine(start - timedelta(days=1), o.day_before_reminder, tzinfo=self.tz)
            # VALUE=DATE-TIME: without it the value reads as a duration (ical.js fails)
            a.set("TRIGGER", DT, at.astimezone(UTC), {"VALUE": "DATE-TIME"})

    def _alarm(self, ev: Component) -> Component:
        """A DISPLAY VALARM of the event, saying what it reminds of (the TRIGGER is the caller's)."""
        a = Component("VALARM")
        a.add("ACTION", TEXT, "DISPLAY")
        a.set("DESCRIPTION", TEXT, self.tr.gettext("Reminder: %(title)s") % {"title": ev.value("SUMMARY")},
              self._lang)
        ev.add_component(a)
        return a

    def _clinic_candidate(self, ev: Component, e: DoseEvent, start: datetime) -> None:
        if e.status != "planned":
            return
        d = start.date()
        if d not in self._clinic or start < self._clinic[d][0]:
            self._clinic[d] = (start, ev, e.status)

    def _clinic_reminders(self) -> None:
        o = self.opts
        if not o.reminders or "clinic" not in o.remind:
            return
        for _, ev, _ in self._clinic.values():
            _lead(self._alarm(ev), o.clinic_reminder_minutes)

    def _at(self, e: DoseEvent) -> datetime:
        return datetime.combine(e.date, e.time or time(0), tzinfo=self.tz)

    def _last_day(self, e: DoseEvent) -> int | None:
        return e.day + (e.end_date - e.date).days if e.end_date != e.date else None
