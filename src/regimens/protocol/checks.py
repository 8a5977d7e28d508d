"""Cross-field rules of a protocol, checked after the schema. Each returns (path, message) pairs
so the loader can point at the line; all problems are collected, none stops the others."""

from __future__ import annotations

from collections.abc import Iterator

from regimens.protocol import units
from regimens.protocol.daysets import parse_cycle_filter, parse_days, parse_duration
from regimens.protocol.model import Branch, Course, Item, Protocol, source_key

Problem = tuple[tuple, str]
_PROBE_CYCLES = range(1, 61)  # enough displayed cycle numbers to compare filters
MAX_EVENTS = 20_000
"""Events one arm's timeline may hold (docs/protocol-format.md "Limits"); the longest shipped
arm is estimated at about 2,600. Estimated from the file, so an oversized schedule is refused at once."""


def check_protocol(p: Protocol) -> list[Problem]:
    problems: list[Problem] = []
    for check in (_sources, _decisions, _courses, _phases, _arms):
        problems.extend(check(p))
    if not problems:
        problems.extend(_size(p))
    return problems


def _course_events(c: Course) -> int:
    n = 2  # the course's own phase/gate/rest events
    for item in c.items:
        days = len(_course_days(c, item)) if item.days else c.length_days or 1
        n += item.doses if item.doses else days * (item.times_per_day or 1)
    return n


def _cycles_of(p: Protocol, cycles: int | str) -> int:
    if isinstance(cycles, int):
        return cycles
    d = p.decisions.get(cycles)
    return max((int(c.value) for c in d.choices), default=1) if d else 1


def _element_events(p: Protocol, eid: str) -> int:
    if eid in p.courses:
        return _course_events(p.courses[eid])
    ph = p.phases.get(eid)
    if ph is None:
        return 0
    n = _cycles_of(p, ph.cycles)
    return sum(_course_events(p.courses[ph.pattern[k % len(ph.pattern)]]) for k in range(n)
               if ph.pattern[k % len(ph.pattern)] in p.courses)


def _size(p: Protocol) -> Iterator[Problem]:
    """An upper estimate of each arm's events, against MAX_EVENTS."""
    for i, arm in enumerate(p.arms):
        total = 0
        for step in list(p.common if arm.common else ()) + list(arm.sequence):
            if isinstance(step, Branch):
                total += max((sum(_element_events(p, e) for e in ids) for ids in step.options.values()), default=0)
            else:
                total += _element_events(p, step)
        if total > MAX_EVENTS:
            yield ("arms", i), (f"arm {arm.label} would have about {total:,} events, more than the {MAX_EVENTS:,}"
                                " a timeline may hold; check the phases' cycles and the items' days")


def _sources(p: Protocol) -> Iterator[Problem]:
    keys = [s.key for s in p.sources]
    seen: set[str] = set()
    for i, k in enumerate(keys):
        if k in seen:
            yield ("sources", i, "key"), f"duplicate source key {k!r}"
        seen.add(k)

    def need(path: tuple, ref: str | None) -> Iterator[Problem]:
        if ref is not None and source_key(ref) not in seen:
            yield path, f"unknown source {source_key(ref)!r}; add it under `sources` or use one of: {', '.join(keys)}"

    for i, a in enumerate(p.ambiguities):
        for j, ref in enumerate(a.sources):
            yield from need(("ambiguities", i, "sources", j), ref)
    for name, d in p.decisions.items():
        yield from need(("decisions", name, "source"), d.source)
        for j, ch in enumerate(d.choices):
            yield from need(("decisions", name, "choices", j, "implies_source"), ch.implies_source)
    for cid, c in p.courses.items():
        yield from need(("courses", cid, "length_source"), c.length_source)
        yield from need(("courses", cid, "next_start_early_source"), c.next_start_early_source)
        for k, item in enumerate(c.items):
            yield from need(("courses", cid, "items", k, "source"), item.source)
            if item.dose:
                for b, band in enumerate(item.dose.bands):
                    yield from need(("courses", cid, "items", k, "dose", "bands", b, "source"), band.source)
    for pid, ph in p.phases.items():
        yield from need(("phases", pid, "source"), ph.source)
    for i, arm in enumerate(p.arms):
        yield from need(("arms", i, "source"), arm.source)
    ids: set[str] = set()
    for i, lim in enumerate(p.eligibility):
        yield from need(("eligibility", i, "source"), lim.source)
        if lim.id in ids:
            yield ("eligibility", i, "id"), f"duplicate eligibility id {lim.id!r}"
        ids.add(lim.id)


def _decisions(p: Protocol) -> Iterator[Problem]:
    for name, d in p.decisions.items():
        for j, ch in enumerate(d.choices):
            for other, value in ch.implies.items():
                path = ("decisions", name, "choices", j, "implies", other)
                target = p.decisions.get(other)
                if other == name or target is None:
                    yield path, f"`implies` names {other!r}, which is not another decision of this protocol"
                elif value not in {c.value for c in target.choices}:
                    yield path, f"{value!r} is not a choice of {other!r} ({', '.join(c.value for c in target.choices)})"
    for cid, c in p.courses.items():
        for k, item in enumerate(c.items):
            for name, wanted in item.when.items():
                path = ("courses", cid, "items", k, "when", name)
                d = p.decisions.get(name)
                if d is None:
                    yield path, f"unknown decision {name!r}; declare it under `decisions`"
                    continue
                values = {ch.value for ch in d.choices}
                for w in (wanted,) if isinstance(wanted, str) else wanted:
                    if w not in values:
                        yield path, f"{w!r} is not a choice of {name!r} ({', '.join(sorted(values))})"


def _course_days(c: Course, item: Item) -> tuple[int, ...]:
    if item.days is None:
        return ()
    days = parse_days(item.days)
    if item.every_days:
        days = tuple(d for d in days if (d - days[0]) % item.every_days == 0)
    return days


def _courses(p: Protocol) -> Iterator[Problem]:
    for cid, c in p.courses.items():
        base = ("courses", cid)
        if not c.items and not (c.content_not_public or c.terminal):
            yield base + ("items",), "course has no items; list them or set `content_not_public: true`"
        if c.rest_days and c.length_days:
            if max(parse_days(c.rest_days)) > c.length_days:
                yield base + ("rest_days",), f"rest days run past the course length of {c.length_days} days"
        drugs = {i.drug for i in c.items if i.drug}
        for k, item in enumerate(c.items):
            path = base + ("items", k)
            if item.premedication and item.premedication.for_drug not in drugs:
                yield path + ("premedication", "for_drug"), (
                    f"{item.premedication.for_drug!r} is not given in this course"
                )
            days = _course_days(c, item)
            if not days:
                continue
            last = max(days)
            if item.window:
                wdays = parse_days(item.window)
                if days[0] not in wdays or len(days) != 1:
                    yield path + ("window",), "a window item has one day in `days`, and that day is in the window"
                last = max(last, max(wdays))
            if c.length_days and last > c.length_days and not item.beyond_cycle:
                yield path + ("days",), (
                    f"day {last} is beyond the course length of {c.length_days} days;"
                    " fix the day or set `beyond_cycle: true` if the source places it after the cycle"
                )
            if item.every_hours and item.doses:
                span_hours = (item.doses - 1) * item.every_hours
                if span_hours >= len(days) * 24 or span_hours < (len(days) - 1) * 24:
                    yield path + ("doses",), (
                        f"{item.doses} doses every {item.every_hours} h do not fit days {item.days}"
                    )
            if item.continuous and item.over and len(days) != 1:
                yield path + ("over",), (
                    "a continuous infusion with `over` starts on one listed day and runs that long;"
                    " list one day, or remove `over` to run over the listed days"
                )
            if item.over and item.event:
                yield path + ("over",), "`over` is for administrations"
            if item.over and parse_duration(item.over) > 7 * 1440:
                yield path + ("over",), "an infusion over more than 7 days: use `continuous: true`"
            if item.dose and item.dose.cap is not None and item.dose.value is not None:
                u = units.lookup(item.dose.unit)
                if u.basis is units.Basis.FLAT and item.dose.cap < item.dose.value:
                    yield path + ("dose", "cap"), "cap is below the dose"
        yield from _overlapping_steps(base, c)


def _overlapping_steps(base: tuple, c: Course) -> Iterator[Problem]:
    """Two continuous infusions of one drug on the same day in the same cycle would double-dose."""
    cont = [(k, i) for k, i in enumerate(c.items) if i.continuous and i.drug]
    for a in range(len(cont)):
        for b in range(a + 1, len(cont)):
            ka, ia = cont[a]
            kb, ib = cont[b]
            if ia.drug != ib.drug or not _may_coexist(ia, ib):
                continue
            fa, fb = parse_cycle_filter(ia.cycles), parse_cycle_filter(ib.cycles)
            if not any(fa(n) and fb(n) for n in _PROBE_CYCLES):
                continue
            common = set(_course_days(c, ia)) & set(_course_days(c, ib))
            if common:
                yield base + ("items", kb, "days"), (
                    f"{ib.drug} infusion overlaps item {ka} on day {min(common)};"
                    " step doses must follow each other (1-7 then 8-28)"
                )


def _may_coexist(a: Item, b: Item) -> bool:
    for name in set(a.when) & set(b.when):
        va = {a.when[name]} if isinstance(a.when[name], str) else set(a.when[name])
        vb = {b.when[name]} if isinstance(b.when[name], str) else set(b.when[name])
        if not va & vb:
            return False
    return True


def _phases(p: Protocol) -> Iterator[Problem]:
    for pid, ph in p.phases.items():
        base = ("phases", pid)
        if pid in p.courses:
            yield base, f"id {pid!r} names both a phase and a course; ids must be unique"
        for j, cid in enumerate(ph.pattern):
            if cid in p.phases:
                # Patterns hold courses only, which is what keeps an arm from looping back on itself.
                yield base + ("pattern", j), (
                    f"{cid!r} is a phase; a pattern lists courses ({', '.join(p.courses)}),"
                    " so a phase cannot contain or repeat a phase"
                )
            elif cid not in p.courses:
                yield base + ("pattern", j), f"unknown course {cid!r}; courses are: {', '.join(p.courses)}"
        if isinstance(ph.cycles, str):
            d = p.decisions.get(ph.cycles)
            if d is None or d.kind != "count":
                yield base + ("cycles",), f"{ph.cycles!r} is not a `count` decision; give a number or declare one"
        elif ph.cycles < 1:
            yield base + ("cycles",), "a phase has at least one cycle"


def _arms(p: Protocol) -> Iterator[Problem]:
    elements = set(p.courses) | set(p.phases)
    labels: set[str] = set()

    def elem(path: tuple, eid: str) -> Iterator[Problem]:
        if eid not in elements:
            yield path, f"unknown element {eid!r}; name a phase or course of this file"

    for j, eid in enumerate(p.common):
        yield from elem(("common", j), eid)
    for i, arm in enumerate(p.arms):
        base = ("arms", i)
        if arm.label in labels:
            yield base + ("label",), f"duplicate arm label {arm.label!r}"
        labels.add(arm.label)
        seq = list(p.common if arm.common else ()) + list(arm.sequence)
        if not seq:
            yield base + ("sequence",), "arm has no elements"
        for j, step in enumerate(arm.sequence):
            path = base + ("sequence", j)
            if isinstance(step, Branch):
                d = p.decisions.get(step.decision)
                if d is None:
                    yield path + ("decision",), f"unknown decision {step.decision!r}"
                    continue
                values = {c.value for c in d.choices}
                if set(step.options) != values:
                    yield path + ("options",), (
                        f"options must cover exactly the choices of {step.decision!r}: {', '.join(sorted(values))}"
                    )
                for v, ids in step.options.items():
                    for k, eid in enumerate(ids):
                        yield from elem(path + ("options", v, k), eid)
            else:
                yield from elem(path, step)
        # a terminal course (HSCT) must end the sequence
        flat = [s for s in seq if isinstance(s, str)]
        for j, eid in enumerate(flat[:-1]):
            c = p.courses.get(eid)
            if c is not None and c.terminal:
                yield base + ("sequence",), f"{eid!r} is terminal but is followed by other elements"
    if p.default_arm is not None and p.default_arm not in labels:
        yield ("default_arm",), f"default_arm {p.default_arm!r} is not an arm label"
