"""Treatment as it really happens: what a recorded move, cease, resume or administration does to a
patient's timeline, and the protocol rules a change may not break.

The API is pure and shared by the command line (`regimens plan preview|record`) and the clinic
service (src/regimens/web/), so both refuse the same things with the same words:

    new_plan = record(plan, change)                       # data only: the change is added
    outcome = preview(pf, plan, change, rounding)         # before/after timelines, diff, closures
    tl, report = realise(pf, plan, rounding)              # the timeline every output is made from

`preview` raises `ChangeRefused` (a PlanError, exit 2) quoting the protocol rule a change breaks
and saying how to go ahead (a named override, or another move mode) when one is allowed.

Invariants (tests/plans/test_changes_properties.py): a recorded administration never moves; the
doses of one cycle never fall on or after day 1 of the next; every event that still exists keeps
its uid (moves change dates, never identities); under a moving closure policy no dose lands on a
closed day unless the closure report lists it as not moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from regimens.dosing.doses import resolve_doses
from regimens.errors import PlanError
from regimens.notation.ismp import format_dose, format_number
from regimens.plans.closures import ClosureReport, apply_closures, closure_on
from regimens.plans.plan import Plan
from regimens.plans.records import (
    MOVE_MODES,
    PlanAdministration,
    PlanCease,
    PlanMove,
    PlanOverride,
    PriorExposure,
    parse_selector,
)
from regimens.protocol.daysets import parse_days
from regimens.protocol.loader import ProtocolFile
from regimens.protocol.model import Item
from regimens.schedule.compiler import compile as compile_timeline
from regimens.schedule.timeline import (
    KIND_ADMINISTRATION,
    KIND_PHASE,
    KIND_PREMEDICATION,
    KIND_REST,
    Cycle,
    DoseEvent,
    Timeline,
)

if TYPE_CHECKING:  # imported where used: a calendar or sheet of a plan never needs them
    from regimens.dosing.rounding import RoundingRules
    from regimens.plans.cumulative import Limits
    from regimens.plans.diff import Preview

FRAME_KINDS = (KIND_PHASE, KIND_REST, "gate")
DOSE_KINDS = (KIND_ADMINISTRATION, KIND_PREMEDICATION)


class ChangeRefused(PlanError):
    """A change that breaks a rule. `rule` names it; `quote` is the protocol text it comes from;
    `overridable` says whether a named override lets it through."""

    def __init__(self, message: str, rule: str, quote: str | None = None, overridable: bool = False):
        super().__init__(message)
        self.rule, self.quote, self.overridable = rule, quote, overridable


# --- the changes a person records ------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    target: str
    to: date
    at: str | None = None
    mode: str = "dose"
    reason: str = ""
    by: str = ""
    override: str | None = None


@dataclass(frozen=True)
class Cease:
    drug: str | None
    from_date: date
    why: str
    reason: str
    by: str


@dataclass(frozen=True)
class Resume:
    """A hold lifted: the held cycle starts on `on`, or the held day or dose moves to `on`."""

    target: str
    on: date
    reason: str
    by: str
    mode: str = "dose"


@dataclass(frozen=True)
class Administered:
    target: str
    """A uid or a selector naming exactly one dose."""
    given: bool
    at: datetime | None
    dose: float | None
    unit: str | None
    by: str
    checked_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Prior:
    drug: str
    amount: float
    unit: str
    source: str
    by: str


Change = Move | Cease | Resume | Administered | Prior


def _need(value: str | None, what: str, option: str) -> str:
    if not (value or "").strip():
        raise PlanError(f"{what} needs {option}")
    return value.strip()


def record(plan: Plan, change: Change, tl: Timeline | None = None) -> Plan:
    """The plan with the change added (no revision bump; `plan.next_revision` does that). `tl` is
    the realised timeline before the change, needed to resolve an administration's dose. A value
    the plan format refuses (a time 25:00) is a PlanError naming the field."""
    from pydantic import ValidationError  # a recorded change is validated by plans/schema.py

    try:
        return _record(plan, change, tl)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "value"
        msg = "a time is HH:MM, 00:00 to 23:59" if where == "at" else err["msg"].removeprefix("Value error, ")
        raise PlanError(f"{where} {err.get('input')!r}: {msg}") from None


def _record(plan: Plan, change: Change, tl: Timeline | None) -> Plan:
    if isinstance(change, Move):
        if change.mode not in MOVE_MODES:
            raise PlanError(f"unknown move mode {change.mode!r}; use one of {', '.join(MOVE_MODES)}")
        mv = PlanMove.model_validate(dict(
            target=change.target, to=change.to, at=change.at, mode=change.mode,
            reason=_need(change.reason, "a move", "a reason (--reason)"),
            by=_need(change.by, "a move", "the person (--by)"), override=change.override))
        return plan.model_copy(update={"moves": (*plan.moves, mv)})
    if isinstance(change, Cease):
        c = PlanCease.model_validate(dict(
            drug=change.drug, from_date=change.from_date, why=change.why,
            reason=_need(change.reason, "a cease", "a reason (--reason)"),
            by=_need(change.by, "a cease", "the person (--by)")))
        return plan.model_copy(update={"ceased": (*plan.ceased, c)})
    if isinstance(change, Resume):
        return _resume(plan, change)
    if isinstance(change, Administered):
        if tl is None:
            raise PlanError("recording an administration needs the timeline it belongs to")
        e = _one_dose(tl, change.target)
        if change.given and change.at is None:
            raise PlanError(f"{change.target}: a given dose needs the time it was given (--given-at YYYY-MM-DDTHH:MM)")
        if not change.given and not (change.reason or "").strip():
            raise PlanError(f"{change.target}: a dose not given needs the reason (--reason)")
        if change.given and change.dose is None:
            raise PlanError(f"{change.target}: a given dose needs the dose given (--dose-given '600 mg')")
        rec = PlanAdministration.model_validate(dict(
            uid=e.uid, given=change.given, at=change.at, dose=change.dose, unit=change.unit,
            by=_need(change.by, "an administration record", "the person (--by)"),
            checked_by=change.checked_by or None, reason=change.reason or None))
        kept = tuple(a for a in plan.administrations if a.uid != e.uid)
        return plan.model_copy(update={"administrations": (*kept, rec)})
    if isinstance(change, Prior):
        p = PriorExposure.model_validate(dict(
            drug=change.drug.strip().lower(), amount=change.amount, unit=change.unit,
            source=_need(change.source, "prior exposure", "its source (--prior-source)"),
            by=_need(change.by, "prior exposure", "the person (--by)")))
        return plan.model_copy(update={"prior_exposure": (*plan.prior_exposure, p)})
    raise TypeError(f"not a change: {change!r}")


def _resume(plan: Plan, r: Resume) -> Plan:
    held = [sel for sel in plan.hold if sel == r.target or sel.startswith(f"{r.target}:")]
    if not held:
        on_hold = ", ".join(plan.hold) or "nothing is on hold"
        raise PlanError(f"--resume {r.target}: not on hold in this plan ({on_hold})")
    hold = {k: v for k, v in plan.hold.items() if k not in held}
    plan = plan.model_copy(update={"hold": hold})
    if parse_selector(r.target) is None and "@" not in r.target:  # a cycle id: it starts on the new date
        return plan.model_copy(update={"actual_starts": {**plan.actual_starts, r.target: r.on}})
    return record(plan, Move(target=r.target, to=r.on, mode=r.mode, reason=f"resumed after hold: {r.reason}", by=r.by))


# --- from a plan to its timeline ---------------------------------------------------------------


def compiled(pf: ProtocolFile, plan: Plan, rounding: RoundingRules | None = None, **request_extra) -> Timeline:
    """The protocol's timeline for the plan (delays, holds, doses) before moves and records."""
    tl = compile_timeline(pf, plan.to_request(**request_extra))
    measurements, mods = plan.dosing()
    overrides = plan.cap_override_list()
    if measurements is not None or mods or overrides:
        from regimens.dosing.rounding import load_rules  # here: a run without doses never needs pydantic

        tl = resolve_doses(tl, measurements, mods, rounding or load_rules(), overrides, plan.confirmed_outside)
    return tl


def realise(pf: ProtocolFile, plan: Plan, rounding: RoundingRules | None = None,
            **request_extra) -> tuple[Timeline, ClosureReport]:
    """The timeline as the treatment really is: compiled, then moves in the order recorded, the
    closures in force, ceased drugs and recorded administrations."""
    tl = compiled(pf, plan, rounding, **request_extra)
    return apply_records(tl, plan, pf)


def apply_records(tl: Timeline, plan: Plan, pf: ProtocolFile) -> tuple[Timeline, ClosureReport]:
    if not (plan.moves or plan.closures or plan.ceased or plan.administrations):
        return tl, ClosureReport()  # most plans: the compiled timeline, untouched
    given = {a.uid: a for a in plan.administrations}
    events, cycles = list(tl.events), list(tl.cycles)
    overridden: set[str] = set()
    for mv in plan.moves:
        events, cycles = _apply_move(events, cycles, mv, frozenset(given))
        if mv.override:  # a move a person made onto a closed day on purpose stays there
            overridden |= {e.uid for e in targets(events, mv.target)}
    report = ClosureReport()
    if plan.closures is not None:
        events, cycles, report = apply_closures(events, cycles, plan.closures, frozenset(given) | overridden)
    warnings = list(tl.warnings)
    events = [_ceased(e, plan.ceased) if e.uid not in given else e for e in events]
    for c in plan.ceased:
        what = "treatment" if c.drug is None else c.drug
        warnings.append(f"{what} ceased from {c.from_date.isoformat()} ({c.why}: {c.reason}); later doses are"
                        " cancelled")
    events = [_administered(e, given[e.uid]) if e.uid in given else e for e in events]
    unknown = sorted(set(given) - {e.uid for e in events})
    if unknown:
        raise PlanError(f"plan records an administration for {unknown[0]!r}, which is not in this timeline")
    events.sort(key=_order)
    return replace(tl, events=tuple(events), cycles=tuple(cycles), warnings=tuple(warnings)), report


def _order(e: DoseEvent) -> tuple:
    rank = {KIND_PHASE: 0, "gate": 1, KIND_REST: 2}
    return (e.date, rank.get(e.kind, 3), e.time is not None, e.time or time(), e.order, e.title, e.dose_number or 0)


def _start(e: DoseEvent) -> datetime:
    return datetime.combine(e.date, e.time or time())


def matches(e: DoseEvent, target: str) -> bool:
    if e.uid == target:
        return True
    sel = parse_selector(target)
    if sel is None or e.kind in FRAME_KINDS:
        return False
    cycle, day, drug, n = sel
    if e.cycle_id != cycle or e.day != day:
        return False
    if drug is None:
        return True
    if e.drug == drug or (e.kind == KIND_PREMEDICATION and e.premed_for == drug and n is None):
        return n is None or e.dose_number == n
    return False


def targets(events: list[DoseEvent], target: str) -> list[DoseEvent]:
    found = [e for e in events if matches(e, target)]
    if not found:
        raise PlanError(f"{target!r} matches no event of this timeline; use a uid, CYCLE_ID:DAY,"
                        " CYCLE_ID:DAY:DRUG or CYCLE_ID:DAY:DRUG#N (dose N of that day)")
    return found


def _one_dose(tl: Timeline, target: str) -> DoseEvent:
    found = [e for e in targets(list(tl.events), target) if e.kind == KIND_ADMINISTRATION]
    if len(found) != 1:
        names = ", ".join(f"{e.title} {e.date} {e.time.strftime('%H:%M') if e.time else ''}".strip()
                          for e in found[:4])
        raise PlanError(f"{target!r} names {len(found)} doses ({names}); name one: its uid or CYCLE_ID:DAY:DRUG#N")
    return found[0]


def _shift(e: DoseEvent, delta: timedelta) -> DoseEvent:
    start = _start(e) + delta
    if e.time is None:
        return e.with_(date=start.date(), end_date=e.end_date + timedelta(days=delta.days))
    end = (datetime.combine(e.end_date, e.end_time or e.time) + delta) if e.end_time or e.end_date != e.date else None
    return e.with_(date=start.date(), time=start.time(),
                   end_date=end.date() if end else start.date(),
                   end_time=end.time() if (end and e.end_time) else e.end_time)


def _moved_note(e: DoseEvent, old: date, why: str) -> DoseEvent:
    if e.date == old:
        return e
    return e.with_(note=f"moved from {old.isoformat()} ({why})" + (f"; {e.note}" if e.note else ""))


def _apply_move(events: list[DoseEvent], cycles: list[Cycle], mv: PlanMove,
                given: frozenset[str]) -> tuple[list[DoseEvent], list[Cycle]]:
    hit = targets(events, mv.target)
    first = min(hit, key=_start)
    new_time = time.fromisoformat(mv.at) if mv.at else first.time
    delta = datetime.combine(mv.to, new_time or time()) - _start(first)
    ids = {e.uid for e in hit}
    pivot = _start(first)
    if mv.mode == "cycle":
        ids |= {e.uid for e in events if e.cycle_id == first.cycle_id and _start(e) >= pivot
                and e.kind not in FRAME_KINDS}
    elif mv.mode == "later":
        ids |= {e.uid for e in events if _start(e) >= pivot and e.kind not in (KIND_PHASE,)}
        ids |= {e.uid for e in events if e.kind == KIND_PHASE and e.date > first.date}
    ids -= given  # a dose already given stays where it was given (refused earlier by check)
    out = [_moved_note(_shift(e, delta), e.date, mv.reason) if e.uid in ids else e for e in events]
    day_one = _cycle_of(cycles, first.cycle_id)
    moved_cycles = set()
    # the cycle's day 1 moves only when everything on it moves (not when one q12h dose of day 1 does)
    if mv.mode in ("cycle", "later") and day_one is not None and first.date == day_one.start and all(
            e.uid in ids for e in events if e.cycle_id == first.cycle_id and e.date == day_one.start
            and e.kind not in FRAME_KINDS):
        moved_cycles.add(first.cycle_id)
    if mv.mode == "later":
        moved_cycles |= {c.cycle_id for c in cycles if c.start > first.date}
    new_cycles = [replace(c, start=c.start + timedelta(days=delta.days)) if c.cycle_id in moved_cycles else c
                  for c in cycles]
    if first.cycle_id in moved_cycles:  # its phase frame event moves with day 1
        out = [_shift(e, timedelta(days=delta.days)) if (e.kind == KIND_PHASE and e.cycle_id == first.cycle_id
                                                         and e.date == first.date) else e for e in out]
    return out, new_cycles


def _cycle_of(cycles: list[Cycle], cycle_id: str) -> Cycle | None:
    return next((c for c in cycles if c.cycle_id == cycle_id), None)


def _ceased(e: DoseEvent, ceased: tuple[PlanCease, ...]) -> DoseEvent:
    for c in ceased:
        if e.date < c.from_date or e.kind in (KIND_PHASE, KIND_REST):
            continue
        if c.drug is None or e.drug == c.drug or (e.kind == KIND_PREMEDICATION and e.premed_for == c.drug):
            what = "treatment" if c.drug is None else c.drug
            return e.with_(status="omitted",
                           status_reason=f"{what} ceased from {c.from_date.isoformat()} ({c.why}: {c.reason})")
    return e


def _administered(e: DoseEvent, a: PlanAdministration) -> DoseEvent:
    if not a.given:
        return e.with_(status="omitted", status_reason=f"not given: {a.reason} (recorded by {a.by})")
    dose = format_dose(a.dose, a.unit) if a.dose is not None and a.unit else (
        format_number(a.dose) if a.dose is not None else "dose not recorded")
    check = f", checked by {a.checked_by}" if a.checked_by else ", no second check recorded"
    planned = format_dose(e.patient_dose, e.patient_unit) if e.patient_dose is not None else None
    vs = f" (planned {planned})" if planned and planned != dose else ""
    at = a.at
    moved = e.with_(date=at.date(), time=at.time()) if at else e
    if at and e.whole_days:  # given on whole days from the new time: the same days, the same clock
        moved = moved.with_(end_date=e.end_date + (at.date() - e.date), end_time=at.time())
    elif at and e.end_time and e.duration_minutes:
        end = at + timedelta(minutes=e.duration_minutes)
        moved = moved.with_(end_date=end.date(), end_time=end.time())
    elif at:
        moved = moved.with_(end_date=max(at.date(), e.end_date + (at.date() - e.date)))
    return moved.with_(status="given", status_reason=f"given {at:%Y-%m-%d %H:%M}: {dose}{vs}, by {a.by}{check}"
                       + (f"; {a.reason}" if a.reason else ""))


# --- rules ---------------------------------------------------------------------------------------


def protocol_item(pf: ProtocolFile, tl: Timeline, e: DoseEvent) -> Item | None:
    c = next((c for c in tl.cycles if c.cycle_id == e.cycle_id), None)
    course = pf.protocol.courses.get(c.course_id) if c else None
    if course is None:
        return None
    return next((i for i in course.items if i.label == e.title and i.route == e.route), None)


def _refuse(msg: str, rule: str, quote: str | None, override: str | None, overridable: bool = True) -> None:
    if overridable and override:
        return
    how = " To go ahead anyway, record it with --override 'NAME: why'." if overridable else ""
    raise ChangeRefused(f"refused: {msg}" + (f" (protocol: {quote})" if quote else "") + f".{how}",
                        rule, quote, overridable)


def check(pf: ProtocolFile, before: Timeline, after: Timeline, plan: Plan, after_plan: Plan,
          rounding: RoundingRules | None = None) -> None:
    """Refuse what the change breaks. Rules: a recorded dose never moves; a cycle's doses stay
    before day 1 of the next cycle; a dose with a protocol window stays in it; doses of a series
    given every N hours stay at least N hours apart."""
    override = after_plan.moves[-1].override if len(after_plan.moves) > len(plan.moves) else None
    _given_stay(pf, plan, after_plan, rounding)
    old = {e.uid: e for e in before.events}
    moved = [e for e in after.events if e.uid in old and _start(e) != _start(old[e.uid]) and e.status != "given"]
    _no_overlap(before, after, moved, old)
    for e in moved:
        item = protocol_item(pf, after, e)
        if item is None:
            continue
        if item.window:
            cyc = _cycle_of(list(after.cycles), e.cycle_id)
            day = (e.date - cyc.start).days + 1
            if day not in parse_days(item.window):
                _refuse(f"{e.title} {e.route} on {e.date} would be day {day} of {e.cycle_id}, outside its window"
                        f" (days {item.window})", "window", f"window: {item.window!r}, {item.source}", override)
    _series_gaps(pf, after, {e.uid for e in moved}, override)
    if after_plan.closures is not None:
        for mv in after_plan.moves[len(plan.moves):]:
            name = closure_on(after_plan.closures, mv.to)
            if name is not None:
                _refuse(f"{mv.to.isoformat()} is a closed day at {after_plan.closures.site} ({name}); the closure"
                        " policy would move the dose again", "closed-day", None, override)


def _given_stay(pf: ProtocolFile, plan: Plan, after_plan: Plan, rounding: RoundingRules | None) -> None:
    if not plan.administrations:
        return
    bare = {"administrations": ()}
    a, _ = realise(pf, plan.model_copy(update=bare), rounding)
    b, _ = realise(pf, after_plan.model_copy(update=bare), rounding)
    where = {e.uid: _start(e) for e in a.events}
    for rec in after_plan.administrations:
        e = next((x for x in b.events if x.uid == rec.uid), None)
        if rec.uid in where and e is not None and _start(e) != where[rec.uid]:
            when = f"{rec.at:%Y-%m-%d %H:%M}" if rec.at else "as recorded"
            _refuse(f"{e.title} of {e.cycle_id} day {e.day} was already {'given' if rec.given else 'recorded'}"
                    f" ({when}); a recorded dose never moves: move the doses after it instead"
                    " (--move SELECTOR=DATE naming the next dose)", "given-stays", None, None, overridable=False)


def _no_overlap(before: Timeline, after: Timeline, moved: list[DoseEvent], old: dict[str, DoseEvent]) -> None:
    was = {c.cycle_id: c.start for c in before.cycles}
    cycles = list(after.cycles)
    nxt = {c.cycle_id: cycles[i + 1] for i, c in enumerate(cycles[:-1])}
    for e in moved:
        n = nxt.get(e.cycle_id)
        if e.kind in FRAME_KINDS or n is None:
            continue
        # by design when the protocol already put it there (IT methotrexate on day 29 of a 28-day cycle)
        by_design = n.cycle_id in was and old[e.uid].date >= was[n.cycle_id]
        if e.date >= n.start and not by_design:
            _refuse(f"{e.title} of {e.cycle_id} day {e.day} on {e.date} would fall on or after day 1 of"
                    f" {n.cycle_id} ({n.start}): two cycles would overlap; move the later cycles with it"
                    " (--mode later)", "cycles-overlap", None, None, overridable=False)
        cur = _cycle_of(cycles, e.cycle_id)
        if e.date < cur.start:
            _refuse(f"{e.title} of {e.cycle_id} day {e.day} on {e.date} would fall before day 1 of its cycle"
                    f" ({cur.start})", "before-cycle", None, None, overridable=False)


def _series_gaps(pf: ProtocolFile, tl: Timeline, moved: set[str], override: str | None) -> None:
    series: dict[tuple, list[DoseEvent]] = {}
    for e in tl.events:
        if e.kind == KIND_ADMINISTRATION and e.time is not None and e.doses_total and e.status != "omitted":
            series.setdefault((e.cycle_id, e.title, e.route, e.doses_total), []).append(e)
    for evs in series.values():
        if not any(e.uid in moved for e in evs):
            continue
        item = protocol_item(pf, tl, evs[0])
        if item is None or not item.every_hours:
            continue
        evs.sort(key=lambda e: e.dose_number or 0)
        for a, b in pairwise(evs):
            gap = (_start(b) - _start(a)).total_seconds() / 3600
            if gap < item.every_hours and (a.uid in moved or b.uid in moved):
                _refuse(f"{b.title} {b.route} dose {b.dose_number} at {_start(b):%Y-%m-%d %H:%M} would be"
                        f" {format_number(round(gap, 2))} h after dose {a.dose_number} ({_start(a):%Y-%m-%d %H:%M});"
                        f" the protocol gives it every {item.every_hours} hours",
                        "series-interval", f"every_hours: {item.every_hours}, doses: {item.doses}, {item.source}",
                        override)


# --- preview -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    """The plan with the change (revision not yet bumped)."""
    before: Timeline
    after: Timeline
    preview: Preview
    closures: ClosureReport
    """Every closure effect in force after the change."""
    warnings: tuple[str, ...] = field(default=())
    closures_changed: ClosureReport = field(default_factory=ClosureReport)
    """The closure effects this change brings (not already in force before it)."""


Realiser = Callable[[ProtocolFile, Plan, "RoundingRules | None"], "tuple[Timeline, ClosureReport]"]
"""`realise(pf, plan, rounding)`, or a caller's memo of it (the service caches the realised
timeline of each saved revision, so a preview compiles only the changed plan)."""


def preview(pf: ProtocolFile, plan: Plan, changes: list[Change] | Change, rounding: RoundingRules | None = None,
            base: Plan | None = None, limits: Limits | None = None, override: str | None = None,
            by: str | None = None, realiser: Realiser | None = None) -> Outcome:
    """What the changes would do, checked against the rules, without writing anything. `base` is
    the saved plan when `plan` already carries other edits (the command line's merged options).
    `override` (with `by`) lets through a rule that allows a named override; it is kept in the
    plan (moves carry theirs, a crossed lifetime limit becomes a PlanOverride). `realiser`
    replaces `realise` (same arguments, same result) for a caller that memoises it."""
    from regimens.plans.cumulative import crossed, sheet_lines
    from regimens.plans.diff import diff

    real = realiser or realise
    saved = base or plan
    before, before_report = real(pf, saved, rounding)
    new = plan
    for ch in changes if isinstance(changes, list) else [changes]:
        if isinstance(ch, Move) and override and not ch.override:
            ch = replace(ch, override=override)
        current = before if new is saved else real(pf, new, rounding)[0]  # one compile saved
        new = record(new, ch, current)
    after, report = real(pf, new, rounding)
    check(pf, before, after, saved, new, rounding)
    over = crossed(after, new, limits)
    if over and not override:
        t = over[0]
        raise ChangeRefused(f"refused: cumulative {t.text()}. To go ahead anyway, record it with"
                            " --override 'NAME: why' (kept in the plan as an override of this limit)",
                            f"lifetime-limit:{t.drug}", t.limit.source if t.limit else None, True)
    if over:
        if not (by or "").strip():
            raise PlanError("an override needs the person recording it (--by)")
        new = new.model_copy(update={"overrides": (*new.overrides, *(
            PlanOverride.model_validate(dict(rule=f"lifetime-limit:{t.drug}", name=override, by=by.strip()))
            for t in over))})
    lines = sheet_lines(after, new, limits)
    after = replace(after, warnings=(*after.warnings, *lines))
    return Outcome(new, before, after, diff(before, after), report, tuple(after.warnings),
                   report.minus(before_report))


def describe(changes: list[Change]) -> str:
    """A one-line summary of the changes for the plan's history (reason and person are kept
    beside it, in their own fields)."""
    parts = []
    for c in changes:
        if isinstance(c, Move):
            at = f" {c.at}" if c.at else ""
            ov = f", override: {c.override}" if c.override else ""
            parts.append(f"move {c.target} to {c.to.isoformat()}{at} (mode {c.mode}{ov})")
        elif isinstance(c, Cease):
            parts.append(f"cease {c.drug or 'treatment'} from {c.from_date.isoformat()} ({c.why})")
        elif isinstance(c, Resume):
            parts.append(f"resume {c.target} on {c.on.isoformat()}")
        elif isinstance(c, Administered):
            if c.given:
                dose = f" {format_dose(c.dose, c.unit)}" if c.dose is not None and c.unit else ""
                chk = f", checked by {c.checked_by}" if c.checked_by else ""
                parts.append(f"given {c.target} at {c.at:%Y-%m-%d %H:%M}{dose}{chk}")
            else:
                parts.append(f"not given {c.target}")
        elif isinstance(c, Prior):
            parts.append(f"prior exposure {c.drug} {format_number(c.amount)} {c.unit} ({c.source})")
    return "; ".join(parts)
