"""No overlapping treatment: an actual start may not fall before the previous cycle has ended.

A cycle with a known length ends on its last day (its treatment-free tail included); the next may
start on the day after. A course may declare `next_start_early: true` (with its source, e.g.
hyper-CVAD "every 21 days or sooner once counts recover"): then the next cycle may start once the
last treatment of this one is over, and the rest of the earlier cycle (its treatment-free tail and
its frame) is cut at the day before. After a course whose length is not public, the next cycle may
start once the last event placed in it is over.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from regimens.errors import RequestError
from regimens.protocol.model import Protocol
from regimens.schedule.request import ScheduleRequest
from regimens.schedule.timeline import KIND_PHASE, KIND_REST, Cycle, DoseEvent

_FRAME = (KIND_PHASE, KIND_REST)


def last_busy_day(e: DoseEvent) -> date:
    """The last calendar day an event occupies: a timed infusion that ends at 09:00 on day 29
    occupies day 29; one that ends exactly at midnight does not occupy the next day."""
    if e.time is not None and e.duration_minutes:
        end = datetime.combine(e.date, e.time) + timedelta(minutes=e.duration_minutes)
        return end.date() if end.time() != datetime.min.time() else end.date() - timedelta(days=1)
    return e.end_date


def _treatment_end(cycle_id: str, events: list[DoseEvent]) -> date | None:
    days = [last_busy_day(e) for e in events if e.cycle_id == cycle_id and e.kind not in _FRAME
            and not e.title.startswith("Next: ")]
    return max(days, default=None)


def earliest_next_start(p: Protocol, prev: Cycle, events: list[DoseEvent]) -> tuple[date, str]:
    """The earliest day 1 of the cycle after `prev`, and why (for the message)."""
    course = p.courses[prev.course_id]
    treated = _treatment_end(prev.cycle_id, events)
    after_treatment = (treated + timedelta(days=1)) if treated else prev.start + timedelta(days=1)
    if prev.length_days is None:
        return after_treatment, f"its length is not public and its last event is on {treated or prev.start}"
    full = prev.start + timedelta(days=prev.length_days)
    if course.next_start_early:
        return min(full, after_treatment), f"its last treatment is on {treated} (the protocol allows an early start after it)"
    return full, f"it runs to {prev.end} ({prev.length_days}-day cycle)"


def check_overlaps(p: Protocol, cycles: list[Cycle], events: list[DoseEvent],
                   request: ScheduleRequest) -> list[DoseEvent]:
    """Refuse an actual start that overlaps the previous cycle; where the protocol allows an
    early start, cut the earlier cycle's frame (phase span, treatment-free tail) at the day before."""
    out = list(events)
    for prev, cyc in zip(cycles, cycles[1:]):
        if cyc.cycle_id not in request.actual_starts:
            continue
        earliest, why = earliest_next_start(p, prev, out)
        if cyc.start < earliest:
            raise RequestError(
                f"--actual-start {cyc.cycle_id}={cyc.start} is before {prev.cycle_id} has ended ({why});"
                f" the earliest allowed date is {earliest}: give --actual-start {cyc.cycle_id}={earliest} or later"
            )
        cut = cyc.start - timedelta(days=1)
        kept = []
        for e in out:
            if e.cycle_id == prev.cycle_id and e.kind in _FRAME and e.end_date > cut:
                if e.date > cut:
                    continue  # a treatment-free tail that now lies wholly inside the next cycle
                e = e.with_(end_date=cut, note=_join(e.note, f"cut short: {cyc.cycle_id} starts {cyc.start}"))
            kept.append(e)
        out = kept
    return out


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b
