"""A schedule never looks finished when it is not.

When the last element on the timeline is the last of the arm and treatment goes on after it
(a phase whose total number of cycles is not public, a last course whose length is not public,
a terminal course whose content is "per full protocol", or an arm whose `then` says what
follows), a final event says so, and the timeline carries the same sentence (`continues`) for
every output's header.
"""

from __future__ import annotations

from datetime import timedelta

from regimens.protocol.model import Protocol
from regimens.schedule.compiler.arms import _Slot
from regimens.schedule.timeline import Cycle, DoseEvent

CONTINUES_TITLE = "Treatment continues per the treating team"


def open_end(p: Protocol, arm: str, slots: list[_Slot], cycles: list[Cycle],
             choices: dict[str, str]) -> str | None:
    """Why treatment goes on after the last cycle shown, or None when the schedule ends there."""
    if not cycles or len(cycles) < len(slots):
        return None  # truncated at an unknown length: the "Next:" gate already says what follows
    last = slots[-1]
    course = last.course
    ph = p.phases.get(last.phase_id)
    if ph is not None and ph.total_cycles_not_public:
        n = sum(1 for s in slots if s.phase_id == last.phase_id)
        chosen = f" ({ph.cycles}={choices[ph.cycles]})" if isinstance(ph.cycles, str) else ""
        return (f"the total number of cycles is not public: this schedule shows {n} cycle"
                f"{'s' if n != 1 else ''} of {ph.name}{chosen}; further cycles per the treating team")
    if course.terminal:
        if course.content_not_public:
            return f"{course.name}: per full protocol (not public)"
        return None
    if course.length_days is None:
        return f"{course.name}: length not public; it ends when the treating team decides"
    then = p.arm(arm).then
    return f"after {course.name}: {then}" if then else None


def continuation_event(cycles: list[Cycle], reason: str) -> DoseEvent:
    last = cycles[-1]
    day = (last.length_days + 1) if last.length_days else 1
    when = last.start + timedelta(days=day - 1)
    return DoseEvent(
        uid="", kind="milestone", date=when, end_date=when, time=None, end_time=None,
        title=CONTINUES_TITLE, phase_id=last.phase_id, phase=last.phase, phase_start=last.start,
        cycle_id=last.cycle_id, cycle=last.cycle, course=last.course, day=day,
        note=f"Not the end of treatment: {reason}.", source="", order=9,
    )
