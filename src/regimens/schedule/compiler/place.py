"""Place items: a course's items → dated events (days, dose times, continuous runs, windows,
step-ups)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from regimens.protocol.daysets import format_days, parse_cycle_filter, parse_days, parse_duration, runs
from regimens.protocol.loader import ProtocolFile
from regimens.protocol.model import Item, Protocol, source_key
from regimens.schedule.compiler.arms import _Slot
from regimens.schedule.request import ScheduleRequest
from regimens.schedule.timeline import (
    KIND_ADMINISTRATION,
    KIND_PHASE,
    KIND_REST,
    Cycle,
    DoseEvent,
)

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
                # `over` gives the length (mesna 69 h); otherwise 24 h for each listed day
                minutes = parse_duration(item.over) if item.over else (b - a + 1) * 1440
                end = start + timedelta(minutes=minutes)
                last = end.date() if item.over else at(b, None)[0]
                out.append(DoseEvent(uid="", date=start.date(), end_date=last,
                                     time=start.time(), end_time=end.time(), day=a,
                                     duration_minutes=minutes, continuous=True,
                                     whole_days=not item.over, **common))
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
