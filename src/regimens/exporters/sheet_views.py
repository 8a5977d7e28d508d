"""What each printable sheet shows, as plain data for the templates (no HTML here).

Doses are never computed here: `dose` is as written, `patient_dose` and `working` come from the
dosing step. The only arithmetic is the pharmacist's cumulative sum, shown with its terms.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from regimens.exporters.tabular import (
    dose_as_written,
    infusion_length,
    patient_dose_text,
    reference_label,
    stop_text,
    weekend_flag,
)
from regimens.notation.ismp import (
    NOT_PUBLIC_TEXT,
    display_drug,
    format_dose,
    format_number,
    format_unit,
    ismp_clean,
)
from regimens.schedule.timeline import KIND_ADMINISTRATION, KIND_PREMEDICATION, DoseEvent, Timeline

GIVEN = (KIND_ADMINISTRATION, KIND_PREMEDICATION)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
# Drugs whose lifetime cumulative dose is checked before each dose (anthracyclines and
# anthracenediones for cardiotoxicity, bleomycin for lung toxicity). Highlighting only: no limit
# is printed because no limit is sourced in this project.
CUMULATIVE_WATCH = ("daunorubicin", "doxorubicin", "idarubicin", "epirubicin", "mitoxantrone",
                    "valrubicin", "bleomycin")


# How other events of the day are introduced on the nurse sheet.
ALSO = {"gate": "Check before giving", "hospitalization": "Hospital", "lab": "Lab", "assessment": "Assessment",
        "procedure": "Procedure", "visit": "Visit", "milestone": "Milestone"}


def long_date(d: date) -> str:
    """`Monday 4 January 2027`: unambiguous in every locale (no 01/04 vs 04/01)."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def short_date(d: date) -> str:
    """`Mon 4 Jan 2027`: still unambiguous, short enough for a table cell."""
    return f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}"


def clean(text: str | None) -> str:
    return ismp_clean(text or "")


def drug_name(e: DoseEvent, table) -> str:
    return display_drug(e.drug or e.title, table)


def assert_no_micro(text: str) -> None:
    # Last line of defence: every value passed through ismp_clean, so this never fires unless a
    # template itself is wrong.
    if "µg" in text or "μg" in text:
        raise AssertionError("a sheet contains µg; ISMP notation requires mcg")


def measurement_view(m: Any) -> dict[str, str] | None:
    """Height, weight, BSA and date measured, from whatever the dosing step attached."""
    if m is None:
        return None

    def pick(*names):
        for n in names:
            v = m.get(n) if isinstance(m, dict) else getattr(m, n, None)
            if v is not None:
                return v
        return None

    def num(v, unit):
        return f"{format_number(v, 2)} {unit}" if isinstance(v, int | float) else (str(v) if v else "")

    measured = pick("measured_on", "measured", "date")
    formula = pick("formula", "bsa_formula")
    patient_bsa = pick("bsa", "bsa_m2")
    used = pick("bsa_used") or patient_bsa
    bsa = num(used, "m²")
    if bsa and pick("bsa_m2") is not None:
        bsa += " (as given)"
    elif bsa and formula:
        bsa += f" ({str(formula).replace('_', ' ').replace('-', ' ').title()})"
    if isinstance(used, int | float) and isinstance(patient_bsa, int | float) and used < patient_bsa:
        bsa += f", capped (patient {format_number(patient_bsa, 2)} m²)"
    def given(text, name):  # the value as written when it was converted (5 ft 9 in, 154 lb)
        g = pick(name)
        return f"{text} (given as {g})" if text and g else text

    return {
        "height": given(num(pick("height_cm", "height"), "cm"), "height_given"),
        "weight": given(num(pick("weight_kg", "weight"), "kg"), "weight_given"),
        "bsa": bsa,
        "age": num(pick("age_years", "age"), "years"),
        "measured": measured.isoformat() if isinstance(measured, date) else str(measured or ""),
    }


def common(tl: Timeline, chosen, options, generated_at: datetime) -> dict[str, Any]:
    gen = generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return {
        "kind": options.kind,
        "title": clean(tl.protocol_title),
        "protocol_id": tl.protocol_id,
        "version": tl.protocol_version,
        "content_hash": tl.content_hash,
        "hash_short": tl.content_hash[:12],
        "origin": tl.protocol_origin,
        "path": tl.protocol_path,
        "arm": tl.arm,
        "arm_name": clean(tl.arm_name),
        "choices": list(tl.choices),
        "warnings": [clean(w) for w in tl.warnings],
        "continues": clean(tl.continues) if tl.continues else "",
        "selection": chosen.label,
        "range": f"{long_date(chosen.date_from)} to {long_date(chosen.date_to)}",
        "patient": {"name": options.patient_name, "mrn": options.mrn, "dob": options.dob,
                    "allergies": options.allergies},
        "measure": measurement_view(tl.measurements),
        "generated": gen,
        "generated_iso": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": options.generator,
    }


def _duration(e: DoseEvent) -> str:
    if e.continuous:
        # when the pump stops is the library's answer (DoseEvent.stops), as in JSON/CSV and the .ics
        stop = f"; pump stops {stop_text(e)}" if e.stops is not None else f" (to {e.end_date.isoformat()})"
        if e.duration_minutes:  # its length, not the calendar days it touches (mesna 69 h over 4 days)
            return f"continuous infusion over {infusion_length(e)}{stop}"
        days = (e.end_date - e.date).days + 1
        return f"continuous infusion, {days} day{'s' if days != 1 else ''}{stop}"
    if e.duration_minutes:
        h, m = divmod(e.duration_minutes, 60)
        return "over " + " ".join(x for x in (f"{h} h" if h else "", f"{m} min" if m else "") if x)
    return ""


def _written(e: DoseEvent, *, label: bool = True) -> str:
    """The dose as written, its total beside a rate, the reference-regimen label (unless the
    caller shows it elsewhere in the same row, as the nurse sheet does) and the cap."""
    ref = reference_label(e)
    text = dose_as_written(e).removesuffix(ref)
    total = None if e.not_public else _amount(e.dose, e.unit, e)
    if total is not None and total[1] != e.unit:
        text += f" ({format_dose(total[0], total[1])} over {infusion_length(e)})"
    if label:
        text += ref
    spec = e.dose_spec
    if spec is not None and spec.cap and not e.not_public:
        text += f" (max {format_number(spec.cap)} {format_unit(spec.cap_unit or '')})"
    return clean(text)


def _notes(e: DoseEvent) -> list[str]:
    notes = []
    if e.status != "planned":
        notes.append(f"{e.status.upper()}: {e.status_reason or 'see plan'}")
    if e.optional:
        notes.append("optional")
    if e.decision:
        notes.append(f"because {e.decision}")
    if e.window:
        notes.append(f"window: {e.window}")
    if e.note:
        notes.append(e.note)
    if e.confidence and e.confidence != "high":
        notes.append(f"source confidence {e.confidence}")
    return [clean(n) for n in notes]


def _row(e: DoseEvent, table) -> dict[str, Any]:
    flags = []
    if e.weekend:
        flags.append(f"WEEKEND ({e.weekend.upper()})")
    if e.kind == KIND_PREMEDICATION:
        flags.append("PREMEDICATION")
    if e.step:
        flags.append(e.step.upper())
    if e.not_public:
        flags.append("DOSE NOT PUBLIC")
    if e.working is not None and e.working.cap_override:
        flags.append("ABOVE PROTOCOL CAP")
    # the nurse table's dose column is narrow: the row is flagged and the page's banner says
    # once whose dose it is (the long words in every row would push a day onto a second sheet)
    if reference_label(e):
        flags.append("REFERENCE DOSE")
    calculated = "" if e.not_public else clean(patient_dose_text(e))
    unresolved = e.working.unresolved if e.working is not None else None
    return {
        "time": e.time.strftime("%H:%M") if e.time else "",
        "drug": drug_name(e, table),
        "flags": flags,
        "written": _written(e, label=False),
        "calculated": calculated or ("NOT PUBLIC" if e.not_public else "not calculated" if unresolved else "—"),
        "route": e.route or "",
        "duration": _duration(e),
        "premed_for": f"before {display_drug(e.premed_for, table)}" if e.premed_for else "",
        "dose_no": f"{e.dose_number} of {e.doses_total}" if e.dose_number and e.doses_total and e.doses_total > 1 else "",
        "notes": ([clean(f"dose not calculated: {unresolved}")] if unresolved else []) + _notes(e),
        "status": e.status,
        "not_public": e.not_public,
    }


def _where(evs: list[DoseEvent]) -> str:
    parts = dict.fromkeys(f"{e.phase}, cycle {e.cycle}, day {e.day}" for e in evs)
    return " + ".join(parts)


ORAL = ("PO", "ORAL")


def at_home(evs: list[DoseEvent], hospital_days: set[date], d: date) -> bool:
    """A day whose only doses are tablets or liquids by mouth, outside a hospital stay: the patient
    takes them at home, so there is nothing for a nurse to give and sign that day."""
    return d not in hospital_days and all(
        (e.route or "").upper() in ORAL and not e.continuous for e in evs)


def _hospital_days(tl: Timeline) -> set[date]:
    days: set[date] = set()
    for e in tl.events:
        if e.kind == "hospitalization":
            d = e.date
            while d <= e.end_date:
                days.add(d)
                d = date.fromordinal(d.toordinal() + 1)
    return days


def nurse(tl: Timeline, chosen, options) -> dict[str, Any]:
    table = options.tall_man
    by_day: OrderedDict[date, list[DoseEvent]] = OrderedDict()
    for e in chosen.events:
        if e.kind in GIVEN and chosen.date_from <= e.date <= chosen.date_to:
            by_day.setdefault(e.date, []).append(e)
    # Continuous infusions and other events, indexed once (not rescanned for every day).
    continuous = [e for e in tl.events if e.kind in GIVEN and e.continuous]
    others = [e for e in tl.events if e.kind not in GIVEN and e.kind not in ("phase", "rest")]
    hospital = _hospital_days(tl)
    days: list[dict[str, Any]] = []
    home: list[dict[str, Any]] = []  # take-home days waiting to be put on a page

    def flush_home() -> None:
        if home:
            days.extend(_home_pages(home, options.paper))
            home.clear()

    for d, evs in by_day.items():
        also = [clean(f"{ALSO.get(e.kind, e.kind)}: {e.title}") + (f" (to {e.end_date.isoformat()})" if e.end_date != e.date else "")
                for e in others if e.date <= d <= e.end_date]
        first = evs[0]
        if at_home(evs, hospital, d):
            home.append({"date": short_date(d), "iso": d.isoformat(), "cycle": first.cycle, "day": first.day,
                         "phase": clean(first.phase), "rows": [_row(e, table) for e in evs], "also": also})
            continue
        flush_home()
        flags = []
        for e in evs:
            if e.step:
                flags.append(f"{e.step.upper()} DOSE DAY: {drug_name(e, table)} {format_dose(e.dose, e.unit)}")
            if e.kind == KIND_PREMEDICATION:
                flags.append(f"PREMEDICATION REQUIRED: {drug_name(e, table)}"
                             + (f" before {display_drug(e.premed_for, table)}" if e.premed_for else ""))
            if e.weekend:
                flags.append(f"{weekend_flag(e)} ({drug_name(e, table)})")
            if e.not_public:
                flags.append(f"DOSE NOT PUBLIC: {drug_name(e, table)}: {NOT_PUBLIC_TEXT}; "
                             "do not give from this sheet without the full protocol")
            if e.status != "planned":
                flags.append(f"{e.status.upper()}: {drug_name(e, table)} ({clean(e.status_reason)})")
            if e.working is not None and e.working.cap_override:
                flags.append(f"{drug_name(e, table)}: {e.working.cap_override}")
        running = [
            f"{drug_name(e, table)} {_written(e)} {e.route or ''} since {e.date.isoformat()}, "
            + (f"pump stops {stop_text(e)}" if e.stops is not None else f"last day {e.end_date.isoformat()}")
            for e in continuous if e.date < d <= e.end_date
        ]
        refs: OrderedDict[str, list[str]] = OrderedDict()
        for e in evs:
            if reference_label(e):
                refs.setdefault(reference_label(e).strip()[1:-1], []).append(drug_name(e, table))
        flags.extend(f"REFERENCE DOSE: {what} ({', '.join(dict.fromkeys(drugs))})" for what, drugs in refs.items())
        # a patient outside the protocol's eligibility: said on every page a nurse gives from
        flags.extend(w for w in tl.warnings if w.startswith("OUTSIDE ELIGIBILITY"))
        page = {
            "kind": "day", "date": long_date(d), "iso": d.isoformat(), "where": clean(_where(evs)),
            "cycle": first.cycle, "day": first.day, "phase": clean(first.phase),
            "flags": [clean(f) for f in dict.fromkeys(flags)],
            "running": [clean(r) for r in running], "also": also,
        }
        chunks = _paginate([_row(e, table) for e in evs], page, options.paper)
        for n, rows in enumerate(chunks, start=1):
            days.append({**page, "rows": rows, "part": n, "parts": len(chunks)})
    flush_home()
    return {"days": days, "orientation": "landscape"}


def _home_lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A day's take-home doses, the same dose at several times on one line (`08:00, 14:00, 20:00`)."""
    lines: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
    for r in rows:
        key = (r["drug"], r["written"], r["calculated"], r["route"], r["status"], tuple(r["flags"]))
        line = lines.setdefault(key, {**r, "times": [], "numbers": []})
        if r["time"]:
            line["times"].append(r["time"])
        if r["dose_no"]:
            line["numbers"].append(r["dose_no"].split(" of ")[0])
            line["of"] = r["dose_no"].split(" of ")[1]
    for line in lines.values():
        n = line["numbers"]
        line["dose_no"] = (f"dose{'s' if len(n) > 1 else ''} {', '.join(n)} of {line['of']}" if n else "")
    return list(lines.values())


def _home_row_mm(day: dict[str, Any]) -> float:
    lines = sum(_lines(f"{' '.join(x['times'])} {x['drug']} {x['written']} {x['calculated']} {x['route']} "
                       f"{x['dose_no']}", 80) for x in day["lines"]) + len(day["also"])
    return max(8.5, lines * 4.2 + 3.0)


HOME_NOTES_MM = 4.0


def _home_pages(home: list[dict[str, Any]], paper: str) -> list[dict[str, Any]]:
    """Take-home days, several to a page: one row per day with every dose on it; each drug's notes
    (the same every day) once under the table."""
    room = PAGE_H_MM.get(paper, 187.0) - 92.0
    chunks: list[list[dict[str, Any]]] = [[]]
    used = 0.0
    notes: set[str] = set()
    for day in home:
        day["lines"] = _home_lines(day["rows"])
        h = _home_row_mm(day)
        new = {f"{r['drug']}: {n}" for r in day["rows"] for n in r["notes"]} - notes
        extra = sum(_lines(n, 170) for n in new) * HOME_NOTES_MM
        if chunks[-1] and used + h + extra > room:
            chunks.append([])
            used, notes = 0.0, set()
            new = {f"{r['drug']}: {n}" for r in day["rows"] for n in r["notes"]}
            extra = sum(_lines(n, 170) for n in new) * HOME_NOTES_MM
        chunks[-1].append(day)
        notes |= new
        used += h + extra
    pages = []
    for rows in chunks:
        a, b = rows[0], rows[-1]
        phases = " + ".join(dict.fromkeys(r["phase"] for r in rows))
        by_drug: OrderedDict[str, list[str]] = OrderedDict()
        for day in rows:
            for r in day["rows"]:
                for n in r["notes"]:
                    if n not in by_drug.setdefault(r["drug"], []):
                        by_drug[r["drug"]].append(n)
        pages.append({
            "kind": "home", "date": a["date"] if a is b else f"{a['date']} to {b['date']}", "iso": a["iso"],
            "where": phases, "cycle": a["cycle"], "day": a["day"], "home": rows,
            "notes": [(drug, " ".join(n if n.endswith((".", ")")) else n + "." for n in ns))
                      for drug, ns in by_drug.items() if ns],
            "flags": [], "running": [], "also": [], "rows": [r for day in rows for r in day["rows"]],
            "part": 1, "parts": 1,
        })
    return pages


# Printable height of a landscape page (paper height minus the 10 mm + 13 mm margins), and rough
# line heights/characters per line of the nurse table's columns at their print sizes. Estimates
# err on the tall side: a day that might not fit continues on a second sheet that repeats the
# header (patient identifiers included) instead of letting rows spill onto a page without them.
PAGE_H_MM = {"letter": 192.9, "a4": 187.0}


def _lines(text: str, per_line: int) -> int:
    return max(1, -(-len(text) // per_line)) if text else 0


def _row_mm(r: dict[str, Any]) -> float:
    notes = sum(_lines(n, 29) for n in r["notes"]) * 4.0  # 9 pt notes
    drug = (_lines(r["drug"], 16) + len(r["flags"])) * 4.3
    dose = max(_lines(r["written"], 12), _lines(r["calculated"], 10)) * 4.3
    small = max(_lines(r["duration"], 9), _lines(r["premed_for"], 11) + bool(r["dose_no"])) * 4.0
    return max(14.0, notes, drug, dose, small) + 2.5


def _paginate(rows: list[dict[str, Any]], page: dict[str, Any], paper: str) -> list[list[dict[str, Any]]]:
    header = 66.0 + sum(_lines(f, 130) * 4.5 for f in page["flags"]) + (3 if page["flags"] else 0)
    header += sum(_lines(x, 170) * 3.6 for x in page["running"] + page["also"])
    room = PAGE_H_MM.get(paper, 187.0) - header
    chunks: list[list[dict[str, Any]]] = [[]]
    used = 0.0
    for r in rows:
        h = _row_mm(r)
        if chunks[-1] and used + h > room:
            chunks.append([])
            used = 0.0
        chunks[-1].append(r)
        used += h
    return chunks


def _amount(dose: float | None, unit: str | None, e: DoseEvent) -> tuple[float, str, str] | None:
    """One event's contribution to a cumulative total: (amount, unit, term shown)."""
    if dose is None or not unit:
        return None
    if unit.endswith("/day") and e.continuous:
        # the infusion's length, not its calendar days: mesna over 69 h is 2.875 days of its rate
        minutes = e.duration_minutes or ((e.end_date - e.date).days + 1) * 1440
        base = unit[: -len("/day")]
        return round(dose * minutes / 1440, 6), base, f"{format_dose(dose, unit)} × {infusion_length(e)}"
    return dose, unit, format_dose(dose, unit)


def _sum_line(terms: list[tuple[float, str, str]]) -> tuple[str, str]:
    """(`2 × 20 mg + 9 mcg/day × 7 days`, `103 mg`) with equal neighbours grouped."""
    grouped: list[list] = []
    for amount, unit, shown in terms:
        if grouped and grouped[-1][1] == shown:
            grouped[-1][0] += 1
        else:
            grouped.append([1, shown])
    expr = " + ".join(f"{n} × {s}" if n > 1 else s for n, s in grouped)
    total = sum(a for a, _, _ in terms)
    return expr, format_dose(total, terms[0][1])


def _cumulative(tl: Timeline, chosen, table) -> list[dict[str, Any]]:
    sheet_uids = {e.uid for e in chosen.events}
    keyed: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
    for e in tl.events:
        if e.kind not in GIVEN or not e.drug or e.date > chosen.date_to:
            continue
        written = None if e.not_public else _amount(e.dose, e.unit, e)
        unit_key = written[1] if written else (e.unit or "")
        row = keyed.setdefault((e.drug, unit_key), {
            "drug": display_drug(e.drug, table), "watch": any(w in e.drug for w in CUMULATIVE_WATCH),
            "sheet": [], "to_date": [], "calc": [], "not_public": 0, "skipped": 0})
        if e.status != "planned":
            row["skipped"] += 1
            continue
        if written is None:
            row["not_public"] += 1
            continue
        row["to_date"].append(written)
        if e.uid in sheet_uids:
            row["sheet"].append(written)
        calc = _amount(e.patient_dose, e.patient_unit, e) if not e.not_public else None
        if calc is not None and e.working is not None and e.working.total is not None:
            calc = (e.working.total, e.working.total_unit, calc[2])  # the total as prepared (3,295 mg)
        row["calc"].append(calc)
    out = []
    for row in keyed.values():
        line = {"drug": row["drug"], "watch": row["watch"], "not_public": row["not_public"],
                "skipped": row["skipped"]}
        for key in ("sheet", "to_date"):
            line[key] = _sum_line(row[key]) if row[key] else ("", "none")
        calcs = row["calc"]
        if calcs and all(c is not None for c in calcs) and len({c[1] for c in calcs}) == 1:
            line["calc"] = _sum_line(calcs)[1]
        else:
            line["calc"] = "not calculated" if calcs else ""
        out.append({k: clean(v) if isinstance(v, str) else (tuple(clean(x) for x in v) if isinstance(v, tuple) else v)
                    for k, v in line.items()})
    return out


def pharmacist(tl: Timeline, chosen, options) -> dict[str, Any]:
    table = options.tall_man
    rows = []
    for e in chosen.events:
        if e.kind not in GIVEN or not e.drug or not (chosen.date_from <= e.date <= chosen.date_to):
            continue
        w = e.working
        if e.not_public:
            final = NOT_PUBLIC_TEXT
        else:
            final = patient_dose_text(e) or (f"not calculated: {w.unresolved}" if w and w.unresolved else "—")
        rows.append({
            "date": e.date.isoformat(), "where": f"C{e.cycle} D{e.day}", "cycle_id": e.cycle_id,
            "drug": drug_name(e, table), "route": e.route or "", "written": _written(e),
            "stops": _duration(e) if e.continuous else "",
            "dose_no": f"{e.dose_number} of {e.doses_total}" if e.doses_total and e.doses_total > 1 else "",
            "basis": clean(format_unit(w.basis.replace("_", " "))) if w else "",
            "measurement": clean(w.measurement) if w else "",
            "formula": clean(w.formula) if w else "",
            "unrounded": format_number(w.unrounded) if w and w.unrounded is not None else "",
            "adjust": [clean(x) for x in ((w.band, w.cap, w.rounding, w.modification, w.total_text) if w else ())
                       if x],
            "change": (f"{'+' if w.change_percent > 0 else ''}{format_number(w.change_percent, 1)} %"
                       if w and w.change_percent is not None else ""),
            "final": clean(final), "not_public": e.not_public,
            "status": "; ".join(x for x in (
                "" if e.status == "planned" else f"{e.status.upper()}: {clean(e.status_reason)}",
                weekend_flag(e)) if x),
            "source": clean(e.source or e.source_cite),
            "confidence": e.confidence or "",
            "premed": e.kind == KIND_PREMEDICATION,
            "when": f"{short_date(e.date)} {e.time.strftime('%H:%M') if e.time else ''}".strip(),
        })
    return {"rows": _same_doses(rows), "cumulative": _cumulative(tl, chosen, table), "orientation": "landscape"}


# What must be equal for doses to be checked once: everything but when they are given.
_SAME = ("cycle_id", "drug", "route", "stops", "written", "basis", "measurement", "formula", "unrounded", "adjust",
         "change", "final", "not_public", "status", "source", "confidence", "premed")


def _same_doses(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Identical doses of one cycle (six q12h cyclophosphamide doses) as one row listing their
    times: the working is checked once. The nurse sheet keeps a row, and boxes, per dose."""
    groups: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
    for r in rows:
        key = tuple(tuple(r[k]) if isinstance(r[k], list) else r[k] for k in _SAME)
        g = groups.get(key)
        if g is None:
            groups[key] = {**r, "times": [r["when"]], "numbers": [r["dose_no"]] if r["dose_no"] else []}
        else:
            g["times"].append(r["when"])
            if r["dose_no"]:
                g["numbers"].append(r["dose_no"])
    out = []
    for g in groups.values():
        if len(g["times"]) > 1:
            g["where"] = g["where"].split(" ")[0]  # the cycle; each dose's day is in its date
            total = g["numbers"][0].split(" of ")[1] if g["numbers"] else ""
            firsts = [n.split(" of ")[0] for n in g["numbers"]]
            g["dose_no"] = (f"{len(g['times'])} doses ({', '.join(firsts)} of {total})" if firsts
                            else f"{len(g['times'])} doses")
        out.append(g)
    return out
