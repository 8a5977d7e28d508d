"""Select the arm and expand it into cycles: arm label, decisions and choices → ordered
element ids → one slot per cycle (course per cycle from the pattern), before any date."""

from __future__ import annotations

from dataclasses import dataclass

from regimens.errors import RequestError
from regimens.protocol.model import Branch, Course, Protocol


@dataclass(frozen=True)
class _Slot:
    """A cycle before it has a date."""

    phase_id: str
    phase: str
    course_id: str
    course: Course
    cycle: int
    cycle_id: str



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
    used = _used_decisions(p, arm)
    implied = _implied(p, used, given)
    out: dict[str, str] = {}
    for name in used:
        d = p.decisions[name]
        value = given.get(name, implied.get(name, (None, d.default))[1])
        if value is None:
            values = ", ".join(c.value for c in d.choices)
            raise RequestError(
                f"{p.id} needs a decision on {name!r} ({d.label}): give --choose {name}=VALUE"
                f" with one of {values}"
            )
        out[name] = value
    return out


def _implied(p: Protocol, used: list[str], given: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Decisions settled by another choice (`implies`): name -> (what implies it, value). A value
    given for an implied decision must agree; two choices must not imply different values."""
    out: dict[str, tuple[str, str]] = {}
    for name in used:
        d = p.decisions[name]
        value = given.get(name, d.default)
        choice = next((c for c in d.choices if c.value == value), None)
        if choice is None:
            continue
        for other, wanted in choice.implies.items():
            if other not in used:
                continue
            why = f"{name}={value}"
            if other in given and given[other] != wanted:
                raise RequestError(
                    f"--choose {why} implies {other}={wanted} ({choice.implies_source}), but"
                    f" {other}={given[other]} was given: give --choose {other}={wanted} or choose"
                    f" another {name}"
                )
            if other in out and out[other][1] != wanted:
                raise RequestError(
                    f"--choose {out[other][0]} and {why} imply different values of {other!r}"
                    f" ({out[other][1]} and {wanted}): change one of them"
                )
            out[other] = (why, wanted)
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
