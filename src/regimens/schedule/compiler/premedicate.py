"""Premedication derived from triggers (cycle start, step-up), so it moves with what it
precedes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from regimens.protocol.daysets import parse_duration
from regimens.protocol.loader import ProtocolFile
from regimens.protocol.model import Protocol
from regimens.schedule.compiler.arms import _Slot
from regimens.schedule.compiler.place import _applies, _cite, _decision_text, _is_optional, _join, _t
from regimens.schedule.timeline import (
    KIND_ADMINISTRATION,
    KIND_PREMEDICATION,
    Cycle,
    DoseEvent,
)

# --- premedicate ----------------------------------------------------------------------------


def _premedicate(p: Protocol, pf: ProtocolFile, slot: _Slot, cyc: Cycle, choices: dict[str, str],
                 placed: list[DoseEvent]) -> list[DoseEvent]:
    out: list[DoseEvent] = []
    for order, item in enumerate(slot.course.items):
        pm = item.premedication
        if pm is None or not _applies(item, slot.cycle, choices):
            continue
        targets = sorted((e for e in placed if e.drug == pm.for_drug and e.kind == KIND_ADMINISTRATION),
                         key=lambda e: (e.date, e.time or time()))
        chosen: list[tuple[DoseEvent, str]] = []
        if "cycle_start" in pm.triggers and targets:
            chosen.append((targets[0], f"before the cycle's first {pm.for_drug} infusion"))
        if "step_up" in pm.triggers:
            chosen.extend((e, f"before the {pm.for_drug} step-up dose") for e in targets if e.step == "step-up")
        for n, (target, why) in enumerate(chosen, 1):
            start = datetime.combine(target.date, target.time or _t("09:00")) - timedelta(minutes=pm.lead_minutes)
            dose = item.dose
            out.append(DoseEvent(
                uid="", kind=KIND_PREMEDICATION, date=start.date(), end_date=start.date(),
                time=start.time(), end_time=None, title=item.label, phase_id=slot.phase_id,
                phase=slot.phase, phase_start=cyc.start, cycle_id=slot.cycle_id, cycle=slot.cycle,
                course=slot.course.name, day=(start.date() - cyc.start).days + 1, drug=item.drug,
                route=item.route, dose=dose.value if dose else None, unit=dose.unit if dose else None,
                dose_spec=dose, not_public=bool(dose and dose.not_public), dose_number=n,
                doses_total=len(chosen), duration_minutes=parse_duration(item.over) if item.over else None,
                optional=_is_optional(p, item), decision=_decision_text(item, choices),
                premed_for=pm.for_drug,
                note=_join(f"{pm.lead_minutes} min {why}", item.note),
                source=item.source, source_cite=_cite(pf, item.source),
                confidence=item.confidence or (dose.confidence if dose else None),
                order=order,
            ))
    return out
