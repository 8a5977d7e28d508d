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
from regimens.notation.ismp import display_drug, format_dose, ismp_clean
from regimens.schedule.timeline import KIND_PREMEDICATION, DoseEvent, Timeline

ROUTE_WORDS = {
    "IV": "into a vein", "PO": "by mouth", "SC": "injection under the skin",
    "SUBCUT": "injection under the skin", "IM": "injection into a muscle",
    "IT": "into the spinal fluid (lumbar puncture)", "ITH": "into the spinal fluid (lumbar puncture)",
}
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


def _day_items(d: date, events: list[DoseEvent], table,
               continued: set[str] = frozenset()) -> tuple[list[dict[str, Any]], bool, bool]:
    """(items, clinic day, hospital day) for one calendar day, most important first."""
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
                    items.append({"word": "Pump", "text": f"dose goes up: {_plain(e, table)}"})
                elif e.date == d:
                    clinic = True
                    items.append({"word": "Pump", "text": f"starts: {_plain(e, table)}"})
                elif e.end_date == d and e.uid not in continued:
                    items.append({"word": "Pump", "text": "last day"})
                else:
                    items.append({"word": "Pump", "text": "on", "continuing": True})
            elif e.date == d:
                clinic = True
                given.append(_plain(e, table))
            else:  # a long infusion (over 24 h) still running from an earlier day
                items.append({"word": "Pump", "text": f"{_plain(e, table)} continues", "continuing": True})
        elif e.kind == "hospitalization":
            hospital = True
            items.append({"word": "Hospital", "text": "stay" if e.date == d else "",
                          "continuing": e.date != d})
        elif e.kind == "rest":
            if e.date == d:
                until = f"{e.end_date.day} {MONTHS[e.end_date.month - 1][:3]}"
                items.append({"word": "Rest", "text": f"until {until}, no treatment"})
        elif e.kind == "phase":
            if e.date == d:
                firsts.append({"word": "Start", "text": f"cycle {e.cycle}"})
        elif e.date == d:
            if e.kind in ("lab", "visit", "assessment", "procedure", "gate"):
                clinic = True
            items.append({"word": LABELS.get(e.kind) or ismp_clean(e.title), "text": ""})
    if given:
        firsts.append({"word": "Clinic", "text": ", ".join(dict.fromkeys(given))})
    for name, evs in oral.items():
        held = evs[0].status == "held"
        items.append({"word": "Take", "text": name + (" (on hold)" if held else ""), "ticks": " ".join("☐" * len(evs))})
    for i in firsts + items:
        i.setdefault("ticks", "")
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
        text = f"{item['word']} {item['text']} {item['ticks']}"
        lines = -(-len(text) // CHARS_PER_LINE)
        rest = len(items) - n - 1
        if used + lines > budget - (1 if rest else 0):
            return shown, len(items) - len(shown)
        shown.append(item)
        used += lines
    return shown, 0


def patient(tl: Timeline, chosen, options) -> dict[str, Any]:
    table = options.tall_man
    events = [e for e in chosen.events]
    continued = _continued(list(tl.events))
    first, last = chosen.date_from, chosen.date_to
    days: dict[date, dict[str, Any]] = {}
    d = first
    while d <= last:
        todays = [e for e in events if e.date <= d <= e.end_date]
        items, clinic, hospital = _day_items(d, todays, table, continued)
        if items:
            days[d] = {"items": items, "clinic": clinic, "hospital": hospital}
        d += timedelta(days=1)
    months = []
    y, m = first.year, first.month
    cal = calendar.Calendar(firstweekday=0)
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
        months.append({"title": f"{MONTHS[m - 1]} {y}", "weeks": weeks, "rows": len(grid)})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    listing = []
    for day, info in sorted(days.items()):
        if all(i.get("continuing") for i in info["items"]):
            continue  # a pump or stay simply continuing is clear from the grid
        lines = []
        for e in events:
            if e.date == day and e.kind in GIVEN and e.status != "omitted":
                route = ROUTE_WORDS.get((e.route or "").upper(), e.route or "")
                dose = "" if e.not_public or e.patient_dose is None else f" {format_dose(e.patient_dose, e.patient_unit)}"
                when = f"at {e.time.strftime('%H:%M')}, " if e.time else ""
                how = "through a pump, day and night, " if e.continuous else ""
                extra = f" until {long_date(e.end_date)}" if e.continuous else ""
                pre = " (medicine given before another, to prevent a reaction)" if e.kind == KIND_PREMEDICATION else ""
                lines.append(ismp_clean(f"{_plain(e, table)}{dose}: {when}{how}{route}{extra}{pre}"
                                        + (" (on hold)" if e.status == "held" else "")))
            elif (e.kind in GIVEN and e.status != "omitted" and e.date < day == e.end_date
                  and e.uid not in continued):
                lines.append(ismp_clean(f"{_plain(e, table)}: last day of the pump or drip"))
        for i in info["items"]:
            if i["word"] not in ("Clinic", "Take", "Pump"):
                lines.append(ismp_clean(f"{i['word']} {i['text']}".strip()))
        listing.append({"date": long_date(day), "clinic": info["clinic"], "lines": lines})
    return {
        "months": months, "weekdays": WEEKDAYS, "listing": listing, "orientation": "landscape",
        "first_day": long_date(first),
        "has_oral": any(i["ticks"] for v in days.values() for i in v["items"]),
    }
