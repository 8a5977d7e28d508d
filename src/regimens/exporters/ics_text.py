"""The words of the iCalendar export: short SUMMARY lines for a phone screen and plain-text
DESCRIPTIONs that say what to give, how much (as written and as calculated), where it comes from.

Kept apart from ics.py (which decides *which* events exist and *when*) so that wording can be
changed and reviewed by a pharmacist without touching the calendar logic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from regimens.exporters.tabular import reference_label
from regimens.notation.ismp import NOT_PUBLIC_TEXT, display_drug, format_dose, format_number, ismp_clean
from regimens.schedule.timeline import DoseEvent, Timeline

SHORT_NOT_PUBLIC = "dose not public"
_STATUS_PREFIX = {"omitted": "OMITTED: ", "held": "HELD: "}
_SUMMARY_MAX = 90


@dataclass(frozen=True)
class Labels:
    """What the words need from the timeline, computed once per calendar (not per event)."""

    multi_phase: bool
    course_of: Mapping[str, str]
    """cycle id → course id."""
    protocol_line: str
    tall: Mapping[str, str] | None = None
    measurements: bool = False
    """Show height, weight, BSA and the date measured in dose descriptions (only when asked:
    a calendar is often copied to a cloud service)."""
    _names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, tl: Timeline, tall: Mapping[str, str] | None = None, measurements: bool = False) -> Labels:
        return cls(len({c.phase_id for c in tl.cycles}) > 1, {c.cycle_id: c.course_id for c in tl.cycles},
                   f"Protocol: {tl.protocol_id} v{tl.protocol_version}, arm {tl.arm}"
                   f" (sha256 {tl.content_hash[:12]})", tall, measurements)

    def drug(self, name: str) -> str:
        """display_drug (tall-man), remembered: it compiles a pattern per call, and a long
        calendar names the same few drugs thousands of times."""
        if name not in self._names:
            self._names[name] = display_drug(name, self.tall)
        return self._names[name]


def where(e: DoseEvent, lb: Labels, last_day: int | None = None) -> str:
    """`C1 D4`, `C2 D1–28`; the phase is named when the timeline has several."""
    days = f"D{e.day}" if not last_day or last_day == e.day else f"D{e.day}–{last_day}"
    numbered = e.phase_id != lb.course_of.get(e.cycle_id, "")
    parts = []
    if lb.multi_phase:
        parts.append(e.phase if len(e.phase) <= 24 else e.phase_id)
    if numbered or not lb.multi_phase:
        parts.append(f"C{e.cycle}")
    parts.append(days)
    return " ".join(parts)


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


def drug_line(e: DoseEvent, lb: Labels, extra: str = "") -> str:
    """`vinCRIStine 2 mg IV` (+ extra such as `continuous`)."""
    bits = [lb.drug(e.title), dose_short(e), e.route or "", extra]
    return " ".join(b for b in bits if b)


def summary(e: DoseEvent, lb: Labels, *, last_day: int | None = None,
            head: str = "", extra: str = "") -> str:
    prefix = _STATUS_PREFIX.get(e.status, "")
    if e.kind == "phase":
        text = e.title
    elif e.drug:
        lead = head or ("Step-up: " if e.step == "step-up" else "Premed: " if e.premed_for else "")
        text = f"{lead}{drug_line(e, lb, extra)} — {where(e, lb, last_day)}"
    else:
        text = f"{e.title} — {where(e, lb, last_day)}"
    text = ismp_clean(prefix + text)
    if len(text) > _SUMMARY_MAX:
        text = text[: _SUMMARY_MAX - 1].rstrip() + "…"
    return text


def description(e: DoseEvent, lb: Labels, *,
                timing: Sequence[str] = (), doses: str | None = None) -> str:
    """Plain text (no HTML: Google shows it raw), a few hundred characters."""
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


def derived_description(e: DoseEvent, lb: Labels, timing: Sequence[str]) -> str:
    """Bag-change and end-of-infusion events: what and when, the rest is on the infusion event."""
    return ismp_clean("\n".join([
        f"Continuous infusion: {drug_line(e, lb)} ({where(e, lb, e.day + (e.end_date - e.date).days)})",
        *timing,
        "Dose, source and notes: see the all-day infusion event.",
    ]))


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
        out.extend(f"  {x}" for x in (w.band, w.cap, w.rounding, w.modification) if x)
    return out


def _minutes(m: int) -> str:
    if m % 1440 == 0:
        return f"{m // 1440} day{'s' if m != 1440 else ''} ({m // 60} h)"
    if m % 60 == 0:
        return f"{m // 60} h"
    return f"{m} min" if m < 60 else f"{format_number(m / 60, 2)} h"


def continuous_timing(start: datetime, end: datetime, minutes: int, bag_hours: int, bags: int) -> list[str]:
    return [
        (f"Continuous infusion for {_minutes(minutes)}: starts {start:%Y-%m-%d %H:%M}, "
         f"ends {end:%Y-%m-%d %H:%M} ({start.tzinfo})"),
        (f"Bag changes: every {bag_hours} h ({bags} bag{'s' if bags != 1 else ''}), counted in elapsed "
         "pump time, so on a daylight-saving change day the clock time moves by one hour"),
    ]


def calendar_name(tl: Timeline, label: str | None, part: str | None) -> str:
    name = f"{tl.protocol_id.upper()} arm {tl.arm}"
    if part:
        name += f" ({part})"
    return f"{label} — {name}" if label else name


def _private(warning: str) -> str:
    # the BSA disagreement warning quotes both BSA values: say that it exists, not the numbers
    if warning.startswith("the BSA given"):
        return "the BSA given differs from the one height and weight give; see the timeline or sheets"
    return warning


def calendar_description(tl: Timeline, label: str | None, tz: str, measurements: bool = False) -> str:
    lines = []
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
    lines.extend(f"WARNING: {_private(w) if not measurements else w}" for w in tl.warnings)
    if tl.continues:
        lines.append(f"Not the end of treatment: {tl.continues}")
    lines.append("Not a substitute for the full protocol. Confirm every dose with the care team.")
    return ismp_clean("\n".join(lines))
