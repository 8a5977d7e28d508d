"""Clinic closures: a site's closed days (bank holidays, named shutdowns, weekdays the day unit is
shut) and what happens to an event that falls on one, per kind of event:

    next-open-day   the event moves to the next open day (its premedication with it)
    move-cycle      the event, the rest of its cycle and every later cycle move by the same days
    keep-flag       the event stays and is listed for the team to decide
    keep            the event stays (doses taken at home; an inpatient ward that stays open)

Nothing is dropped silently: `ClosureReport` lists every event moved, every event kept and every
event a moving policy could not move (the next open day is outside its window or would overlap
the next cycle), and the preview prints all three.

Closure files are YAML (`format: regimens-closures/1`, docs/plans.md). `generate` makes one from
the maintained `holidays` library, so no list of dates is typed by hand.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from regimens.errors import PlanError
from regimens.notation.ismp import display_drug
from regimens.plans.records import CLOSURE_POLICIES, PlanClosures
from regimens.schedule.timeline import KIND_ADMINISTRATION, KIND_PHASE, KIND_PREMEDICATION, KIND_REST, Cycle, DoseEvent

FORMAT = "regimens-closures/1"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
POLICY_KEYS = ("cycle-start", "administration", "oral", "continuous", "inpatient", "lab", "visit", "assessment", "procedure",
               "hospitalization", "milestone", "default")
_FRAME = (KIND_PHASE, KIND_REST, "gate")
_MAX_LOOKAHEAD = 62  # a closure longer than two months is not a closure but a missing clinic


@dataclass(frozen=True)
class ClosureItem:
    uid: str
    title: str
    cycle_id: str
    day: int
    date: str
    closure: str
    policy: str
    new_date: str | None = None
    why: str | None = None


@dataclass(frozen=True)
class ClosureReport:
    moved: tuple[ClosureItem, ...] = ()
    kept: tuple[ClosureItem, ...] = ()
    """On a closed day and kept by the policy (keep-flag or keep)."""
    not_moved: tuple[ClosureItem, ...] = ()
    """A moving policy could not move it; `why` says which rule stopped it."""

    def minus(self, other: ClosureReport) -> ClosureReport:
        """What this report says that `other` (the plan before a change) did not."""
        def key(i: ClosureItem) -> tuple:
            return (i.uid, i.date, i.new_date, i.policy, i.why)

        seen = {key(i) for part in (other.moved, other.kept, other.not_moved) for i in part}
        return ClosureReport(*(tuple(i for i in part if key(i) not in seen)
                               for part in (self.moved, self.kept, self.not_moved)))

    def to_dict(self) -> dict:
        def clean(i: ClosureItem) -> dict:
            return {k: v for k, v in i.__dict__.items() if v is not None}

        return {"moved": [clean(i) for i in self.moved], "kept": [clean(i) for i in self.kept],
                "not_moved": [clean(i) for i in self.not_moved]}


# --- the file ------------------------------------------------------------------------------------


def load_closures(text: str, name: str) -> PlanClosures:
    import yaml  # here, not at the top: most runs never read or write this kind of file
    from pydantic import ValidationError  # the file is validated by plans/schema.py

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{name}: not a readable closures file ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanError(f"{name}: not a closures file (expected `format: {FORMAT}`);"
                        " make one with `regimens closures generate`")
    data = {k: v for k, v in data.items() if k != "format"}
    for key in data.get("policy") or {}:
        if key not in POLICY_KEYS:
            raise PlanError(f"{name}: policy {key!r} is not a kind of event; use {', '.join(POLICY_KEYS)}")
    data["content_hash"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        c = PlanClosures.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        hint = f" (one of {', '.join(CLOSURE_POLICIES)})" if "policy" in where else ""
        raise PlanError(f"{name}: {where}: {err['msg'].removeprefix('Value error, ')}{hint}") from None
    for p in c.periods:
        if p.end < p.start:
            raise PlanError(f"{name}: period {p.name!r} ends ({p.end}) before it starts ({p.start})")
    return c


SHIPPED = {"england-and-wales": "england-and-wales.yaml", "us-federal": "us-federal.yaml"}
"""Example closure files shipped in regimens/plans/data/closures/ (made by `generate`)."""


def shipped_text(name: str) -> str | None:
    from importlib import resources

    if name not in SHIPPED:
        return None
    return resources.files("regimens.plans").joinpath(f"data/closures/{SHIPPED[name]}").read_text(encoding="utf-8")


def read_named(ref: str) -> PlanClosures:
    """A closures file by path, or a shipped example by name (`england-and-wales`, `us-federal`)."""
    from pathlib import Path

    text = shipped_text(ref)
    if text is not None:
        return load_closures(text, f"shipped closures {ref}")
    try:
        text = Path(ref).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"closures file {ref!r} not found; give a path or a shipped name"
                        f" ({', '.join(SHIPPED)})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read closures file {ref!r}: {getattr(exc, 'strerror', None) or exc}") from None
    return load_closures(text, ref)


def generate(country: str, years: range, site: str, subdiv: str | None = None, made_by: str = "",
             closed_weekdays: tuple[str, ...] = (), policy: dict[str, str] | None = None) -> str:
    """A closures file of the public holidays of `country` (ISO 3166 code, `subdiv` for a region:
    GB + ENG gives England and Wales' bank holidays) for `years`, from the `holidays` library."""
    import holidays

    try:
        cal = holidays.country_holidays(country, subdiv=subdiv, years=list(years))
    except NotImplementedError:
        raise PlanError(f"the holidays library has no calendar for {country!r}"
                        + (f" subdivision {subdiv!r}" if subdiv else "")) from None
    days = [{"date": d.isoformat(), "name": n} for d, n in sorted(cal.items())]
    how = (made_by or f"regimens closures generate --country {country}"
           + (f" --subdiv {subdiv}" if subdiv else "") + f" --years {years.start}-{years.stop - 1}")
    data = {
        "format": FORMAT,
        "site": site,
        "made_by": f"{how} (python `holidays` {holidays.__version__}, public holidays of {country}"
                   + (f"-{subdiv}" if subdiv else "") + "); not typed by hand",
        "closed_weekdays": list(closed_weekdays),
        "policy": policy or dict(DEFAULT_POLICY),
        "dates": days,
        "periods": [],
    }
    import yaml

    head = ("# Site closures for regimens (docs/plans.md). Generated: edit `policy`, add `periods`\n"
            "# (named shutdowns) or `closed_weekdays` for your unit; regenerate rather than hand-edit dates.\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


DEFAULT_POLICY = {
    "cycle-start": "move-cycle", "administration": "next-open-day", "continuous": "next-open-day", "oral": "keep",
    "inpatient": "keep",
    "hospitalization": "keep", "lab": "keep-flag", "visit": "next-open-day", "procedure": "next-open-day",
    "assessment": "keep-flag", "milestone": "keep", "default": "keep-flag",
}


# --- on the calendar -------------------------------------------------------------------------------


def closure_on(c: PlanClosures, d: date) -> str | None:
    """The name of the closure on `d`, or None when the clinic is open."""
    for x in c.dates:
        if x.date == d:
            return x.name
    for p in c.periods:
        if p.start <= d <= p.end:
            return p.name
    if WEEKDAYS[d.weekday()] in c.closed_weekdays:
        return f"{WEEKDAYS[d.weekday()].capitalize()} (unit closed)"
    return None


def next_open(c: PlanClosures, d: date) -> date | None:
    for k in range(1, _MAX_LOOKAHEAD + 1):
        if closure_on(c, d + timedelta(days=k)) is None:
            return d + timedelta(days=k)
    return None


def policy_for(c: PlanClosures, e: DoseEvent, inpatient: bool) -> str:
    if e.day == 1 and "cycle-start" in c.policy and e.kind not in _FRAME and not inpatient and e.route != "PO":
        return c.policy["cycle-start"]
    if e.kind in (KIND_ADMINISTRATION, KIND_PREMEDICATION):
        if inpatient:
            key = "inpatient"
        elif e.continuous:
            key = "continuous"
        elif e.route == "PO":
            key = "oral"
        else:
            key = "administration"
        fallbacks = (key, "administration", "default") if key != "oral" else ("oral", "default")
    else:
        fallbacks = (e.kind, "default")
    for k in fallbacks:
        if k in c.policy:
            return c.policy[k]
    return "keep-flag"


def _window_days(e: DoseEvent) -> tuple[int, ...] | None:
    if not e.window:
        return None
    nums = [int(x) for x in re.findall(r"\d+", e.window)]
    return tuple(range(nums[0], nums[-1] + 1)) if nums else None


def _start(e: DoseEvent) -> datetime:
    return datetime.combine(e.date, e.time or time())


def _shift_days(e: DoseEvent, days: int, note: str) -> DoseEvent:
    d = timedelta(days=days)
    return e.with_(date=e.date + d, end_date=e.end_date + d, note=note + (f"; {e.note}" if e.note else ""))


@dataclass
class _State:
    events: list[DoseEvent]
    cycles: list[Cycle]
    moved: list[ClosureItem] = field(default_factory=list)
    kept: list[ClosureItem] = field(default_factory=list)
    not_moved: list[ClosureItem] = field(default_factory=list)


def apply_closures(events: list[DoseEvent], cycles: list[Cycle], c: PlanClosures, fixed: frozenset[str]
                   ) -> tuple[list[DoseEvent], list[Cycle], ClosureReport]:
    """Apply the site's closures. `fixed` uids (recorded administrations, moves with an override)
    never move."""
    st = _State(sorted(events, key=_start), list(cycles))
    i = 0
    while i < len(st.events):
        e = st.events[i]
        name = closure_on(c, e.date)
        if name is None or e.kind in _FRAME or e.uid in fixed or e.status not in ("planned", "held"):
            i += 1
            continue
        if e.kind == KIND_PREMEDICATION:
            drug = next((x for x in st.events if x.date == e.date and x.drug == e.premed_for
                         and x.kind == KIND_ADMINISTRATION), None)
            policy = policy_for(c, drug, _inpatient(st.events, drug)) if drug else policy_for(c, e, False)
        else:
            policy = policy_for(c, e, _inpatient(st.events, e))
        item = ClosureItem(e.uid, e.title, e.cycle_id, e.day, e.date.isoformat(), name, policy)
        if policy in ("keep", "keep-flag"):
            st.kept.append(item)
            i += 1
            continue
        to = next_open(c, e.date)
        why = _cannot(st, e, to)
        if why is None and policy == "next-open-day":
            why = _series_clash(st.events, e, to)
        if why is not None:
            st.not_moved.append(_with(item, why=why))
            i += 1
            continue
        days = (to - e.date).days
        note = f"moved from {e.date.isoformat()} ({name}: clinic closed, {c.site})"
        if policy == "next-open-day":
            st.events[i] = _shift_days(e, days, note)
            st.moved.append(_with(item, new_date=to.isoformat()))
        else:  # move-cycle: this event, the rest of its cycle and every later cycle
            later = {x.cycle_id for x in st.cycles if x.start > e.date}
            carried = 0
            for j in range(len(st.events)):  # by date: a dose earlier the same day moves too
                x = st.events[j]
                if x.uid in fixed or (x.kind == KIND_PHASE and x.cycle_id not in later):
                    continue
                if (x.cycle_id == e.cycle_id and x.date >= e.date) or x.cycle_id in later:
                    st.events[j] = _shift_days(x, days, note if x.uid == e.uid else
                                               f"moved by {days} day(s) with {e.cycle_id} ({name}: clinic closed)")
                    carried += x.kind not in _FRAME and x.uid != e.uid
            st.moved.append(_with(item, new_date=to.isoformat(),
                                  why=f"with it {carried} later events of {e.cycle_id} and the cycles after it"
                                      f" move by {days} day(s)"))
            first_day = next((x for x in st.cycles if x.cycle_id == e.cycle_id and x.start == e.date), None)
            moving = later | ({first_day.cycle_id} if first_day else set())
            st.cycles = [replace(x, start=x.start + timedelta(days=days)) if x.cycle_id in moving else x
                         for x in st.cycles]
            if first_day:
                st.events = [_shift_days(x, days, note) if (x.kind == KIND_PHASE and x.cycle_id == e.cycle_id) else x
                             for x in st.events]
        st.events[i + 1:] = sorted(st.events[i + 1:], key=_start)
        i += 1
    final = {e.uid: e.date.isoformat() for e in st.events}
    kept = [k for k in st.kept if final.get(k.uid) == k.date]  # a kept dose a later cycle move carried along
    report = ClosureReport(tuple(st.moved), tuple(kept), tuple(st.not_moved))
    return st.events, st.cycles, report


def _with(item: ClosureItem, **kw) -> ClosureItem:
    return ClosureItem(**{**item.__dict__, **kw})


def _series_clash(events: list[DoseEvent], e: DoseEvent, to: date) -> str | None:
    """Moving one timed dose of a series (q12h × 6) alone would put it on or past the next dose."""
    if not (e.time and e.doses_total and e.doses_total > 1):
        return None
    for x in events:
        if (x.uid != e.uid and x.cycle_id == e.cycle_id and x.title == e.title and x.route == e.route
                and x.doses_total == e.doses_total and e.date < x.date <= to):
            return (f"dose {e.dose_number} of {e.doses_total} of a timed series; moving it alone to {to.isoformat()}"
                    f" would put it with dose {x.dose_number}: use policy move-cycle or move the series by hand")
    return None


def _inpatient(events: list[DoseEvent], e: DoseEvent) -> bool:
    return any(x.kind == "hospitalization" and x.cycle_id == e.cycle_id and x.date <= e.date <= x.end_date
               for x in events)


def _cannot(st: _State, e: DoseEvent, to: date | None) -> str | None:
    if to is None:
        return f"no open day within {_MAX_LOOKAHEAD} days"
    cyc = next((x for x in st.cycles if x.cycle_id == e.cycle_id), None)
    win = _window_days(e)
    if cyc is not None and win is not None:
        day = (to - cyc.start).days + 1
        if day not in win:
            return f"the next open day {to.isoformat()} is day {day}, outside its {e.window}"
    idx = next((k for k, x in enumerate(st.cycles) if x.cycle_id == e.cycle_id), None)
    if idx is not None and idx + 1 < len(st.cycles):
        nxt = st.cycles[idx + 1]
        if to >= nxt.start > e.date:
            return (f"the next open day {to.isoformat()} is on or after day 1 of {nxt.cycle_id} ({nxt.start}):"
                    " the cycles would overlap")
    return None


def report_lines(r: ClosureReport, detail: bool = False) -> list[str]:
    """The closure part of a preview: every event moved, every one not moved and every one kept
    and flagged, one line each; events kept by policy `keep` (doses taken at home, an inpatient
    ward) are counted, and listed with `detail`. Tall-man lettering: a staff output."""
    r = ClosureReport(*(tuple(_with(i, title=display_drug(i.title)) for i in part)
                        for part in (r.moved, r.kept, r.not_moved)))
    lines: list[str] = []
    if r.moved:
        lines.append(f"Closures moved ({len(r.moved)}):")
        lines += [f"  {i.cycle_id} day {i.day:<3} {i.title}: {i.date} → {i.new_date} ({i.closure}, {i.policy})"
                  + (f"; {i.why}" if i.why else "") for i in r.moved]
    if r.not_moved:
        lines.append(f"Closures could NOT move ({len(r.not_moved)}; the team must decide):")
        lines += [f"  {i.cycle_id} day {i.day:<3} {i.title}: {i.date} ({i.closure}): {i.why}" for i in r.not_moved]
    flagged = [i for i in r.kept if i.policy == "keep-flag"]
    if flagged:
        lines.append(f"Closures kept and flagged ({len(flagged)}; check each one):")
        lines += [f"  {i.cycle_id} day {i.day:<3} {i.title}: {i.date} ({i.closure})" for i in flagged]
    kept = [i for i in r.kept if i.policy == "keep"]
    if kept and detail:
        lines.append(f"Closures kept by policy keep ({len(kept)}):")
        lines += [f"  {i.cycle_id} day {i.day:<3} {i.title}: {i.date} ({i.closure})" for i in kept]
    elif kept:
        days = len({i.date for i in kept})
        lines.append(f"Closures kept by policy keep: {len(kept)} event{'s' * (len(kept) != 1)} on {days} closed"
                     f" day{'s' * (days != 1)} (taken at home or on the ward; --detail lists them)")
    return lines
