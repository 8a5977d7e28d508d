"""The patient calendar's content: month grids in plain words, a weekly "medicines at home" box,
and a day-by-day list, in the patient's language.

Nothing is hidden: every dose, tick box, clinic and hospital day keeps a mark in its day square;
when a square is too full its details go to a list under the grid on the same page. Medicines
taken by mouth at home are not repeated day after day in the squares: they are in the week's
box, a tick box per dose (an oral-chemotherapy diary, as adherence studies use). The phrases are
in regimens.exporters.patient_words (one place, marked for translation).
"""

from __future__ import annotations

import calendar
from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from regimens.exporters import patient_feed
from regimens.exporters import patient_words as pw
from regimens.exporters.sheet_views import GIVEN, MONTHS, WEEKDAYS
from regimens.language.catalogs import Translator
from regimens.language.site import N_
from regimens.notation.ismp import format_dose, ismp_clean
from regimens.schedule.compiler.ending import CONTINUES_TITLE
from regimens.schedule.timeline import KIND_PREMEDICATION, DoseEvent, Timeline

ORAL = ("PO", "ORAL")
# What a patient most needs to see in a crowded day square comes first.
PRIORITY = {"Clinic": 0, "Hospital": 1, "Pump": 2, "Tablets": 3, "Blood test": 4, "Start": 6, "Rest": 7}


def _name(e: DoseEvent) -> str:
    return ismp_clean(pw.drug(e.drug or e.title))


def at_home(e: DoseEvent) -> bool:
    """A medicine the patient takes by mouth at home (it goes in the week's box)."""
    return e.kind in GIVEN and (e.route or "").upper() in ORAL and not e.continuous and e.status != "omitted"


def _continued(events: list[DoseEvent]) -> set[str]:
    """Uids of pump infusions followed the next day by the same drug (a step dose): for the
    patient the pump does not stop, so their last day is not "last day"."""
    starts = {(e.drug, e.date) for e in events if e.continuous and e.status != "omitted"}
    return {e.uid for e in events
            if e.continuous and (e.drug, e.end_date + timedelta(days=1)) in starts}


def _route(e: DoseEvent, w: pw.Words) -> str:
    key = pw.ROUTE_WORDS.get((e.route or "").upper())
    return w(key) if key else (e.route or "")


def _no_dose(e: DoseEvent) -> bool:
    """Nothing to print as this patient's dose: not public, or a reference regimen's value (the
    trial's own dose is not public, so it must not read as the dose the patient gets)."""
    return e.not_public or (e.dose_spec is not None and bool(e.dose_spec.reference))


def _dose_text(e: DoseEvent, w: pw.Words) -> str:
    """The patient's dose, or what to do when there is none to print."""
    if _no_dose(e):
        return w(pw.TEAM_TELLS_DOSE)
    if e.patient_dose is not None:
        return format_dose(e.patient_dose, e.patient_unit)
    return w(pw.TEAM_TELLS_DOSE) if e.dose is None else ismp_clean(pw.plain(format_dose(e.dose, e.unit)))


def _day_items(d: date, events: list[DoseEvent], continued: set[str] = frozenset(),
               w: pw.Words | None = None) -> tuple[list[dict[str, Any]], bool, bool]:
    """(items, clinic day, hospital day) for one calendar day, most important first. Each item's
    `word` is the English key (it orders the square); `label` is the word as printed."""
    w = w or pw.Words()
    items: list[dict[str, Any]] = []
    clinic = hospital = False
    given: list[str] = []
    tablets = False
    for e in events:
        if e.status == "omitted":
            continue
        if e.kind in GIVEN:
            if at_home(e):
                tablets = tablets or e.date == d
            elif e.continuous:
                if e.date == d and e.step == "step-up":
                    clinic = True
                    items.append({"word": "Pump", "text": w(N_("dose goes up: %(drug)s"), drug=_name(e))})
                elif e.date == d:
                    clinic = True
                    items.append({"word": "Pump", "text": w(N_("starts: %(drug)s"), drug=_name(e))})
                elif e.uid not in continued and e.stops is not None and e.stops.date() == d:
                    # the morning it comes off (09:00 on day 29 after days 1-28), the time every
                    # output prints: not "last day" on day 28, which would take it off a day early
                    items.append({"word": "Pump", "text": w(pw.PUMP_OFF_AT, time=w.clock(e.stops))})
                elif e.end_date == d and e.uid not in continued and e.stops is None:
                    items.append({"word": "Pump", "text": w(N_("last day"))})
                else:
                    items.append({"word": "Pump", "text": w(N_("on")), "continuing": True})
            elif e.date == d:
                clinic = True
                given.append(_name(e))
            else:  # a long infusion (over 24 h) still running from an earlier day
                items.append({"word": "Pump", "text": w(N_("%(drug)s continues"), drug=_name(e)), "continuing": True})
        elif e.kind == "hospitalization":
            hospital = True
            days = (e.end_date - e.date).days + 1
            if e.date == d:
                items.append({"word": "Hospital", "text": w.stay_first_day(days)})
            else:
                items.append({"word": "Hospital", "text": w.stay_day((d - e.date).days + 1, days),
                              "continuing": True})
        elif e.kind == "rest":
            if e.date == d:
                items.append({"word": "Rest", "text": w(N_("until %(date)s, no treatment"), date=w.day_month(e.end_date))})
        elif e.kind == "phase":
            if e.date == d:
                items.append({"word": "Start", "text": w(N_("cycle %(n)s"), n=e.cycle)})
        elif e.date == d:
            if e.kind in ("lab", "visit", "assessment", "procedure", "gate"):
                clinic = True
            if e.kind == "milestone" and e.title == CONTINUES_TITLE:  # an open end, in plain words
                items.append({"word": "Continues", "text": ""})
                continue
            # a protocol's own title stays as written (plain: no ambiguity ids, m²)
            items.append({"word": pw.LABELS.get(e.kind) or ismp_clean(pw.plain(e.title)), "text": ""})
    if given:
        items.append({"word": "Clinic", "text": ", ".join(dict.fromkeys(given))})
    if tablets:
        # the doses and their tick boxes are in the week's box: one place to tick, not two
        items.append({"word": "Tablets", "text": w(pw.AT_HOME)})
    for i in items:
        i.setdefault("ticks", "")
        i["label"] = w(pw.WORDS[i["word"]]) if i["word"] in pw.WORDS else i["word"]
    ordered = sorted(items, key=lambda i: (PRIORITY.get(i["word"], 5), bool(i.get("continuing"))))
    return ordered, clinic, hospital


# Lines of text a day square holds at the grid's print size, by weeks in the month; an item's
# lines are estimated from its length (about 18 characters a line in the condensed face).
LINES_BY_WEEKS = {4: 7, 5: 5, 6: 4}
CHARS_PER_LINE = 18


def _lines(item: dict[str, Any]) -> int:
    return -(-len(f"{item['label']} {item['text']} {item['ticks']}".strip()) // CHARS_PER_LINE)


def fit(items: list[dict[str, Any]], weeks: int) -> tuple[list[dict[str, Any]], list[str]]:
    """(what the square shows, details moved to the list under the grid). Every item keeps at
    least its word in the square; texts go to the list from the least important up, and if the
    words alone are still too many they share lines."""
    budget = LINES_BY_WEEKS.get(weeks, 4)
    shown = [dict(i) for i in items]
    moved: list[str] = []
    for i in reversed(shown):
        if sum(_lines(x) for x in shown) <= budget:
            break
        if i["text"]:
            moved.append(f"{i['label']}: {i['text']}")
            i["text"], i["see"] = "", True
    if sum(_lines(x) for x in shown) > budget:  # the words themselves: several to a line
        keep = shown[: max(0, budget - 1)]
        rest = shown[len(keep):]
        keep.append({"word": " · ".join(r["word"] for r in rest), "label": " · ".join(r["label"] for r in rest),
                     "text": "", "ticks": " ".join(r["ticks"] for r in rest if r["ticks"]),
                     "see": any(r.get("see") for r in rest)})
        shown = keep
    return shown, list(reversed(moved))


# --- the week box ----------------------------------------------------------------------------

def _box_labels(evs: list[DoseEvent], per_day: int, w: pw.Words) -> list[str]:
    """AM/PM for one or two doses a day (the time when both fall in the same half), else the time."""
    times = [e.time.strftime("%H:%M") if e.time else "" for e in evs]
    if per_day <= 2 and all(times):
        halves = [w(pw.AM) if e.time.hour < 12 else w(pw.PM) for e in evs]
        if len(set(halves)) == len(halves):
            return halves
    return times


def week_start(d: date, first_weekday: int) -> date:
    return d - timedelta(days=(d.weekday() - first_weekday) % 7)


def week_boxes(events: list[DoseEvent], first: date, last: date, w: pw.Words,
               first_weekday: int = 0) -> list[dict[str, Any]]:
    """One box per week with the medicines taken at home: a row per medicine and dose, a cell per
    day with a tick box per dose (AM/PM, or the time when more than two a day)."""
    by_week: OrderedDict[date, OrderedDict[tuple, dict[str, Any]]] = OrderedDict()
    for e in events:
        if not at_home(e) or not (first <= e.date <= last):
            continue
        start = week_start(e.date, first_weekday)
        dose = _dose_text(e, w)
        row = by_week.setdefault(start, OrderedDict()).setdefault((e.drug, dose, e.route), {
            "name": _name(e), "dose": f"({dose})" if dose == w(pw.TEAM_TELLS_DOSE) else dose,
            "how": _route(e, w), "days": {}, "times": set()})
        row["days"].setdefault(e.date, []).append(e)
        if e.time:
            row["times"].add(e.time.strftime("%H:%M"))
    names = w.weekdays_short()
    weeks = []
    for start, rows in by_week.items():
        out_rows = []
        for row in rows.values():
            per_day = max(len(v) for v in row["days"].values())
            often = w.often(per_day)
            if len(row["days"]) == 1 and any(h in row["name"] for h in pw.HIGH_ALERT_WEEKLY):
                often = w(pw.ONCE_THIS_WEEK)
            cells = []
            for k in range(7):
                d = start + timedelta(days=k)
                evs = sorted(row["days"].get(d, []), key=lambda e: e.time or e.date)
                labels = _box_labels(evs, per_day, w)
                cells.append({"date": d.day, "in": first <= d <= last,
                              "boxes": [{"label": lab, "held": e.status == "held"} for lab, e in zip(labels, evs)]})
            out_rows.append({"name": row["name"], "dose": row["dose"], "how": row["how"], "often": often,
                             "times": ", ".join(sorted(row["times"])), "cells": cells})
        weeks.append({"monday": start, "title": w(pw.WEEK_OF, date=w.day_month(start)), "rows": out_rows,
                      "days": [f"{names[k]} {(start + timedelta(days=k)).day}" for k in range(7)]})
    return weeks


# Page layout estimates (landscape, 11-12 pt print), so that each printed page is one section of
# the HTML: the PDF is laid out in parallel page groups of sections (exporters/pdf.py), and a
# section that runs onto a second page makes the whole document be laid out twice.
PAGE_MM = 158
"""Height of a page's table below its title and key (letter 193 mm, A4 187 mm, less the title)."""
LINE_MM = {10: 4.3, 11: 4.7, 12: 5.2}


def _text_lines(text: str, chars: int) -> int:
    return max(1, -(-len(text) // chars))


def _box_row_mm(row: dict[str, Any]) -> float:
    boxes = max((len(c["boxes"]) for c in row["cells"]), default=1)
    label = _text_lines(f"{row['name']} {row['dose']}", 30) * LINE_MM[11]
    how = _text_lines(f"{row['how']}, {row['often']} ({row['times']})", 38) * LINE_MM[10]
    return 2.5 + max(9.5, boxes * LINE_MM[12] + 1, label + how)


def _box_pages(weeks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    used = PAGE_MM
    for wk in weeks:
        need = 6.5 + sum(_box_row_mm(r) for r in wk["rows"])
        if used + need > PAGE_MM:
            pages.append([])
            used = 0
        pages[-1].append(wk)
        used += need
    return pages


def _listing_pages(listing: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The day-by-day list cut into pages (the last one keeps room for the closing line)."""
    pages: list[list[dict[str, Any]]] = [[]]
    used = 0.0
    for d in listing:
        lines = max(_text_lines(d["date"], 22) + (1 if d["clinic"] else 0),
                    sum(_text_lines(x, 84) for x in d["lines"]))
        need = 2.5 + lines * LINE_MM[12]
        if used + need > PAGE_MM - 4 and pages[-1]:
            pages.append([])
            used = 0.0
        pages[-1].append(d)
        used += need
    if used > PAGE_MM - 16:  # the closing line would not fit under the last rows
        pages.append([])
    return pages


# --- the day-by-day list ----------------------------------------------------------------------

def _listing(days: dict[date, dict[str, Any]], events: list[DoseEvent], continued: set[str],
             w: pw.Words) -> list[dict[str, Any]]:
    """Days with something new, in sentences; medicines at home are in the week boxes instead."""
    by_day: dict[date, list[DoseEvent]] = {}
    ends: dict[date, list[DoseEvent]] = {}
    for e in events:
        by_day.setdefault(e.date, []).append(e)
        if e.kind in GIVEN and e.status != "omitted" and e.end_date != e.date and e.uid not in continued:
            ends.setdefault(e.stops.date() if e.continuous and e.stops else e.end_date, []).append(e)
    listing = []
    for day, info in sorted(days.items()):
        if all(i.get("continuing") or i["word"] == "Tablets" for i in info["items"]):
            continue  # a pump or stay simply continuing, or tablets only: clear from the grid and box
        lines = []
        todays = [e for e in by_day.get(day, []) if e.kind in GIVEN and e.status != "omitted" and not at_home(e)]
        count: dict[str, int] = {}
        for e in todays:
            count[e.drug or e.title] = count.get(e.drug or e.title, 0) + 1
        seen: dict[str, int] = {}
        for e in todays:
            dose = "" if _no_dose(e) or e.patient_dose is None else f" {format_dose(e.patient_dose, e.patient_unit)}"
            key = e.drug or e.title
            seen[key] = seen.get(key, 0) + 1
            time = e.time.strftime("%H:%M") if e.time else ""
            when = (f"{w.dose_of_day(seen[key], count[key], time)}, " if count[key] > 1
                    else f"{w(pw.AT_TIME, time=time)}, " if time else "")
            how = f"{w(pw.PUMP_ALL_DAY)}, " if e.continuous else ""
            extra = ""
            if e.continuous and e.stops is not None and e.uid not in continued:
                extra = f" {w(pw.PUMP_OFF, date=w.long(e.stops.date()), time=w.clock(e.stops))}"
            elif e.continuous:  # a step dose follows the next day: the pump stays on
                extra = f" {w(pw.UNTIL, date=w.long(e.end_date))}"
            pre = f" ({w(pw.PREMED)})" if e.kind == KIND_PREMEDICATION else ""
            team = f" ({w(pw.TEAM_TELLS_DOSE)})" if _no_dose(e) else ""
            held = f" ({w(pw.ON_HOLD)})" if e.status == "held" else ""
            lines.append(ismp_clean(f"{_name(e)}{dose}: {when}{how}{_route(e, w)}{extra}{pre}{team}{held}"))
        for e in ends.get(day, []):
            if e.date < day and e.continuous and e.stops is not None:
                lines.append(ismp_clean(w(pw.PUMP_OFF_DAY, drug=_name(e), time=w.clock(e.stops))))
            elif e.date < day:
                lines.append(ismp_clean(w(pw.LAST_DAY_OF_PUMP, drug=_name(e))))
        for e in by_day.get(day, []):
            if e.kind == "hospitalization":
                lines.append(w.stay((e.end_date - e.date).days + 1, e.date, e.end_date))
        for i in info["items"]:
            if i["word"] not in ("Clinic", "Tablets", "Pump", "Hospital"):
                lines.append(ismp_clean(f"{i['label']} {i['text']}".strip()))
        if lines:
            listing.append({"date": w.long(day), "clinic": info["clinic"], "lines": lines})
    return listing


# --- the whole calendar -----------------------------------------------------------------------

def patient(tl: Timeline, chosen, options, tr: Translator | None = None) -> dict[str, Any]:
    """The calendar's content in the patient's language (`tr`, English when None); other
    languages take dates, months and weekdays from CLDR."""
    w = pw.Words(tr)
    tr = w.tr
    english = w.english
    events = list(chosen.events)
    continued = _continued(list(tl.events))
    first, last = chosen.date_from, chosen.date_to
    # Each day's events, indexed once: long spans (a pump, a stay) are added to every day they cover.
    covering: dict[date, list[DoseEvent]] = {}
    for e in events:
        d = max(e.date, first)
        # a pump on whole days is on until the morning after its last day (09:00 on day 29)
        end = e.stops.date() if e.continuous and e.stops and e.uid not in continued else e.end_date
        while d <= min(end, last):
            covering.setdefault(d, []).append(e)
            d += timedelta(days=1)
    days: dict[date, dict[str, Any]] = {}
    for d in sorted(covering):
        items, clinic, hospital = _day_items(d, covering[d], continued, w)
        if items:
            days[d] = {"items": items, "clinic": clinic, "hospital": hospital}
    first_weekday = tr.lang.first_weekday
    boxes = week_boxes(events, first, last, w, first_weekday)
    months = []
    y, m = first.year, first.month
    cal = calendar.Calendar(firstweekday=first_weekday)
    while (y, m) <= (last.year, last.month):
        weeks = []
        grid = cal.monthdatescalendar(y, m)
        notes = []
        for week in grid:
            cells = []
            for day in week:
                info = days.get(day) if day.month == m and first <= day <= last else None
                shown, moved = fit(info["items"], len(grid)) if info else ([], [])
                if moved:
                    notes.append(f"{w.short(day)}: " + "; ".join(moved))
                cells.append({
                    "day": day.day if day.month == m else None, "iso": day.isoformat(), "entries": shown,
                    "clinic": bool(info and info["clinic"]), "hospital": bool(info and info["hospital"]),
                })
            weeks.append(cells)
        title = f"{MONTHS[m - 1]} {y}" if english else tr.month_year(y, m)
        # a week's box goes with the month its first day is in (the first week: with the first month)
        month_boxes = [b for b in boxes
                       if max((b["monday"].year, b["monday"].month), (first.year, first.month)) == (y, m)]
        months.append({"title": title, "weeks": weeks, "rows": len(grid), "notes": notes,
                       "box_pages": _box_pages(month_boxes)})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    weekdays = list(WEEKDAYS) if english else tr.weekday_names("wide")
    return {
        "months": months, "weekdays": weekdays, "listing_pages": _listing_pages(_listing(days, events, continued, w)),
        "orientation": "landscape", "first_day": w.long(first),
        # plain words, no criteria or source keys: the staff outputs carry the full warning
        "eligibility_notes": [
            "Your care team has confirmed this plan for you although you are outside one of the"
            " study's limits (" + x.split("(", 1)[1].split(")", 1)[0] + "). Ask them if you have questions."
            for x in tl.warnings if x.startswith("OUTSIDE ELIGIBILITY (")],
        "has_oral": bool(boxes),
        "feed": patient_feed.subscribe(options.feed_url, w) if getattr(options, "feed_url", None) else None,
    }
