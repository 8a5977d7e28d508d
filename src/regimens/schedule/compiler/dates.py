"""Anchor dates: day 1 of each cycle from the start date, start_at, actual starts and unknown
lengths (which stop the timeline rather than guess)."""

from __future__ import annotations

from datetime import date, timedelta

from regimens.errors import RequestError
from regimens.schedule.compiler.arms import _Slot
from regimens.schedule.request import ScheduleRequest
from regimens.schedule.timeline import (
    Cycle,
)

# --- anchor ---------------------------------------------------------------------------------


def _anchor(slots: list[_Slot], request: ScheduleRequest) -> tuple[list[Cycle], list[str]]:
    ids = {s.cycle_id for s in slots}
    for cid in request.actual_starts:
        if cid not in ids:
            raise RequestError(
                f"--actual-start {cid!r} is not a cycle of this timeline; valid: {', '.join(s.cycle_id for s in slots)}"
            )
    cycles: list[Cycle] = []
    warnings: list[str] = []
    nominal: date | None = request.start
    actual: date | None = request.start
    for s in slots:
        if s.cycle_id in request.actual_starts:
            start = request.actual_starts[s.cycle_id]
            if not cycles and start < request.start:
                # the first cycle cannot begin before the day the timeline starts
                raise RequestError(
                    f"--actual-start {s.cycle_id}={start} is before --start {request.start}; day 1 of the first"
                    f" cycle is --start: give --start {start} instead, or a later actual start"
                )
            if cycles and cycles[-1].start > start:
                raise RequestError(
                    f"--actual-start {s.cycle_id}={start} is before the start of {cycles[-1].cycle_id}"
                    f" ({cycles[-1].start}); give a later date"
                )
            nominal = nominal if nominal is not None else start
        elif actual is None:
            prev = cycles[-1]
            warnings.append(
                f"{prev.phase}: length is not public, so the date of {s.phase}"
                f" (cycle id {s.cycle_id}) is unknown; give --actual-start {s.cycle_id}=YYYY-MM-DD"
                # inside a phase, the cycle id: --start-at PHASE would restart at its cycle 1
                f" or start the timeline there with --start-at"
                f" {s.phase_id if prev.phase_id != s.phase_id else s.cycle_id}"
            )
            break
        else:
            start = actual
        length = s.course.length_days
        cycles.append(Cycle(s.cycle_id, s.phase_id, s.phase, s.course_id, s.course.name, s.cycle,
                            start, length, nominal or start))
        if s.course.terminal:
            break
        actual = None if length is None else start + timedelta(days=length)
        nominal = None if (length is None or nominal is None) else nominal + timedelta(days=length)
    return cycles, warnings
