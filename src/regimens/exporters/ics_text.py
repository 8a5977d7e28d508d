"""The words of the iCalendar export, per audience:

  - `patient` (the default): plain words a patient or carer reads on a phone. Routes spelled out
    ("into a vein", "spinal injection (lumbar puncture)"), "2 of 3 today" for doses taken several
    times a day, titles of at most 40 characters before the cycle and day (shortened at a word,
    never mid-word), no file names, section numbers, hashes, sources or command syntax.
  - `staff`: the clinical wording for nurses and pharmacists (tall-man lettering, route codes,
    dose as written and the working of the calculated dose, sources, protocol version and hash).
  - `minimal`: what a shared or lock-screen calendar may show: no drug names, no doses
    ("Clinic visit 09:30", "Take your tablets").

Kept apart from ics.py (which decides *which* events exist and *when*) so that wording can be
changed and reviewed by a pharmacist without touching the calendar logic.

The patient and minimal wordings are in the patient's language (docs/languages.md): every phrase
is a gettext message (`_()`, `N_()`), looked up in the language's catalog through `Labels.tr`;
drug names (INN), doses and units stay as the pharmacy label writes them, in Latin script, and a
message missing from the catalog is printed in English with an "(English)" prefix. The staff
wording is never translated. English (the default) is the text it always was, byte for byte.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from regimens.language.catalogs import Translator, language
from regimens.language.site import N_
from regimens.notation.ismp import NOT_PUBLIC_TEXT, display_drug, format_dose, format_number, ismp_clean
from regimens.schedule.compiler.ending import CONTINUES_TITLE
from regimens.schedule.timeline import CLOCK_CHANGE, KIND_PREMEDICATION, DoseEvent, Timeline

AUDIENCES = ("patient", "staff", "minimal")
SHORT_NOT_PUBLIC = "dose not public"
TITLE_MAX = 40
"""Columns of a patient title before the cycle and day (what a phone's lock screen shows): a
character is one column, a wide (Chinese, Japanese, Korean) character two, as a phone draws it."""
PATIENT_CONTINUES = N_("Treatment continues as your team decides")  # the final event of an open end
_STAFF_MAX = 90
_STATUS_PREFIX = {"omitted": "OMITTED: ", "held": "HELD: "}
_PATIENT_STATUS = {"omitted": N_("Cancelled: %(title)s"), "held": N_("On hold: %(title)s")}
ROUTE_WORDS = {
    "IV": N_("into a vein"), "PO": N_("by mouth"), "SC": N_("under the skin"), "SUBCUT": N_("under the skin"),
    "IM": N_("into a muscle"), "IT": N_("spinal injection (lumbar puncture)"),
    "ITH": N_("spinal injection (lumbar puncture)"),
}
KIND_WORDS = {
    "lab": N_("Blood test"), "visit": N_("Clinic visit"), "assessment": N_("Check-up"), "procedure": N_("Procedure"),
    "hospitalization": N_("Hospital stay"), "gate": N_("Check with your team before this cycle"),
    "milestone": N_("Treatment milestone"), "rest": N_("No treatment (rest)"),
}
_APPOINTMENT = N_("Appointment")
EVERY = {"daily": N_("daily"), "weekly": N_("weekly")}
_EVERY_N = re.compile(r"^every (\d+) days$")
_NEXT = re.compile(r"^Next: (?P<what>.+?)(?: \(date set by the treating team\))?$")
_CYCLE_TAIL = re.compile(r"\s*\(cycle \d+\)$")
_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CARE = N_("This calendar reminds you of the plan; your care team confirms every dose.")
_ENGLISH: list[Translator] = []


def english() -> Translator:
    """The source language: every message as written (no catalog)."""
    if not _ENGLISH:
        _ENGLISH.append(Translator(language("en")))
    return _ENGLISH[0]


@dataclass(frozen=True)
class Labels:
    """What the words need from the whole timeline, computed once per calendar (not per event),
    and from the whole timeline even for a split part: a part never words an event differently."""

    audience: str
    multi_phase: bool
    course_of: Mapping[str, str]
    """cycle id → course id."""
    protocol_line: str
    tall: Mapping[str, str] | None = None
    measurements: bool = False
    """Show height, weight, BSA and the date measured in dose descriptions (only when asked:
    a calendar is often copied to a cloud service)."""
    tr: Translator = field(default_factory=english)
    """The patient's language (patient and minimal wording); English for staff calendars."""
    unreviewed: tuple[str, str | None] | None = None
    """(English, translated) "not yet reviewed" line, printed on every event of a draft catalog."""
    _names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, tl: Timeline, tall: Mapping[str, str] | None = None, audience: str = "staff",
           measurements: bool = False, tr: Translator | None = None,
           unreviewed: tuple[str, str | None] | None = None) -> Labels:
        return cls(audience, len({c.phase_id for c in tl.cycles}) > 1, {c.cycle_id: c.course_id for c in tl.cycles},
                   f"Protocol: {tl.protocol_id} v{tl.protocol_version}, arm {tl.arm}"
                   f" (sha256 {tl.content_hash[:12]})", tall, measurements,
                   tr if tr is not None and audience != "staff" else english(), unreviewed)

    def gettext(self, message: str) -> str:
        return self.tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.tr.ngettext(singular, plural, n)

    @property
    def staff(self) -> bool:
        return self.audience == "staff"

    def drug(self, name: str) -> str:
        """Tall-man on staff calendars (display_drug, remembered: it compiles a pattern per call and
        a long calendar names the same few drugs thousands of times); the plain name for patients."""
        if not self.staff:
            return name
        if name not in self._names:
            self._names[name] = display_drug(name, self.tall)
        return self._names[name]


# --- shortening -------------------------------------------------------------------------------


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def width(text: str) -> int:
    """Columns a phone gives the text: 2 for a wide or full-width character (Han, kana, Hangul,
    full-width punctuation), 1 for any other (Latin, Vietnamese, Arabic)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _head(text: str, columns: int) -> str:
    """The longest start of `text` that takes at most `columns` columns."""
    if text.isascii():
        return text[:columns]
    used = 0
    for i, c in enumerate(text):
        used += 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if used > columns:
            return text[:i]
    return text


def fit(text: str, limit: int = TITLE_MAX) -> str:
    """At most `limit` columns: drop trailing parentheses, then what follows " - " or ": ",
    then cut at a word with "…". Never mid-word (a script without spaces between words, such as
    Chinese, is cut between characters)."""
    text = " ".join(text.split())
    if width(text) <= limit:
        return text
    while text.endswith((")", "）")) and ("(" in text or "（" in text):
        shorter = text[: max(text.rfind("("), text.rfind("（"))].rstrip(" ,;，；、")
        if not shorter:
            break
        text = shorter
        if width(text) <= limit:
            return text
    for sep in (" - ", " – ", "; ", ", ", "，", "："):
        head = text.split(sep)[0]
        if 8 <= width(head) <= limit and head != text:
            return head
    cut = _head(text, limit - 1)
    if " " in cut and not text[len(cut)].isspace():
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–(，；：、（") + "…"


def first_fit(candidates: Sequence[str], limit: int = TITLE_MAX) -> str:
    for c in candidates:
        c = " ".join(c.split())
        if c and width(c) <= limit:
            return c
    return fit(candidates[0], limit)


# --- pieces -----------------------------------------------------------------------------------


def where(e: DoseEvent, lb: Labels, last_day: int | None = None) -> str:
    """Staff: `C1 D4`, `C2 D1–28` (the phase named when the timeline has several).
    Patient: `cycle 1, day 4`, `Maintenance cycle 2, days 1–28`."""
    numbered = e.phase_id != lb.course_of.get(e.cycle_id, "")
    many = bool(last_day and last_day != e.day)
    if lb.staff:
        days = f"D{e.day}–{last_day}" if many else f"D{e.day}"
        parts = []
        if lb.multi_phase:
            parts.append(e.phase if len(e.phase) <= 24 else e.phase_id)
        if numbered or not lb.multi_phase:
            parts.append(f"C{e.cycle}")
        parts.append(days)
        return " ".join(parts)
    _ = lb.gettext
    days = (_("days %(first)s–%(last)s") % {"first": e.day, "last": last_day} if many
            else _("day %(day)s") % {"day": e.day})
    head = []
    if lb.multi_phase and len(e.phase) <= 16:
        head.append(e.phase)  # the protocol's name of the phase, as written
    if numbered or not lb.multi_phase:
        head.append(_("cycle %(n)s") % {"n": e.cycle})
    return _("%(cycle)s, %(day)s") % {"cycle": " ".join(head), "day": days} if head else cap(days)


def dose_short(e: DoseEvent) -> str:
    """The dose a nurse or patient acts on: the calculated patient dose when there is one."""
    if e.not_public:
        return SHORT_NOT_PUBLIC
    # a value from a reference regimen (this trial's dose not public) never reads as the trial's
    ref = " (reference dose)" if e.dose_spec is not None and e.dose_spec.reference else ""
    if e.patient_dose is not None:
        return format_dose(e.patient_dose, e.patient_unit or e.unit) + ref
    if e.dose is None:
        return ""
    return format_dose(e.dose, e.unit) + ref


def _patient_dose(e: DoseEvent) -> str:
    """The dose in a patient title: only a dose the patient can act on (never "not public")."""
    return "" if e.not_public else dose_short(e)


def drug_line(e: DoseEvent, lb: Labels, extra: str = "") -> str:
    """`vinCRIStine 2 mg IV` (+ extra such as `continuous`)."""
    bits = [lb.drug(e.title), dose_short(e), e.route or "", extra]
    return " ".join(b for b in bits if b)


def route_words(route: str | None, lb: Labels | None = None) -> str:
    words = ROUTE_WORDS.get((route or "").upper())
    if words is None:
        return route or ""
    return lb.gettext(words) if lb is not None else words


def every_words(every: str, lb: Labels) -> str:
    """A series' rhythm ("daily", "weekly", "every 3 days") in the patient's language."""
    if not every or lb.tr.is_source:
        return every
    if every in EVERY:
        return lb.gettext(EVERY[every])
    m = _EVERY_N.match(every)
    if m:
        return lb.gettext("every %(n)s days") % {"n": m.group(1)}
    return every


def next_element(e: DoseEvent) -> str | None:
    """The element named by a "Next: X (date set by the treating team)" marker, else None."""
    if e.kind != "gate":
        return None
    m = _NEXT.match(e.title)
    return m.group("what") if m else None


# --- titles (SUMMARY) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """What a derived event of a continuous infusion is: start, bag change or end."""

    what: str
    """start, bag or end"""
    bag: int = 0
    bags: int = 0


def summary(e: DoseEvent, lb: Labels, *, last_day: int | None = None, part: Part | None = None,
            every: str = "", today: tuple[int, int] | None = None) -> str:
    """The SUMMARY line: a short title and where it is in the treatment (cycle, day).
    `every` is a series' rhythm (daily, weekly); `today` is (k, n) for dose k of n on a day."""
    if lb.audience == "minimal":
        raise ValueError("minimal calendars are worded by minimal_summary()")
    if lb.staff:
        return _staff_summary(e, lb, last_day=last_day, part=part, every=every)
    title = _patient_title(e, lb, part=part, every=every_words(every, lb), today=today)
    status = _PATIENT_STATUS.get(e.status)
    if status:
        title = lb.gettext(status) % {"title": title}
    if e.kind == "gate" and next_element(e):
        return ismp_clean(title)  # "Block 2 starts when your team says": no cycle of its own
    if e.kind == "milestone" and e.title == CONTINUES_TITLE:
        # in plain words that fit a phone, and no "cycle 2, day 43": it is not a day of a cycle
        return lb.gettext(PATIENT_CONTINUES)
    return ismp_clean(f"{fit(title)} · {where(e, lb, last_day)}")


def _patient_title(e: DoseEvent, lb: Labels, *, part: Part | None, every: str,
                   today: tuple[int, int] | None) -> str:
    _ = lb.gettext
    nxt = next_element(e)
    if nxt:
        # the whole message, with no cycle and day after it: a little more room than a title
        return first_fit([_("%(next)s starts when your team says") % {"next": nxt},
                          _("Next: %(next)s, when your team says") % {"next": nxt},
                          _("Next: %(next)s") % {"next": nxt}], TITLE_MAX + 16)
    if e.kind == "phase":
        return first_fit([_CYCLE_TAIL.sub("", e.title), e.phase, e.course])
    if not e.drug:
        generic = KIND_WORDS.get(e.kind)
        if e.kind == "lab":
            return first_fit([_("Blood test: %(test)s") % {"test": e.title}, e.title, _("Blood test")])
        if e.kind in ("gate", "rest"):
            return _(generic) if generic else fit(e.title)
        if e.kind == "hospitalization":
            if not lb.tr.is_source:  # the protocol's own words stay in the description
                return _("Hospital stay")
            return first_fit([_CYCLE_TAIL.sub("", e.title), fit(e.title), _("Hospital stay")])
        return fit(e.title)
    name, dose = lb.drug(e.title), _patient_dose(e)
    nd = f"{name} {dose}".strip()
    if part is not None:
        if part.what == "start":
            return first_fit([_("Pump starts: %(medicine)s") % {"medicine": nd},
                              _("Pump starts: %(medicine)s") % {"medicine": name}, _("Pump starts")])
        if part.what == "bag":
            n = {"bag": part.bag, "bags": part.bags, "drug": name}
            return first_fit([_("Pump bag change (%(bag)s of %(bags)s): %(drug)s") % n,
                              _("Pump bag change: %(drug)s") % n, _("Pump bag change (%(bag)s of %(bags)s)") % n])
        return first_fit([_("Pump ends: %(drug)s") % {"drug": name}, _("Pump ends")])
    if e.continuous:
        if e.step == "step-up":
            return first_fit([cap(_("%(drug)s pump: dose goes up to %(dose)s") % {"drug": name, "dose": dose}),
                              cap(_("%(drug)s pump: dose goes up") % {"drug": name}),
                              cap(_("%(drug)s: dose goes up") % {"drug": name})])
        return first_fit([cap(_("%(medicine)s pump, day and night") % {"medicine": nd}),
                          cap(_("%(medicine)s pump, day and night") % {"medicine": name}),
                          cap(_("%(drug)s pump") % {"drug": name})])
    route = (e.route or "").upper()
    if route == "PO":
        when = " " + _("(%(k)s of %(n)s today)") % {"k": today[0], "n": today[1]} if today and today[1] > 1 else ""
        rhythm = _(", %(every)s") % {"every": every} if every and not when else ""

        def take(what: str) -> str:
            return _("Take %(medicine)s") % {"medicine": what}

        return first_fit([f"{take(nd)}{when}{rhythm}", f"{take(nd)}{when}", f"{take(name)}{when}", take(name)])
    if e.kind == KIND_PREMEDICATION and e.premed_for:
        target = lb.drug(e.premed_for)
        n = {"medicine": nd, "drug": name, "route": route_words(route, lb), "target": target}
        return first_fit([cap(_("%(medicine)s %(route)s, before %(target)s") % n),
                          cap(_("%(medicine)s before %(target)s") % n),
                          cap(_("%(medicine)s before %(target)s") % {**n, "medicine": name}),
                          cap(_("%(medicine)s %(route)s") % n), cap(nd)])
    if route in ("IT", "ITH"):
        return first_fit([_("Spinal injection (lumbar puncture): %(medicine)s") % {"medicine": nd},
                          _("Spinal injection (lumbar puncture): %(medicine)s") % {"medicine": name},
                          _("Spinal injection: %(medicine)s") % {"medicine": nd},
                          _("Spinal injection: %(medicine)s") % {"medicine": name}])
    how = route_words(route, lb)
    given = cap(_("%(medicine)s %(route)s") % {"medicine": nd, "route": how}).strip() if how else cap(nd)
    return first_fit([given, cap(nd), cap(name)])


def _staff_summary(e: DoseEvent, lb: Labels, *, last_day: int | None, part: Part | None, every: str) -> str:
    prefix = _STATUS_PREFIX.get(e.status, "")
    if e.kind == "phase":
        text = e.title
    elif e.drug and part is not None:
        head = {"start": "Start ", "bag": "Bag change: ", "end": "End of infusion: "}[part.what]
        tail = f"(bag {part.bag} of {part.bags})" if part.what != "end" else ""
        text = f"{head}{drug_line(e, lb, tail)} — {where(e, lb, last_day)}"
    elif e.drug:
        lead = "Step-up: " if e.step == "step-up" else "Premed: " if e.premed_for else ""
        extra = "continuous" if e.continuous else every
        text = f"{lead}{drug_line(e, lb, extra)} — {where(e, lb, last_day)}"
    else:
        text = f"{e.title} — {where(e, lb, last_day)}"
    return ismp_clean(fit(prefix + text, _STAFF_MAX))


def minimal_summary(kind: str, at: datetime | None = None, lb: Labels | None = None) -> str:
    """No drug, dose or protocol: what a shared calendar may show."""
    _ = (lb.tr if lb is not None else english()).gettext
    if kind == "clinic":
        return _("Clinic visit %(time)s") % {"time": f"{at:%H:%M}"} if at else _("Clinic visit")
    if kind == "take-home":
        return _("Take your tablets")
    if kind == "pump":
        return _("Pump infusion")
    if kind == "phase":
        return _("Treatment")
    if kind == "next":
        return _("Next treatment starts when your team says")
    return _(KIND_WORDS.get(kind, _APPOINTMENT))


# --- descriptions -----------------------------------------------------------------------------


def _close(lines: list[str], lb: Labels) -> str:
    """The end of every patient description: the care line, and on a draft translation the
    "not yet reviewed" line in the language and in English."""
    if lb.unreviewed:
        english_line, translated = lb.unreviewed
        lines += [line for line in (translated, english_line) if line]
    return ismp_clean("\n".join(lines))


def description(e: DoseEvent, lb: Labels, *, timing: Sequence[str] = (), doses: str | None = None,
                today: tuple[int, int] | None = None, location: str | None = None,
                phone: str | None = None, not_on: Sequence[str] = ()) -> str:
    """Plain text (no HTML: Google shows it raw), a few hundred characters."""
    if lb.staff:
        return _staff_description(e, lb, timing=timing, doses=doses, not_on=not_on)
    _ = lb.gettext
    lines: list[str] = []
    # a reason is the care team's own words, as they wrote them
    reason = {"reason": e.status_reason or _("no reason given")}
    if e.status == "omitted":
        lines.append(_("Cancelled: do not take or expect this dose (%(reason)s).") % reason)
    elif e.status == "held":
        lines.append(_("On hold: wait until your team says (%(reason)s).") % reason)
    nxt = next_element(e)
    if nxt:
        lines.append(_("%(next)s starts when your team says: they will give you the date.") % {"next": nxt})
    elif e.drug:
        lines.append(_("Medicine: %(drug)s") % {"drug": e.title})
        lines.append(_("Dose: %(dose)s") % {"dose": _patient_dose_line(e, lb)})
        if lb.measurements and e.patient_dose is not None and e.working is not None and e.working.measurement:
            # only with --show-measurements
            lines.append(_("Worked out from: %(measurements)s") % {"measurements": e.working.measurement})
        how = route_words(e.route, lb)
        if e.continuous:
            how = (_("through a pump, day and night (%(route)s)") % {"route": how} if how
                   else _("through a pump, day and night"))
        elif e.duration_minutes and (e.route or "").upper() != "PO":
            how = _("%(how)s, over %(duration)s") % {"how": how, "duration": _minutes(e.duration_minutes, lb)}
        if how:
            lines.append(_("How: %(how)s") % {"how": how})
        if (e.route or "").upper() == "PO" and e.time is None:
            lines.append(_("When: at the time your team told you (this entry is your reminder time)"))
        if today and today[1] > 1:
            lines.append(_("Dose %(k)s of %(n)s today") % {"k": today[0], "n": today[1]})
        if e.premed_for:
            lines.append(_("Given before %(drug)s, to prevent a reaction") % {"drug": lb.drug(e.premed_for)})
        if e.step == "step-up":
            lines.append(_("The pump continues; the dose goes up"))
    else:
        lines.append(e.title)
    lines.extend(timing)
    if doses:
        lines.append(doses)
    lines.extend(not_on)
    lines.append(_("Cycle %(cycle)s, day %(day)s of %(phase)s") % {"cycle": e.cycle, "day": e.day, "phase": e.phase})
    if e.optional and e.decision:
        lines.append(_("Part of your plan because your team chose it"))
    if location:
        lines.append(_("Where: %(place)s") % {"place": location})
    if phone:
        lines.append(_("24-hour number: %(phone)s") % {"phone": phone})
    lines.append(_(_CARE))
    return _close(lines, lb)


def _patient_dose_line(e: DoseEvent, lb: Labels) -> str:
    _ = lb.gettext
    if e.not_public:
        return _("your care team gives the dose (it is not public)")
    if e.patient_dose is not None:
        return format_dose(e.patient_dose, e.patient_unit or e.unit)
    if e.dose is None:
        return _("your care team gives the dose")
    d = format_dose(e.dose, e.unit)
    if e.unit and ("/m2" in e.unit or "/kg" in e.unit):
        return _("%(dose)s (your care team works out your dose from your height and weight)") % {"dose": d}
    return d


def minimal_description(phone: str | None = None, location: str | None = None, lb: Labels | None = None) -> str:
    lb = lb or Labels("minimal", False, {}, "")
    _ = lb.gettext
    lines = [_("Details: ask your care team.")]
    if location:
        lines.append(_("Where: %(place)s") % {"place": location})
    if phone:
        lines.append(_("24-hour number: %(phone)s") % {"phone": phone})
    if lb.unreviewed:
        return _close(lines, lb)
    return "\n".join(lines)


def _staff_description(e: DoseEvent, lb: Labels, *, timing: Sequence[str], doses: str | None,
                       not_on: Sequence[str]) -> str:
    # here, not at the top: tabular (csv, json) is not needed by patient and minimal calendars
    from regimens.exporters.tabular import reference_label

    lines: list[str] = []
    if e.status != "planned":
        lines.append(f"{e.status.upper()}: {e.status_reason or 'no reason given'}")
    if e.drug:
        lines.append(lb.drug(e.title) + (f" ({e.drug})" if e.drug.lower() != e.title.lower() else ""))
        if e.not_public:
            lines.append(f"Dose: {NOT_PUBLIC_TEXT}")
        else:
            lines.append(f"Dose as written: {format_dose(e.dose, e.unit) + reference_label(e) if e.dose is not None else NOT_PUBLIC_TEXT}")
            lines.extend(_calculated(e, lb.measurements))
        if e.route:
            lines.append(f"Route: {e.route}")
        if e.duration_minutes and not e.continuous:
            lines.append(f"Given over: {_minutes(e.duration_minutes)}")
        if e.premed_for:
            lines.append(f"Premedication for {lb.drug(e.premed_for)}")
        if e.step:
            lines.append(f"Step: {e.step}")
    else:
        lines.append(e.title)
    lines.extend(timing)
    lines.append(f"Cycle {e.cycle}, day {e.day}: {e.phase} ({e.cycle_id})")
    if doses:
        lines.append(doses)
    elif e.dose_number and e.doses_total and e.doses_total > 1:
        lines.append(f"Dose {e.dose_number} of {e.doses_total} in this cycle")
    lines.extend(not_on)
    if e.window:
        lines.append(f"Allowed window: {e.window}")
    if e.decision:
        lines.append(f"{'Optional, included by' if e.optional else 'Chosen by'}: {e.decision}")
    if e.note:
        lines.append(f"Note: {e.note}")
    src = e.source_cite or e.source
    if src:
        lines.append(f"Source: {src}" + (f" (confidence {e.confidence})" if e.confidence else ""))
    lines.append(lb.protocol_line)
    return ismp_clean("\n".join(lines))


def derived_description(e: DoseEvent, lb: Labels, timing: Sequence[str], location: str | None = None,
                        phone: str | None = None) -> str:
    """Bag-change and end-of-infusion events: what and when, the rest is on the infusion event."""
    last = e.day + (e.end_date - e.date).days
    if lb.staff:
        return ismp_clean("\n".join([
            f"Continuous infusion: {drug_line(e, lb)} ({where(e, lb, last)})",
            *timing,
            "Dose, source and notes: see the all-day infusion event.",
        ]))
    _ = lb.gettext
    lines = [_("Pump infusion of %(drug)s (%(where)s)") % {"drug": e.title, "where": where(e, lb, last)}, *timing,
             _("The dose and details are on the all-day pump event.")]
    if location:
        lines.append(_("Where: %(place)s") % {"place": location})
    if phone:
        lines.append(_("24-hour number: %(phone)s") % {"phone": phone})
    return _close(lines, lb)


def not_on_lines(skipped: Sequence[DoseEvent], lb: Labels) -> list[str]:
    """A series' omitted or held days (each one an EXDATE): said in words, with the reason."""
    out = []
    _ = lb.gettext
    for e in skipped:
        if lb.staff:
            out.append(f"{e.status.upper()} on {e.date.isoformat()} (day {e.day}): {e.status_reason or 'no reason given'}")
            continue
        n = {"date": long_day(e.date, lb), "reason": e.status_reason or _("no reason given")}
        if e.status == "omitted":
            out.append(_("Not on %(date)s: cancelled (%(reason)s)") % n)
        else:
            out.append(_("Not on %(date)s: on hold until your team says (%(reason)s)") % n)
    return out


def _calculated(e: DoseEvent, measurements: bool = False) -> list[str]:
    if e.patient_dose is None:
        why = getattr(e.working, "unresolved", None)
        if why:
            return [f"Calculated dose: not calculated ({why})"]
        if e.unit and ("/m2" in e.unit or "/kg" in e.unit):
            return ["Calculated dose: not calculated (no measurements given)"]
        return []
    w = e.working
    if (w is not None and w.basis == "flat" and e.patient_dose == e.dose and (e.patient_unit or e.unit) == e.unit
            and not (w.cap or w.rounding or w.modification)):
        return []  # a flat dose given as written: nothing was calculated
    out = [f"Calculated dose: {format_dose(e.patient_dose, e.patient_unit or e.unit)}"]
    if w is not None:
        if measurements:
            # the measurement and the formula (which multiplies by the BSA or weight) are patient data
            out.append(f"  {w.measurement}; {w.formula}")
        out.extend(f"  {x}" for x in (w.band, w.cap, w.rounding, w.modification, w.total_text) if x)
    return out


def _minutes(m: int, lb: Labels | None = None) -> str:
    """`2 days (48 h)`, `3 h`, `30 min`, `1.5 h` (h and min are the same in every language)."""
    if m % 1440 == 0:
        if lb is not None and not lb.staff:
            days = lb.ngettext("%(n)s day", "%(n)s days", m // 1440) % {"n": m // 1440}
            return f"{days} ({m // 60} h)"
        return f"{m // 1440} day{'s' if m != 1440 else ''} ({m // 60} h)"
    if m % 60 == 0:
        return f"{m // 60} h"
    return f"{m} min" if m < 60 else f"{format_number(m / 60, 2)} h"


def continuous_timing(start: datetime, end: datetime, minutes: int, bag_hours: int, bags: int,
                      lb: Labels | None = None) -> list[str]:
    if lb is not None and not lb.staff:
        return [lb.gettext("Pump from %(start)s to %(end)s") % {"start": f"{long_day(start, lb)} {start:%H:%M}",
                                                               "end": f"{long_day(end, lb)} {end:%H:%M}"},
                lb.ngettext("The bag is changed every %(hours)s hours (%(n)s bag)",
                            "The bag is changed every %(hours)s hours (%(n)s bags)", bags)
                % {"hours": bag_hours, "n": bags}]
    return [
        (f"Continuous infusion for {_minutes(minutes)}: starts {start:%Y-%m-%d %H:%M}, "
         f"ends {end:%Y-%m-%d %H:%M} ({start.tzinfo})"),
        (f"Bag changes: every {bag_hours} h ({bags} bag{'s' if bags != 1 else ''}), counted in elapsed "
         "pump time, so on a daylight-saving change day the clock time moves by one hour"),
    ]


# --- the calendar itself ----------------------------------------------------------------------


def calendar_name(tl: Timeline, label: str | None, part: str | None, audience: str = "staff",
                  tr: Translator | None = None) -> str:
    _ = (tr or english()).gettext
    if audience == "staff":
        name = f"{tl.protocol_id.upper()} arm {tl.arm}"
    elif audience == "minimal":
        name = _("Treatment calendar")
    else:
        name = _("Treatment calendar — %(title)s") % {"title": fit(tl.protocol_title, 48)}
    if part:
        name += f" ({part})"
    return f"{label} — {name}" if label else name


def _private(warning: str) -> str:
    # the BSA disagreement warning quotes both BSA values: say that it exists, not the numbers
    if warning.startswith("the BSA given"):
        return "the BSA given differs from the one height and weight give; see the timeline or sheets"
    return warning


def calendar_description(tl: Timeline, label: str | None, tz: str, audience: str = "staff",
                         phone: str | None = None, uids: str = "", measurements: bool = False,
                         tr: Translator | None = None, unreviewed: tuple[str, str] | None = None) -> str:
    lines = []
    if audience != "staff":
        _ = (tr or english()).gettext
        if unreviewed:  # first, where a calendar app shows the start of the description
            lines += [line for line in (unreviewed[1], unreviewed[0]) if line]
        if label:
            lines.append(_("Patient: %(label)s") % {"label": label})
        if audience == "patient":
            lines.append(_("Your treatment: %(title)s") % {"title": tl.protocol_title})
        lines.append(_("Times are in the clinic's time zone (%(zone)s).") % {"zone": tz})
        if phone:
            lines.append(_("24-hour number: %(phone)s") % {"phone": phone})
        if audience == "patient" and any(not w.startswith(CLOCK_CHANGE) for w in tl.warnings):
            lines.append(_("Some dates are not known yet: your care team will tell you."))
        if tl.continues:
            lines.append(_("Not the end of treatment: it continues after this calendar as your care team decides."))
        lines.append(_(_CARE))
        return ismp_clean("\n".join(lines))
    if label:
        lines.append(f"Patient: {label}")
    lines += [
        f"{tl.protocol_title}",
        (f"Protocol {tl.protocol_id} v{tl.protocol_version} (sha256 {tl.content_hash}), "
         f"arm {tl.arm}: {tl.arm_name}"),
    ]
    if tl.choices:
        lines.append("Choices: " + ", ".join(f"{k}={v}" for k, v in tl.choices))
    lines.append(f"Revision {tl.revision}; times in {tz}")
    if uids:
        lines.append(f"Event UIDs: {uids}")
    if phone:
        lines.append(f"24-hour number: {phone}")
    lines.extend(f"WARNING: {_private(w) if not measurements else w}" for w in tl.warnings)
    if tl.continues:
        lines.append(f"Not the end of treatment: {tl.continues}")
    lines.append("Not a substitute for the full protocol. Confirm every dose with the care team.")
    return ismp_clean("\n".join(lines))


def long_day(d: date, lb: Labels | None = None) -> str:
    """`Thu 14 Jan 2027`, the same in every locale (strftime's %a and %b are not); in another
    language the language's own short weekday and month (CLDR), with Western digits."""
    if lb is not None and not lb.tr.is_source:
        from babel.dates import format_skeleton

        return format_skeleton("yMMMEd", d, locale=lb.tr._babel_locale())
    return f"{_WD[d.weekday()]} {d.day} {_MON[d.month - 1]} {d.year}"
