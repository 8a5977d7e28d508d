"""JSON, CSV and a plain-text table of a timeline."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from regimens.notation.ismp import NOT_PUBLIC_TEXT, display_drug, format_dose, ismp_clean
from regimens.schedule.timeline import Timeline

CSV_FIELDS = [
    "uid", "kind", "date", "end_date", "time", "end_time", "title", "phase", "phase_id",
    "phase_start", "cycle_id", "cycle", "course", "day", "drug", "route", "dose", "unit", "dose_reference",
    "not_public", "dose_number", "doses_total", "duration_minutes", "continuous", "optional",
    "decision", "premed_for", "step", "window", "weekend", "status", "status_reason", "patient_dose",
    "patient_unit", "working", "note", "source", "source_cite", "confidence",
]


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
        "revision": tl.revision,
        "warnings": list(tl.warnings),
        "continues": tl.continues,
    }


def to_json(tl: Timeline, with_header: bool = False) -> bytes:
    """A JSON list of events (docs/cli.md). `with_header` wraps it as {"timeline": ..., "events": [...]}."""
    events = [e.to_dict() for e in tl.events]
    data: Any = {"timeline": header(tl), "events": events} if with_header else events
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
    return (ismp_clean(text) + "\n").encode("utf-8")


def to_csv(tl: Timeline) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for e in tl.events:
        row = e.to_dict()
        if row["working"]:
            row["working"] = row["working"]["formula"]
        w.writerow({k: "" if row[k] is None else row[k] for k in CSV_FIELDS})
    return ismp_clean(buf.getvalue()).encode("utf-8")


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
    return format_dose(e.patient_dose, e.patient_unit)


def to_table(tl: Timeline, tall_man: dict[str, str] | None = None) -> bytes:
    """A readable text table for the terminal: one line per event."""
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
    rows = [("date", "time", "cycle", "day", "what", "dose", "route", "patient dose", "note")]
    for e in tl.events:
        what = display_drug(e.title, tall_man) if e.drug else e.title
        if e.end_date != e.date:
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
    widths = [max(len(r[i]) for r in rows) for i in range(8)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(8)) + "  " + r[8])
    return (ismp_clean("\n".join(line.rstrip() for line in lines)) + "\n").encode("utf-8")
