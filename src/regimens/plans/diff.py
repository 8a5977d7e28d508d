"""What a change to a plan does to the calendar, before it is written: events matched by uid
(uids are stable across delays), each reported as moved (by how many days), kept, changed in
status or dose, added or removed. Used by `regimens plan preview` and `plan record`."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, time
from typing import Any

from regimens.notation.ismp import display_drug, format_dose, ismp_clean
from regimens.schedule.timeline import DoseEvent, Timeline


@dataclass(frozen=True)
class Item:
    uid: str
    title: str
    kind: str
    cycle_id: str
    day: int
    date: str
    new_date: str | None = None
    shift_days: int | None = None
    time: str | None = None
    new_time: str | None = None
    status: str | None = None
    new_status: str | None = None
    dose: str | None = None
    new_dose: str | None = None


_ITEM_FIELDS = tuple(f.name for f in fields(Item))


@dataclass(frozen=True)
class Preview:
    moved: tuple[Item, ...]
    stays: tuple[Item, ...]
    status_changed: tuple[Item, ...]
    dose_changed: tuple[Item, ...]
    added: tuple[Item, ...]
    removed: tuple[Item, ...]

    @property
    def changes_anything(self) -> bool:
        return any((self.moved, self.status_changed, self.dose_changed, self.added, self.removed))

    def moved_by_cycle(self) -> list[dict[str, Any]]:
        """The moves summarised per cycle and shift: first..last date before and after, and how
        many events (a delay of a long protocol moves thousands; this reads in a screen)."""
        groups: dict[tuple[str, int | None], list[Item]] = {}
        for i in self.moved:
            groups.setdefault((i.cycle_id, i.shift_days), []).append(i)
        out = []
        for (cid, shift), items in groups.items():
            old = sorted(i.date for i in items)
            new = sorted(i.new_date for i in items)
            out.append({"cycle_id": cid, "shift_days": shift, "first": old[0], "last": old[-1],
                        "new_first": new[0], "new_last": new[-1], "count": len(items)})
        return out

    def to_dict(self) -> dict[str, Any]:
        def clean(i: Item) -> dict:
            # the fields by name, not dataclasses.asdict: its recursive deep copy was most of the
            # cost of a preview of a long protocol (thousands of items, all plain values)
            return {k: v for k in _ITEM_FIELDS if (v := getattr(i, k)) is not None}

        return {
            "moved": [clean(i) for i in self.moved],
            "stays": [clean(i) for i in self.stays],
            "status_changed": [clean(i) for i in self.status_changed],
            "dose_changed": [clean(i) for i in self.dose_changed],
            "added": [clean(i) for i in self.added],
            "removed": [clean(i) for i in self.removed],
            "summary": {"moved": len(self.moved), "stays": len(self.stays),
                        "status_changed": len(self.status_changed),
                        "dose_changed": len(self.dose_changed), "added": len(self.added),
                        "removed": len(self.removed)},
        }


def _dose(e: DoseEvent) -> str | None:
    if e.patient_dose is None:
        return None
    return format_dose(e.patient_dose, e.patient_unit)


def _t(t: time | None) -> str | None:
    return t.strftime("%H:%M") if t else None


def _item(e: DoseEvent, **kw: Any) -> Item:
    title = display_drug(e.title) if e.drug else e.title
    return Item(e.uid, title, e.kind, e.cycle_id, e.day, e.date.isoformat(), time=_t(e.time), **kw)


def diff(old: Timeline, new: Timeline) -> Preview:
    before = {e.uid: e for e in old.events}
    after = {e.uid: e for e in new.events}
    moved, stays, status, dose, added, removed = [], [], [], [], [], []
    for uid, a in before.items():
        b = after.get(uid)
        if b is None:
            removed.append(_item(a))
            continue
        start_a = datetime.combine(a.date, a.time or time())
        start_b = datetime.combine(b.date, b.time or time())
        if start_a != start_b:
            moved.append(_item(a, new_date=b.date.isoformat(), shift_days=(b.date - a.date).days,
                               new_time=_t(b.time) if b.time != a.time else None))
        else:
            stays.append(_item(a))
        if (a.status, a.status_reason) != (b.status, b.status_reason):
            status.append(_item(a, status=a.status, new_status=b.status + (f" ({b.status_reason})" if b.status_reason else "")))
        if (a.patient_dose, a.patient_unit) != (b.patient_dose, b.patient_unit) and _dose(a) != _dose(b):
            dose.append(_item(a, dose=_dose(a) or "not calculated", new_dose=_dose(b) or "not calculated"))
    added = [_item(e) for uid, e in after.items() if uid not in before]
    return Preview(tuple(moved), tuple(stays), tuple(status), tuple(dose), tuple(added), tuple(removed))


def _line(i: Item, what: str) -> str:
    return f"  {what:<28} {i.cycle_id} day {i.day:<3} {i.title}"


def to_text(p: Preview, heading: str, detail: bool = False) -> bytes:
    """Moves are summarised per cycle (first and last date, shift, count) so a delay of a long
    protocol reads in a screen; `detail` lists every event."""
    lines = [heading, ""]
    if not p.changes_anything:
        lines.append("Nothing changes: every event keeps its date, status and dose.")
    if p.moved and detail:
        lines.append(f"Moves ({len(p.moved)} events):")
        for i in p.moved:
            shift = f"{i.shift_days:+d} days" if i.shift_days else "same day"
            when = f"{i.date} → {i.new_date}" + (f" {i.new_time}" if i.new_time else "")
            lines.append(_line(i, f"{shift:>9}  {when}"))
    elif p.moved:
        lines.append(f"Moves ({len(p.moved)} events; --detail lists each one):")
        for g in p.moved_by_cycle():
            shift = g["shift_days"]
            moved = f"{shift:+d} days" if shift else "same day (time changes)"
            lines.append(f"  {g['cycle_id']:<22} {moved:>9}  {g['first']}..{g['last']} → {g['new_first']}..{g['new_last']}"
                         f"  ({g['count']} events)")
    if p.status_changed:
        lines.append(f"Status changes ({len(p.status_changed)}):")
        lines.extend(_line(i, f"{i.date} {i.status} → {i.new_status}") for i in p.status_changed)
    if p.dose_changed:
        lines.append(f"Dose changes ({len(p.dose_changed)}):")
        lines.extend(_line(i, f"{i.date} {i.dose} → {i.new_dose}") for i in p.dose_changed)
    if p.added:
        lines.append(f"Added ({len(p.added)}):")
        lines.extend(_line(i, i.date) for i in p.added)
    if p.removed:
        lines.append(f"Removed ({len(p.removed)}):")
        lines.extend(_line(i, i.date) for i in p.removed)
    if p.stays:
        lines.append(f"Stays ({len(p.stays)} events keep their date):")
        by_cycle: dict[str, list[Item]] = {}
        for i in p.stays:
            by_cycle.setdefault(i.cycle_id, []).append(i)
        for cid, items in by_cycle.items():
            dates = sorted(i.date for i in items)
            span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
            lines.append(f"  {cid}: {len(items)} events, {span}")
    return (ismp_clean("\n".join(lines)) + "\n").encode("utf-8")


def to_json(p: Preview, header: dict[str, Any]) -> bytes:
    data = {"preview": header, **p.to_dict()}
    return (ismp_clean(json.dumps(data, indent=2, ensure_ascii=False)) + "\n").encode("utf-8")
