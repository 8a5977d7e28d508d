"""compile(protocol, request) -> Timeline. Pure and deterministic: the same inputs give the same
events, in the same order, with the same uids. No clock, no I/O.

Passes, in order:
  select_arm      arm + branches → ordered element ids
  expand_cycles   phases → cycles (course per cycle from the pattern), with cycle ids
  anchor          dates for day 1 of each cycle (start, start_at, actual starts, unknown lengths)
  place           items → events (days, dose times, continuous runs, windows, step-ups)
  premedicate     event-triggered premedication (cycle start, step-up)
  mark            omitted / held doses
  finish          sort into order of giving, assign stable uids
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .daysets import format_days, parse_cycle_filter, parse_days, parse_duration, runs
from .errors import RequestError
from .model import Branch, Course, Item, Protocol, source_key
from .request import ScheduleRequest
from .source import ProtocolFile
from .timeline import (
    KIND_ADMINISTRATION,
    KIND_PHASE,
    KIND_PREMEDICATION,
    KIND_REST,
    Cycle,
    DoseEvent,
    Timeline,
)


@dataclass(frozen=True)
class _Slot:
    """A cycle before it has a date."""

    phase_id: str
    phase: str
    course_id: str
    course: Course
    cycle: int
    cycle_id: str


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
        warnings=tuple(warnings),
    )


# --- select arm -----------------------------------------------------------------------------


def _pick_arm(p: Protocol, label: str | None) -> str:
    labels = [a.label for a in p.arms]
    if label is None:
        if len(labels) == 1:
            return labels[0]
        if p.default_arm:
            return p.default_arm
        raise RequestError(f"{p.id} has several arms: give --arm with one of {', '.join(labels)}")
    if p.arm(label) is None:
        raise RequestError(f"unknown arm {label!r} for {p.id}; valid arms: {', '.join(labels)}")
    return label


def _used_decisions(p: Protocol, arm_label: str) -> list[str]:
    """Decisions that can matter for this arm, in protocol order."""
    arm = p.arm(arm_label)
    seq = list(p.common if arm.common else ()) + list(arm.sequence)
    used: set[str] = set()
    elements: list[str] = []
    for step in seq:
        if isinstance(step, Branch):
            used.add(step.decision)
            for ids in step.options.values():
                elements.extend(ids)
        else:
            elements.append(step)
    courses: list[str] = []
    for eid in elements:
        if eid in p.phases:
            ph = p.phases[eid]
            if isinstance(ph.cycles, str):
                used.add(ph.cycles)
            courses.extend(ph.pattern)
        else:
            courses.append(eid)
    for cid in courses:
        for item in p.courses[cid].items:
            used.update(item.when)
    return [name for name in p.decisions if name in used]


def _resolve_choices(p: Protocol, arm: str, given: dict[str, str]) -> dict[str, str]:
    for name, value in given.items():
        d = p.decisions.get(name)
        if d is None:
            valid = ", ".join(p.decisions) or "(this protocol has none)"
            raise RequestError(f"unknown choice {name!r} for {p.id}; valid choices: {valid}")
        values = [c.value for c in d.choices]
        if value not in values:
            raise RequestError(f"{value!r} is not a choice of {name!r}; valid values: {', '.join(values)}")
    out: dict[str, str] = {}
    for name in _used_decisions(p, arm):
        d = p.decisions[name]
        value = given.get(name, d.default)
        if value is None:
            values = ", ".join(c.value for c in d.choices)
            raise RequestError(
                f"{p.id} needs a decision on {name!r} ({d.label}): give --choose {name}=VALUE"
                f" with one of {values}"
            )
        out[name] = value
    return out


def _select_arm(p: Protocol, label: str, choices: dict[str, str]) -> list[str]:
    arm = p.arm(label)
    out: list[str] = list(p.common if arm.common else ())
    for step in arm.sequence:
        if isinstance(step, Branch):
            out.extend(step.options[choices[step.decision]])
        else:
            out.append(step)
    return out


# --- expand cycles --------------------------------------------------------------------------


def _expand_cycles(p: Protocol, steps: list[str], choices: dict[str, str]) -> list[_Slot]:
    slots: list[_Slot] = []
    for eid in steps:
        if eid in p.phases:
            ph = p.phases[eid]
            count = int(choices[ph.cycles]) if isinstance(ph.cycles, str) else ph.cycles
            for k in range(count):
                cid = ph.pattern[k % len(ph.pattern)]
                n = ph.number_from + k
                slots.append(_Slot(eid, ph.name, cid, p.courses[cid], n, f"{eid}.c{n}"))
        else:
            c = p.courses[eid]
            slots.append(_Slot(eid, c.name, eid, c, 1, f"{eid}.c1"))
            if c.terminal:
                # Nothing follows a terminal element, even where later branches of the arm list
                # more (EA9181 Arm B: the MRD-negative path ends before the re-induction branch),
                # so --start-at and --actual-start cannot reach past it.
                break
    return slots


def _apply_start_at(slots: list[_Slot], start_at: str | None) -> list[_Slot]:
    if start_at is None:
        return slots
    for i, s in enumerate(slots):
        if start_at in (s.cycle_id, s.phase_id, s.course_id):
            return slots[i:]
    valid = sorted({s.phase_id for s in slots} | {s.cycle_id for s in slots})
    raise RequestError(f"--start-at {start_at!r} is not in this arm; valid: {', '.join(valid)}")


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


# --- place ----------------------------------------------------------------------------------


def _applies(item: Item, cycle: int, choices: dict[str, str]) -> bool:
    if not parse_cycle_filter(item.cycles)(cycle):
        return False
    for name, wanted in item.when.items():
        allowed = (wanted,) if isinstance(wanted, str) else wanted
        if choices.get(name) not in allowed:
            return False
    return True


def _decision_text(item: Item, choices: dict[str, str]) -> str | None:
    if not item.when:
        return None
    return ", ".join(f"{k}={choices[k]}" for k in item.when)


def _is_optional(p: Protocol, item: Item) -> bool:
    def marks(d) -> bool:
        return d.marks_optional if d.marks_optional is not None else d.kind in ("optional", "either_or")

    return any(marks(p.decisions[k]) for k in item.when)


def _cite(pf: ProtocolFile, ref: str) -> str:
    key = source_key(ref)
    for s in pf.protocol.sources:
        if s.key == key:
            rest = ref.strip()[len(key):].strip()
            return f"{s.cite} {rest}".strip()
    return ref


def _frame_events(slot: _Slot, cyc: Cycle) -> list[DoseEvent]:
    """The phase/cycle itself, its start gate and its treatment-free tail."""
    c = slot.course
    length = c.length_days
    last = cyc.start + timedelta(days=(length or 1) - 1)
    base = dict(phase_id=slot.phase_id, phase=slot.phase, phase_start=cyc.start,
                cycle_id=slot.cycle_id, cycle=slot.cycle, course=c.name, time=None, end_time=None)
    notes = []
    if length is None and not c.terminal:
        notes.append("length not public: the treating team sets when it ends")
    if c.content_not_public:
        notes.append("drug content not public: treatment per full protocol")
    if c.note:
        notes.append(c.note)
    title = c.name if slot.phase == c.name else f"{slot.phase}: {c.name}"
    if slot.phase_id != slot.course_id:
        title = f"{title} (cycle {slot.cycle})"
    out = [DoseEvent(uid="", kind=KIND_PHASE, date=cyc.start, end_date=last, title=title, day=1,
                     not_public=c.content_not_public, note="; ".join(notes) or None,
                     source=c.length_source or "", order=-3, **base)]
    if c.start_gate:
        out.append(DoseEvent(uid="", kind="gate", date=cyc.start, end_date=cyc.start,
                             title=f"Before day 1: {c.start_gate}", day=1,
                             source=c.length_source or "", order=-2, **base))
    if c.rest_days:
        rd = parse_days(c.rest_days)
        out.append(DoseEvent(uid="", kind=KIND_REST, date=cyc.start + timedelta(days=rd[0] - 1),
                             end_date=cyc.start + timedelta(days=rd[-1] - 1),
                             title="Treatment-free interval", day=rd[0],
                             note=f"days {format_days(rd)}: no treatment",
                             source=c.length_source or "", order=-1, **base))
    return out


def _item_days(item: Item) -> tuple[int, ...]:
    days = parse_days(item.days)
    if item.every_days:
        days = tuple(d for d in days if (d - days[0]) % item.every_days == 0)
    return days


def _place(p: Protocol, pf: ProtocolFile, slot: _Slot, cyc: Cycle, choices: dict[str, str],
           request: ScheduleRequest) -> list[DoseEvent]:
    out: list[DoseEvent] = []
    times = request.times
    for order, item in enumerate(slot.course.items):
        if item.premedication is not None or not _applies(item, slot.cycle, choices):
            continue
        dose = item.dose
        common = dict(
            phase_id=slot.phase_id, phase=slot.phase, phase_start=cyc.start,
            cycle_id=slot.cycle_id, cycle=slot.cycle, course=slot.course.name,
            title=item.label, drug=item.drug, route=item.route,
            dose=dose.value if dose else None, unit=dose.unit if dose else None, dose_spec=dose,
            not_public=bool(dose and dose.not_public), optional=_is_optional(p, item),
            decision=_decision_text(item, choices), note=item.note, source=item.source,
            source_cite=_cite(pf, item.source),
            confidence=item.confidence or (dose.confidence if dose else None), order=order,
            kind=KIND_ADMINISTRATION if item.drug else item.event,
            window=f"day {item.window.replace('-', ' to ')}" if item.window else None,
        )

        def at(day: int, t: time | None) -> tuple[date, time | None]:
            return cyc.start + timedelta(days=day - 1), t

        days = _item_days(item)
        first_time = _t(item.at) if item.at else times.clinic_start
        if item.event is not None:
            if item.span:
                for a, b in runs(days):
                    out.append(DoseEvent(uid="", date=at(a, None)[0], end_date=at(b, None)[0], time=None,
                                         end_time=None, day=a, **common))
            else:
                for d in days:
                    out.append(DoseEvent(uid="", date=at(d, None)[0], end_date=at(d, None)[0], time=None,
                                         end_time=None, day=d, **common))
        elif item.continuous:
            for a, b in runs(days):
                start = datetime.combine(at(a, None)[0], first_time)
                minutes = (b - a + 1) * 1440
                end = start + timedelta(minutes=minutes)
                out.append(DoseEvent(uid="", date=start.date(), end_date=at(b, None)[0],
                                     time=start.time(), end_time=end.time(), day=a,
                                     duration_minutes=minutes, continuous=True, **common))
        elif item.every_hours:
            t0 = _t(item.at) if item.at else (times.q12h_first if item.every_hours == 12 else times.clinic_start)
            start = datetime.combine(at(days[0], None)[0], t0)
            for k in range(item.doses):
                out.append(_timed(start + timedelta(hours=k * item.every_hours), item, cyc, common,
                                  k + 1, item.doses))
        elif item.times_per_day:
            slots_ = times.per_day[item.times_per_day]
            total = len(days) * item.times_per_day
            n = 0
            for d in days:
                for t in slots_:
                    n += 1
                    out.append(_timed(datetime.combine(at(d, None)[0], t), item, cyc, common, n, total))
        else:
            timed = item.at is not None or item.route != "PO" or item.over is not None
            for n, d in enumerate(days, 1):
                if timed:
                    out.append(_timed(datetime.combine(at(d, None)[0], first_time), item, cyc, common,
                                      n, len(days)))
                else:
                    out.append(DoseEvent(uid="", date=at(d, None)[0], end_date=at(d, None)[0], time=None,
                                         end_time=None, day=d, dose_number=n, doses_total=len(days),
                                         **common))
    _flag_steps(out)
    return out


def _timed(start: datetime, item: Item, cyc: Cycle, common: dict, n: int, total: int) -> DoseEvent:
    minutes = parse_duration(item.over) if item.over else None
    end = start + timedelta(minutes=minutes) if minutes else None
    return DoseEvent(uid="", date=start.date(), end_date=(end or start).date() if end else start.date(),
                     time=start.time(), end_time=end.time() if end else None,
                     day=(start.date() - cyc.start).days + 1, dose_number=n, doses_total=total,
                     duration_minutes=minutes, **common)


def _flag_steps(events: list[DoseEvent]) -> None:
    """A continuous infusion that follows one of the same drug at a lower dose is a step-up."""
    by_drug: dict[str, list[int]] = {}
    for i, e in enumerate(events):
        if e.continuous and e.drug:
            by_drug.setdefault(e.drug, []).append(i)
    for idxs in by_drug.values():
        idxs.sort(key=lambda i: events[i].date)
        for a, b in zip(idxs, idxs[1:]):
            prev, cur = events[a], events[b]
            if (prev.dose and cur.dose and cur.dose > prev.dose and prev.unit == cur.unit
                    and cur.date == prev.end_date + timedelta(days=1)):
                events[b] = cur.with_(step="step-up",
                                      note=_join(f"step-up from {prev.dose:g} to {cur.dose:g} {cur.unit}", cur.note))


def _join(a: str, b: str | None) -> str:
    return f"{a}; {b}" if b else a


def _t(text: str) -> time:
    return time.fromisoformat(text)


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


# --- finish ---------------------------------------------------------------------------------

_KIND_RANK = {KIND_PHASE: 0, "gate": 1, KIND_REST: 2}


def _sort_key(e: DoseEvent) -> tuple:
    return (e.date, _KIND_RANK.get(e.kind, 3), e.time is not None, e.time or time(), e.order,
            e.title, e.dose_number or 0)


def _finish(protocol_id: str, arm: str, events: list[DoseEvent]) -> list[DoseEvent]:
    events = sorted(events, key=_sort_key)
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
