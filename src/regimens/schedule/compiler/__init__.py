"""compile(protocol, request) -> Timeline. Pure and deterministic: the same inputs give the same
events, in the same order, with the same uids. No clock, no I/O.

Passes, in order (one module per group: arms, dates, place, premedicate, finish):
  select_arm      arm + branches → ordered element ids
  expand_cycles   phases → cycles (course per cycle from the pattern), with cycle ids
  anchor          dates for day 1 of each cycle (start, start_at, actual starts, unknown lengths)
  place           items → events (days, dose times, continuous runs, windows, step-ups)
  premedicate     event-triggered premedication (cycle start, step-up)
  ending          a final event when treatment goes on after the last cycle shown
  overlap         refuse an actual start before the previous cycle has ended
  mark            omitted / held doses
  finish          sort into order of giving, assign stable uids
"""

from __future__ import annotations

from regimens.protocol.bibliography import full_citation, source_names
from regimens.protocol.loader import ProtocolFile
from regimens.schedule.compiler.arms import _apply_start_at, _expand_cycles, _pick_arm, _resolve_choices, _select_arm
from regimens.schedule.compiler.dates import _anchor
from regimens.schedule.compiler.ending import CONTINUES_TITLE, continuation_event, open_end
from regimens.schedule.compiler.finish import _finish, _mark, _next_unknown_event, _nothing_before_start
from regimens.schedule.compiler.overlap import check_overlaps
from regimens.schedule.compiler.place import _frame_events, _place
from regimens.schedule.compiler.premedicate import _premedicate
from regimens.schedule.request import ScheduleRequest
from regimens.schedule.timeline import DoseEvent, Timeline


def compile(pf: ProtocolFile, request: ScheduleRequest) -> Timeline:
    p = pf.protocol
    arm = _pick_arm(p, request.arm)
    choices = _resolve_choices(p, arm, request.choices)
    steps = _select_arm(p, arm, choices)
    slots = _expand_cycles(p, steps, choices)
    slots = _apply_start_at(slots, request.start_at)
    cycles, warnings = _anchor(slots, request)
    events: list[DoseEvent] = []
    by_id = {s.cycle_id: s for s in slots}
    for cyc in cycles:
        slot = by_id[cyc.cycle_id]
        events.extend(_frame_events(slot, cyc))
        placed = _place(p, pf, slot, cyc, choices, request)
        placed.extend(_premedicate(p, pf, slot, cyc, choices, placed))
        events.extend(placed)
    if warnings and cycles:
        events.append(_next_unknown_event(p, slots, cycles, warnings))
    continues = open_end(p, arm, slots, cycles, choices)
    if continues:
        events.append(continuation_event(cycles, continues))
    events = check_overlaps(p, cycles, events, request)
    _nothing_before_start(events, cycles)
    events = _finish(p.id, arm, events)
    events = _mark(events, request)
    return Timeline(
        protocol_id=p.id,
        protocol_title=p.title,
        protocol_version=p.version,
        content_hash=pf.content_hash,
        protocol_path=pf.path,
        protocol_origin=pf.origin,
        arm=arm,
        arm_name=p.arm(arm).name,
        choices=tuple(choices.items()),
        start=cycles[0].start if cycles else request.start,
        cycles=tuple(cycles),
        events=tuple(events),
        eligibility=p.eligibility,
        warnings=tuple(warnings),
        continues=f"{CONTINUES_TITLE}: {continues}" if continues else None,
        citations=tuple((s.key, tuple(full_citation(p, s.key))) for s in p.sources),
        source_names=tuple(source_names(p).items()),
    )
