"""JSON, CSV and a plain-text table of a timeline."""

from __future__ import annotations

import csv
import io
from typing import Any

from regimens.dosing.doses import duration_text
from regimens.exporters import json_indent
from regimens.notation.ismp import NOT_PUBLIC_TEXT, display_drug, format_dose, ismp_clean
from regimens.schedule.timeline import Timeline

CSV_FIELDS = [
    "uid", "kind", "date", "end_date", "time", "end_time", "stops", "title", "phase", "phase_id",
    "phase_start", "cycle_id", "cycle", "course", "day", "drug", "route", "dose", "unit", "dose_reference",
    "not_public", "dose_number", "doses_total", "duration_minutes", "continuous", "whole_days", "optional",
    "decision", "premed_for", "step", "window", "weekend", "status", "status_reason", "patient_dose",
    "patient_unit", "working", "note", "source", "source_cite", "confidence",
]


def measurements_record(m: Any) -> dict[str, Any] | None:
    """The measurements doses were calculated from, with units in the key names; None without."""
    if m is None:
        return None
    import dataclasses

    fields = dataclasses.asdict(m) if dataclasses.is_dataclass(m) else dict(m)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}


def header(tl: Timeline) -> dict[str, Any]:
    """What every output says about where it came from."""
    return {
        "protocol": tl.protocol_id,
        "title": tl.protocol_title,
        "version": tl.protocol_version,
        "content_hash": tl.content_hash,
        "protocol_file": tl.protocol_path,
        "protocol_origin": tl.protocol_origin,
        "arm": tl.arm,
        "arm_name": tl.arm_name,
        "choices": dict(tl.choices),
        "start": tl.start.isoformat(),
        "zone": tl.zone,
        "revision": tl.revision,
        "measurements": measurements_record(tl.measurements),
        "warnings": list(tl.warnings),
        "continues": tl.continues,
    }


JSON_FORMAT = 2
"""Version of the JSON layout: 2 is the object with `timeline` and `events` (1 was a bare list)."""


def to_json(tl: Timeline, with_header: bool = True) -> bytes:
    """{"format": 2, "timeline": {protocol identity, arm, choices, plan revision, measurements,
    warnings}, "events": [...]} (docs/cli.md): the events never travel without where they came from.
    (`with_header` is accepted for older callers; the header is always there.)"""
    events = [e.to_dict() for e in tl.events]
    data = {"format": JSON_FORMAT, "timeline": header(tl), "events": events}
    text = json_indent.dumps(data, indent=2)  # json.dumps(indent=2) text, by the C encoder
    return (ismp_clean(text) + "\n").encode("utf-8")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+1`, `@SUM`,
    `-2+3`) gets a leading apostrophe (OWASP CSV injection): protocol notes and a plan's
    `--reason` are text someone typed. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_table(fields: list[str], rows) -> str:
    """Rows (dicts) as CSV text with every cell through `csv_cell`. The csv module quotes a cell
    holding a line feed but not one holding a bare carriage return when rows end in "\n", and
    a reader (or a spreadsheet) then splits the row there: a row with a CR in any cell is
    written fully quoted. Other rows are written exactly as csv.DictWriter writes them."""
    buf = io.StringIO()
    plain = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    quoted = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", quoting=csv.QUOTE_ALL)
    plain.writeheader()
    for row in rows:
        cells = {k: csv_cell(row.get(k, "")) for k in fields}
        cr = any(isinstance(v, str) and "\r" in v for v in cells.values())
        (quoted if cr else plain).writerow(cells)
    return buf.getvalue()


def to_csv(tl: Timeline) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for e in tl.events:
        row = e.to_dict()
        if row["working"]:
            # the whole working in one cell: a capped, held or above-cap dose says so in CSV too
            steps = row["working"]
            row["working"] = "; ".join(steps[k] for k in ("formula", "band", "cap", "modification", "rounding",
                                                             "total_text", "unresolved") if steps.get(k))
        w.writerow({k: _csv_value(row[k]) for k in CSV_FIELDS})
    return ismp_clean(buf.getvalue()).encode("utf-8")


def _csv_value(v: Any) -> Any:
    # true/false as spreadsheets and most CSV readers expect (Python would write True/False)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return csv_cell(v)  # text a spreadsheet would run as a formula is neutralised


def weekend_flag(e) -> str:
    """`WEEKEND PROCEDURE: IT on a Sunday, unusual; confirm the date with the treating team`."""
    if not e.weekend:
        return ""
    what = f"{e.route} dose" if e.drug else "procedure"
    return f"WEEKEND PROCEDURE: {what} on a {e.weekend}, unusual; confirm the date with the treating team"


def reference_label(e) -> str:
    """` (classic hyper-CVAD dose; this trial's dose not public)` for a value taken from a
    reference regimen, so it never reads as the trial's own dose; empty otherwise."""
    ref = e.dose_spec.reference if e.dose_spec is not None else None
    return f" ({ref} dose; this trial's dose not public)" if ref and not e.not_public else ""


def dose_as_written(e) -> str:
    if e.drug is None:
        return ""
    if e.not_public:
        return NOT_PUBLIC_TEXT
    return format_dose(e.dose, e.unit) + reference_label(e)


def patient_dose_text(e) -> str:
    if e.drug is None or e.not_public:
        return ""
    if e.patient_dose is None:
        return ""
    text = format_dose(e.patient_dose, e.patient_unit)
    w = e.working
    if w is not None and w.total is not None and w.total_unit != e.patient_unit:
        # a rate is shown with what the whole infusion holds (mesna 1,146 mg/day over 69 h)
        text += f" ({format_dose(w.total, w.total_unit)} over {infusion_length(e)})"
    return text


def stop_text(e) -> str:
    """`Mon 15 Mar 09:00`: when a continuous infusion stops (DoseEvent.stops, the library's one
    answer), as the staff sheets print it; empty for an event without a stop."""
    return stop_time_text(e.stops) if e.stops is not None else ""


def stop_time_text(stops) -> str:
    """`Mon 15 Mar 09:00` for a stop instant (a datetime on the clinic's clock)."""
    # English names whatever the process locale (strftime's %a/%b follow it)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[stops.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[stops.month - 1]
    return f"{day} {stops.day} {month} {stops:%H:%M}"


def infusion_length(e) -> str:
    """`69 h`, `24 h`, `7 days` for a continuous infusion's duration_minutes."""
    return duration_text(e.duration_minutes or 0)


TABLE_COLUMNS = ("date", "time", "cycle", "day", "what", "dose", "route", "patient dose", "note")
# Columns that may wrap, and the narrowest they get, when the table must fit the terminal.
# Each stage is tried in turn: notes and descriptions wrap first, doses next, cycle ids last.
_WRAP_STAGES = ({"note": 30, "what": 34}, {"note": 16, "what": 22, "dose": 10, "patient dose": 10},
                {"cycle": 9, "what": 18})


def to_table(tl: Timeline, tall_man: dict[str, str] | None = None, width: int | None = None) -> bytes:
    """A readable text table for the terminal: one event per row. With `width`, long cells wrap
    onto continuation lines so that no line is longer than `width` (None: one line per event)."""
    lines = [
        f"{tl.protocol_title}",
        f"{tl.protocol_id} v{tl.protocol_version} (sha256 {tl.content_hash[:12]}, {tl.protocol_origin}: {tl.protocol_path})",
        f"Arm {tl.arm}: {tl.arm_name}",
    ]
    if tl.choices:
        lines.append("Choices: " + ", ".join(f"{k}={v}" for k, v in tl.choices))
    for w in tl.warnings:
        lines.append(f"WARNING: {w}")
    if tl.continues:
        lines.append(f"NOT THE END OF TREATMENT: {tl.continues}")
    lines.append("")
    if width is not None:
        lines = [w for line in lines for w in (_wrap(line, width) or [""])]
    rows = [TABLE_COLUMNS]
    for e in tl.events:
        what = display_drug(e.title, tall_man) if e.drug else e.title
        if e.continuous and e.stops is not None:  # when the pump stops, as on every other output
            what += f" (stops {e.stops:%Y-%m-%d %H:%M})"
        elif e.end_date != e.date:
            what += f" (to {e.end_date.isoformat()})"
        if e.dose_number and e.doses_total and e.doses_total > 1:
            what += f" [{e.dose_number} of {e.doses_total}]"
        status = "" if e.status == "planned" else f"{e.status.upper()}: {e.status_reason}; "
        weekend = weekend_flag(e) or None
        note = status + "; ".join(x for x in (weekend, e.step, e.window, "optional" if e.optional else None, e.note) if x)
        rows.append((
            e.date.isoformat(), e.time.strftime("%H:%M") if e.time else "", e.cycle_id, str(e.day), what,
            dose_as_written(e), e.route or "", patient_dose_text(e), note,
        ))
    rows = [tuple(ismp_clean(c) for c in r) for r in rows]
    if width is not None:  # a column with nothing in it (patient dose without measurements) goes
        keep = [i for i in range(len(TABLE_COLUMNS)) if any(r[i] for r in rows[1:])]
        rows = [tuple(r[i] for i in keep) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if width is not None:
        widths = _fit_widths(widths, width, rows[0])
    for r in rows:
        lines.extend(_table_row(r, widths, width is not None))
    return ("\n".join(line.rstrip() for line in lines) + "\n").encode("utf-8")


def _fit_widths(widths: list[int], total: int, names: tuple[str, ...]) -> list[int]:
    """Shrink the wrapping columns, the one most over its minimum first, until a row fits."""
    widths = list(widths)
    gap = 2 * (len(widths) - 1)
    for stage in _WRAP_STAGES:
        floor = {i: stage[c] for i, c in enumerate(names) if c in stage}
        while floor and sum(widths) + gap > total:
            i = max(floor, key=lambda j: widths[j] - floor[j])
            if widths[i] <= floor[i]:
                break
            widths[i] -= 1
    return widths  # may still be wider than `total` on a very narrow terminal


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) if text else []


def _table_row(r: tuple[str, ...], widths: list[int], wrap: bool) -> list[str]:
    if not wrap:
        return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))]
    cells = [_wrap(c, w) or [""] for c, w in zip(r, widths, strict=True)]
    height = max(len(c) for c in cells)
    return ["  ".join((c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True))
            for k in range(height)]
