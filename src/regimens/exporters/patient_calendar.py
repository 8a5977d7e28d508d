"""The patient calendar's content: month grids in plain words, and a day-by-day list.

Plain words over clinical shorthand (routes spelled out, no cycle ids), short lines so the grid
can use large print; anything that does not fit a day's square is in the list that follows.
"""

from __future__ import annotations

import calendar
from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from regimens.exporters.sheet_views import GIVEN, MONTHS, WEEKDAYS, long_date
from regimens.language.catalogs import Translator, language
from regimens.language.site import N_
from regimens.notation.ismp import display_drug, format_dose, ismp_clean
from regimens.schedule.compiler.ending import CONTINUES_TITLE
from regimens.schedule.timeline import KIND_PREMEDICATION, DoseEvent, Timeline

ROUTE_WORDS = {
    "IV": N_("into a vein"), "PO": N_("by mouth"), "SC": N_("injection under the skin"),
    "SUBCUT": N_("injection under the skin"), "IM": N_("injection into a muscle"),
    "IT": N_("into the spinal fluid (lumbar puncture)"), "ITH": N_("into the spinal fluid (lumbar puncture)"),
}
# The words of the grid's key (Clinic, Take, Pump, …) stay the sort keys below; what is printed is
# their translation (WORDS[key]), so the priority order is the same in every language.
WORDS = {"Clinic": N_("Clinic"), "Take": N_("Take"), "Pump": N_("Pump"), "Hospital": N_("Hospital"),
         "Blood test": N_("Blood test"), "Start": N_("Start"), "Rest": N_("Rest"),
         "Clinic visit": N_("Clinic visit"), "Check-up": N_("Check-up"), "Procedure": N_("Procedure"),
         "Continues": N_("Treatment continues as your team decides")}
ORAL = ("PO", "ORAL")
# What a patient most needs to see in a crowded day square comes first.
PRIORITY = {"Clinic": 0, "Pump": 1, "Take": 2, "Hospital": 3, "Blood test": 4, "Start": 6, "Rest": 7}
LABELS = {"lab": "Blood test", "visit": "Clinic visit", "assessment": "Check-up",
          "procedure": "Procedure", "gate": "Check-up"}


def _plain(e: DoseEvent, table) -> str:
    return ismp_clean(display_drug(e.drug or e.title, table))


def _continued(events: list[DoseEvent]) -> set[str]:
    """Uids of pump infusions followed the next day by the same drug (a step dose): for the
    patient the pump does not stop, so their last day is not "last day"."""
    starts = {(e.drug, e.date) for e in events if e.continuous and e.status != "omitted"}
    return {e.uid for e in events
            if e.continuous and (e.drug, e.end_date + timedelta(days=1)) in starts}


def _day_items(d: date, events: list[DoseEvent], table, continued: set[str] = frozenset(),
               tr: Translator | None = None) -> tuple[list[dict[str, Any]], bool, bool]:
    """(items, clinic day, hospital day) for one calendar day, most important first. Each item's
    `word` is the English key (it orders the square); `label` is the word as printed."""
    _ = (tr or _english()).gettext
    firsts: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    clinic = hospital = False
    oral: OrderedDict[str, list[DoseEvent]] = OrderedDict()
    given: list[str] = []
    for e in events:
        if e.status == "omitted":
            continue
        if e.kind in GIVEN:
            route = (e.route or "").upper()
            if route in ORAL and not e.continuous:
                oral.setdefault(_plain(e, table), []).append(e)
            elif e.continuous:
                if e.date == d and e.step == "step-up":
                    clinic = True
                    items.append({"word": "Pump", "text": _("dose goes up: %(drug)s") % {"drug": _plain(e, table)}})
                elif e.date == d:
                    clinic = True
                    items.append({"word": "Pump", "text": _("starts: %(drug)s") % {"drug": _plain(e, table)}})
                elif e.end_date == d and e.uid not in continued:
                    items.append({"word": "Pump", "text": _("last day")})
                else:
                    items.append({"word": "Pump", "text": _("on"), "continuing": True})
            elif e.date == d:
                clinic = True
                given.append(_plain(e, table))
            else:  # a long infusion (over 24 h) still running from an earlier day
                items.append({"word": "Pump", "text": _("%(drug)s continues") % {"drug": _plain(e, table)}, "continuing": True})
        elif e.kind == "hospitalization":
            hospital = True
            items.append({"word": "Hospital", "text": _("stay") if e.date == d else "",
                          "continuing": e.date != d})
        elif e.kind == "rest":
            if e.date == d:
                until = (f"{e.end_date.day} {MONTHS[e.end_date.month - 1][:3]}" if tr is None or tr.is_source
                         else tr.date(e.end_date, "d MMM"))
                items.append({"word": "Rest", "text": _("until %(date)s, no treatment") % {"date": until}})
        elif e.kind == "phase":
            if e.date == d:
                firsts.append({"word": "Start", "text": _("cycle %(n)s") % {"n": e.cycle}})
        elif e.date == d:
            if e.kind in ("lab", "visit", "assessment", "procedure", "gate"):
                clinic = True
            if e.kind == "milestone" and e.title == CONTINUES_TITLE:  # an open end, in plain words
                items.append({"word": "Continues", "text": ""})
                continue
            items.append({"word": LABELS.get(e.kind) or ismp_clean(e.title), "text": ""})  # a title stays as written
    if given:
        firsts.append({"word": "Clinic", "text": ", ".join(dict.fromkeys(given))})
    for name, evs in oral.items():
        held = evs[0].status == "held"
        items.append({"word": "Take", "text": name + (" " + _("(on hold)") if held else ""), "ticks": " ".join("☐" * len(evs))})
    for i in firsts + items:
        i.setdefault("ticks", "")
        i["label"] = _(WORDS[i["word"]]) if i["word"] in WORDS else i["word"]
    ordered = sorted(firsts + items, key=lambda i: (PRIORITY.get(i["word"], 5), bool(i.get("continuing"))))
    return ordered, clinic, hospital


# Lines of text a day square holds at the grid's print size, by weeks in the month; an item's
# lines are estimated from its length (about 18 characters a line in the condensed face).
LINES_BY_WEEKS = {4: 7, 5: 5, 6: 4}
CHARS_PER_LINE = 18


def _fit(items: list[dict[str, Any]], weeks: int) -> tuple[list[dict[str, Any]], int]:
    budget = LINES_BY_WEEKS.get(weeks, 4)
    shown: list[dict[str, Any]] = []
    used = 0
    for n, item in enumerate(items):
        text = f"{item['label']} {item['text']} {item['ticks']}"
        lines = -(-len(text) // CHARS_PER_LINE)
        rest = len(items) - n - 1
        if used + lines > budget - (1 if rest else 0):
            return shown, len(items) - len(shown)
        shown.append(item)
        used += lines
    return shown, 0


def _english() -> Translator:
    return Translator(language("en"))


def patient(tl: Timeline, chosen, options, tr: Translator | None = None) -> dict[str, Any]:
    """The calendar's content in the patient's language (`tr`, English when None). English output
    is exactly what it always was; other languages take dates, months and weekdays from CLDR."""
    tr = tr or _english()
    _ = tr.gettext
    english = tr.is_source

    def day_text(d: date) -> str:
        return long_date(d) if english else tr.date(d, "full")

    table = options.tall_man
    events = [e for e in chosen.events]
    continued = _continued(list(tl.events))
    first, last = chosen.date_from, chosen.date_to
    days: dict[date, dict[str, Any]] = {}
    d = first
    while d <= last:
        todays = [e for e in events if e.date <= d <= e.end_date]
        items, clinic, hospital = _day_items(d, todays, table, continued, tr)
        if items:
            days[d] = {"items": items, "clinic": clinic, "hospital": hospital}
        d += timedelta(days=1)
    months = []
    y, m = first.year, first.month
    cal = calendar.Calendar(firstweekday=tr.lang.first_weekday)
    while (y, m) <= (last.year, last.month):
        weeks = []
        grid = cal.monthdatescalendar(y, m)
        for week in grid:
            cells = []
            for day in week:
                info = days.get(day) if day.month == m and first <= day <= last else None
                shown, more = _fit(info["items"], len(grid)) if info else ([], 0)
                cells.append({
                    "day": day.day if day.month == m else None, "iso": day.isoformat(),
                    "entries": shown, "more": more,
                    "clinic": bool(info and info["clinic"]), "hospital": bool(info and info["hospital"]),
                })
            weeks.append(cells)
        title = f"{MONTHS[m - 1]} {y}" if english else tr.month_year(y, m)
        months.append({"title": title, "weeks": weeks, "rows": len(grid)})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    listing = []
    for day, info in sorted(days.items()):
        if all(i.get("continuing") for i in info["items"]):
            continue  # a pump or stay simply continuing is clear from the grid
        lines = []
        for e in events:
            if e.date == day and e.kind in GIVEN and e.status != "omitted":
                route_key = ROUTE_WORDS.get((e.route or "").upper())
                route = _(route_key) if route_key else (e.route or "")
                # a dose from a reference regimen (the trial's is not public) is not shown to a patient
                ref = e.dose_spec is not None and e.dose_spec.reference
                dose = "" if e.not_public or ref or e.patient_dose is None else f" {format_dose(e.patient_dose, e.patient_unit)}"
                when = _("at %(time)s") % {"time": e.time.strftime("%H:%M")} + ", " if e.time else ""
                how = _("through a pump, day and night") + ", " if e.continuous else ""
                extra = " " + _("until %(date)s") % {"date": day_text(e.end_date)} if e.continuous else ""
                pre = (" " + _("(medicine given before another, to prevent a reaction)")
                       if e.kind == KIND_PREMEDICATION else "")
                lines.append(ismp_clean(f"{_plain(e, table)}{dose}: {when}{how}{route}{extra}{pre}"
                                        + (" " + _("(on hold)") if e.status == "held" else "")))
            elif (e.kind in GIVEN and e.status != "omitted" and e.date < day == e.end_date
                  and e.uid not in continued):
                lines.append(ismp_clean(_("%(drug)s: last day of the pump or drip") % {"drug": _plain(e, table)}))
        for i in info["items"]:
            if i["word"] not in ("Clinic", "Take", "Pump"):
                lines.append(ismp_clean(f"{i['label']} {i['text']}".strip()))
        listing.append({"date": day_text(day), "clinic": info["clinic"], "lines": lines})
    weekdays = list(WEEKDAYS) if english else tr.weekday_names("wide")
    return {
        "months": months, "weekdays": weekdays, "listing": listing, "orientation": "landscape",
        "first_day": day_text(first),
        # plain words, no criteria or source keys: the staff outputs carry the full warning
        "eligibility_notes": [
            "Your care team has confirmed this plan for you although you are outside one of the"
            " study's limits (" + w.split("(", 1)[1].split(")", 1)[0] + "). Ask them if you have questions."
            for w in tl.warnings if w.startswith("OUTSIDE ELIGIBILITY (")],
        "has_oral": any(i["ticks"] for v in days.values() for i in v["items"]),
    }
