"""What a plan file stores about treatment as it really happened: moved doses and days, ceased
drugs, recorded administrations (given or not given), prior exposure and the site closures in
force. Plain frozen records; what each one does to the timeline is in plans/changes.py.

The plan file's rules (types, lengths, patterns, the `from` alias) are the pydantic models of the
same names in plans/schema.py, used only where a plan file, a closures file or a recorded change
is validated: a run without a plan file never imports pydantic (its import was 71-75 ms of CPU of
every `regimens ics`). tests/plans/test_plan_schema.py keeps the two sets of fields equal.

Every record carries its reason and the person who recorded it: they are the plan's audit trail
(`plan show --history`) as much as the history lines.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from regimens.protocol.model import Record

MoveMode = Literal["dose", "cycle", "later"]
"""dose: only the dose or day named; cycle: it and the rest of its cycle; later: it and
everything after it (later cycles carried forward)."""

MOVE_MODES: tuple[str, ...] = ("dose", "cycle", "later")

CeaseWhy = Literal["completed", "toxicity", "progression", "patient-choice", "transfer", "other"]
CEASE_WHY: tuple[str, ...] = ("completed", "toxicity", "progression", "patient-choice", "transfer", "other")

_SELECTOR = re.compile(r"^(?P<cycle>[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*?\.c\d+)(?:\.d|:)(?P<day>\d+)"
                       r"(?:[.:](?P<drug>[a-z][a-z0-9 -]*?))?(?:#(?P<n>\d+))?$")


def parse_selector(text: str) -> tuple[str, int, str | None, int | None] | None:
    """`intensive.c2.d8`, `intensive.c2:8`, `intensive.c2:8:vincristine`, `main.c1:1:cyclophosphamide#2`
    → (cycle id, day, drug or None, dose number or None); None for anything else (a uid)."""
    m = _SELECTOR.match(text.strip())
    if not m:
        return None
    return m["cycle"], int(m["day"]), m["drug"], int(m["n"]) if m["n"] else None


class PlanRecord(Record):
    """A plain plan record that also answers the pydantic calls the plan's users make (the
    commands, the clinic service): `model_copy(update=...)` copies without validating, as
    pydantic's does; `model_dump` and `model_dump_json` are the schema model's own (plans/schema.py),
    so a plan file and the service's content keys are written by pydantic exactly as before;
    `model_validate` validates with the schema and returns the plain record."""

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        if update and not update.keys() <= set(self.FIELDS):
            raise TypeError(f"{type(self).__name__} has no field {next(k for k in update if k not in self.FIELDS)!r}")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        if update:
            new.__dict__.update(update)
        return new

    def model_dump(self, **options: Any) -> dict[str, Any]:
        from regimens.plans import schema

        return schema.as_schema(self).model_dump(**options)

    def model_dump_json(self, **options: Any) -> str:
        from regimens.plans import schema

        return schema.as_schema(self).model_dump_json(**options)

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """The record validated by its schema model; raises pydantic's ValidationError."""
        from regimens.plans import schema

        return schema.to_plain(getattr(schema, cls.__name__).model_validate(data))


class PlanMove(PlanRecord):
    target: str
    """A uid or `CYCLE_ID:DAY[:DRUG][#N]` (also written `CYCLE_ID.dDAY`)."""
    to: date
    at: str | None = None
    """New clock time of the first targeted dose; None keeps each dose's time."""
    mode: MoveMode = "dose"
    reason: str
    by: str
    override: str | None = None
    """Named override of a protocol rule the move breaks (who and why), or None."""


class PlanCease(PlanRecord):
    drug: str | None = None
    """None: the whole treatment."""
    from_date: date
    why: CeaseWhy
    reason: str
    by: str


class PlanAdministration(PlanRecord):
    """A dose as the nurse recorded it: given (when, how much, by whom, second checker) or not."""

    uid: str
    given: bool = True
    at: datetime | None = None
    dose: float | None = None
    unit: str | None = None
    by: str
    checked_by: str | None = None
    reason: str | None = None
    """Why it was not given (required then), or a remark."""


class PriorExposure(PlanRecord):
    """Dose received before this plan (an earlier regimen), entered for the cumulative total."""

    drug: str
    """Generic name, or `doxorubicin-equivalent` for an anthracycline total already converted."""
    amount: float
    unit: Literal["mg", "mg/m2", "units", "units/m2"]
    source: str
    """Where the figure comes from (discharge letter, earlier plan) and, for a converted
    anthracycline total, the source of the conversion factor used."""
    by: str


class ClosureDay(PlanRecord):
    date: date
    name: str


class ClosurePeriod(PlanRecord):
    start: date
    end: date
    name: str


ClosurePolicy = Literal["next-open-day", "move-cycle", "keep-flag", "keep"]
CLOSURE_POLICIES: tuple[str, ...] = ("next-open-day", "move-cycle", "keep-flag", "keep")


class PlanClosures(PlanRecord):
    """A site's closed days as loaded into the plan (plans/closures.py reads the site file)."""

    site: str
    made_by: str
    """How the file was made (generator command, library and version) or who typed it."""
    closed_weekdays: tuple[Literal["monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"], ...] = ()
    dates: tuple[ClosureDay, ...] = ()
    periods: tuple[ClosurePeriod, ...] = ()
    policy: dict[str, ClosurePolicy] = {}
    """Kind of event → policy. Keys: cycle-start (anything on day 1 of a cycle but doses by mouth and
    inpatient doses), administration, oral (an administration by mouth, usually taken
    at home), premedication, lab, visit, assessment, procedure, hospitalization, default."""
    content_hash: str


class PlanOverride(PlanRecord):
    """A protocol or site rule knowingly crossed: which rule, who decided, why."""

    rule: str
    """e.g. `lifetime-limit:doxorubicin`."""
    name: str
    """The override as given (`--override 'Dr A Smith: cardiology review, LVEF 60 %'`)."""
    by: str
