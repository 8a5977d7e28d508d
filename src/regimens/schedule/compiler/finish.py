"""Finish: nothing before the start, the gate after an unknown length, the order of giving,
stable uids, and omitted / held doses."""

from __future__ import annotations

import hashlib
from datetime import time

from regimens.errors import RequestError
from regimens.protocol.model import Protocol
from regimens.schedule.compiler.arms import _Slot
from regimens.schedule.request import ScheduleRequest
from regimens.schedule.timeline import (
    KIND_ADMINISTRATION,
    KIND_PHASE,
    KIND_PREMEDICATION,
    KIND_REST,
    Cycle,
    DoseEvent,
)

# --- finish ---------------------------------------------------------------------------------


def _nothing_before_start(events: list[DoseEvent], cycles: list[Cycle]) -> None:
    """A premedication lead that reaches back over midnight before the very first infusion would
    put a dose before the start date, which a calendar and a nurse sheet starting on day 1 would
    both miss. Refuse it with the fix rather than silently starting the schedule a day early."""
    if not cycles:
        return
    first = cycles[0].start
    for e in events:
        if e.date < first:
            raise RequestError(
                f"{e.title} premedication ({e.note.split(';')[0] if e.note else 'lead time'}) would fall on"
                f" {e.date}, before the start {first}: start the infusion later in the day"
                " (--clinic-start HH:MM or the protocol's `at`), or give --start one day earlier"
            )


def _next_unknown_event(p: Protocol, slots: list[_Slot], cycles: list[Cycle], warnings: list[str]) -> DoseEvent:
    last = cycles[-1]
    nxt = slots[len(cycles)]
    return DoseEvent(
        uid="", kind="gate", date=last.start, end_date=last.start, time=None, end_time=None,
        title=f"Next: {nxt.phase} (date set by the treating team)", phase_id=last.phase_id,
        phase=last.phase, phase_start=last.start, cycle_id=last.cycle_id, cycle=last.cycle,
        course=last.course, day=1, note=warnings[-1], source="", order=-2,
    )


_KIND_RANK = {KIND_PHASE: 0, "gate": 1, KIND_REST: 2}


def _sort_key(e: DoseEvent) -> tuple:
    return (e.date, _KIND_RANK.get(e.kind, 3), e.time is not None, e.time or time(), e.order,
            e.title, e.dose_number or 0)


_WEEKEND = {5: "Saturday", 6: "Sunday"}


def _is_procedure(e: DoseEvent) -> bool:
    # An intrathecal dose needs a lumbar puncture; procedure events are LPs, marrows, HSCT.
    return e.kind == "procedure" or (e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION) and e.route == "IT")


def _flag_weekends(events: list[DoseEvent]) -> list[DoseEvent]:
    """A procedure on a Saturday or Sunday is unusual (day units and LP lists run on weekdays):
    staff outputs flag it so the team confirms or moves the date; nothing is moved here."""
    return [e.with_(weekend=_WEEKEND[e.date.weekday()]) if _is_procedure(e) and e.date.weekday() in _WEEKEND
            else e for e in events]


def _finish(protocol_id: str, arm: str, events: list[DoseEvent]) -> list[DoseEvent]:
    events = _flag_weekends(sorted(events, key=_sort_key))
    seen: dict[str, int] = {}
    out = []
    for e in events:
        key = "|".join(str(x) for x in (protocol_id, arm, e.cycle_id, e.day, e.kind, e.title,
                                        e.route, e.dose_number, e.premed_for, e.step))
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        seen[digest] = seen.get(digest, 0) + 1
        suffix = "" if seen[digest] == 1 else f"-{seen[digest]}"
        out.append(e.with_(uid=f"{digest}{suffix}@regimens"))
    return out


# --- mark omitted / held --------------------------------------------------------------------


def _selectors(e: DoseEvent) -> tuple[str, ...]:
    return (e.uid, e.cycle_id, f"{e.cycle_id}:{e.day}", f"{e.cycle_id}:{e.day}:{e.drug}")


def _mark(events: list[DoseEvent], request: ScheduleRequest) -> list[DoseEvent]:
    if not request.omit and not request.hold:
        return events
    used: set[str] = set()
    out = []
    for e in events:
        status, reason = e.status, None
        if e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION):
            for sel in _selectors(e):
                if sel in request.omit:
                    status, reason = "omitted", request.omit[sel]
                    used.add(sel)
                elif sel in request.hold:
                    status, reason = "held", request.hold[sel]
                    used.add(sel)
        out.append(e.with_(status=status, status_reason=reason) if reason is not None else e)
    unused = (set(request.omit) | set(request.hold)) - used
    if unused:
        raise RequestError(
            f"omit/hold {sorted(unused)[0]!r} matches no dose; use a uid, CYCLE_ID, CYCLE_ID:DAY or CYCLE_ID:DAY:DRUG"
        )
    return out
