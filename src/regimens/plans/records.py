"""What a plan file stores about treatment as it really happened: moved doses and days, ceased
drugs, recorded administrations (given or not given), prior exposure and the site closures in
force. Plain data (frozen pydantic); what each one does to the timeline is in plans/changes.py.

Every record carries its reason and the person who recorded it: they are the plan's audit trail
(`plan show --history`) as much as the history lines.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class _Frozen(BaseModel):
    # defer_build: validators are built when first used, not at import (start-up time)
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, populate_by_name=True,
                              defer_build=True)


class PlanMove(_Frozen):
    target: str = Field(min_length=1)
    """A uid or `CYCLE_ID:DAY[:DRUG][#N]` (also written `CYCLE_ID.dDAY`)."""
    to: date
    at: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """New clock time of the first targeted dose; None keeps each dose's time."""
    mode: MoveMode = "dose"
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)
    override: str | None = None
    """Named override of a protocol rule the move breaks (who and why), or None."""


class PlanCease(_Frozen):
    drug: str | None = None
    """None: the whole treatment."""
    from_date: date = Field(alias="from")
    why: CeaseWhy
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)


class PlanAdministration(_Frozen):
    """A dose as the nurse recorded it: given (when, how much, by whom, second checker) or not."""

    uid: str = Field(min_length=1)
    given: bool = True
    at: datetime | None = None
    dose: float | None = Field(default=None, ge=0)
    unit: str | None = None
    by: str = Field(min_length=1)
    checked_by: str | None = None
    reason: str | None = None
    """Why it was not given (required then), or a remark."""

    @field_validator("at")
    @classmethod
    def _naive(cls, v: datetime | None) -> datetime | None:
        # clinic local time, as every time in a timeline
        return v.replace(tzinfo=None) if v is not None else v


class PriorExposure(_Frozen):
    """Dose received before this plan (an earlier regimen), entered for the cumulative total."""

    drug: str = Field(min_length=1)
    """Generic name, or `doxorubicin-equivalent` for an anthracycline total already converted."""
    amount: float = Field(gt=0)
    unit: Literal["mg", "mg/m2", "units", "units/m2"]
    source: str = Field(min_length=1)
    """Where the figure comes from (discharge letter, earlier plan) and, for a converted
    anthracycline total, the source of the conversion factor used."""
    by: str = Field(min_length=1)


class ClosureDay(_Frozen):
    date: date
    name: str = Field(min_length=1)


class ClosurePeriod(_Frozen):
    start: date
    end: date
    name: str = Field(min_length=1)


ClosurePolicy = Literal["next-open-day", "move-cycle", "keep-flag", "keep"]
CLOSURE_POLICIES: tuple[str, ...] = ("next-open-day", "move-cycle", "keep-flag", "keep")


class PlanClosures(_Frozen):
    """A site's closed days as loaded into the plan (plans/closures.py reads the site file)."""

    site: str = Field(min_length=1)
    made_by: str = Field(min_length=1)
    """How the file was made (generator command, library and version) or who typed it."""
    closed_weekdays: tuple[Literal["monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"], ...] = ()
    dates: tuple[ClosureDay, ...] = ()
    periods: tuple[ClosurePeriod, ...] = ()
    policy: dict[str, ClosurePolicy] = {}
    """Kind of event → policy. Keys: cycle-start (anything on day 1 of a cycle but doses by mouth and
    inpatient doses), administration, oral (an administration by mouth, usually taken
    at home), premedication, lab, visit, assessment, procedure, hospitalization, default."""
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class PlanOverride(_Frozen):
    """A protocol or site rule knowingly crossed: which rule, who decided, why."""

    rule: str = Field(min_length=1)
    """e.g. `lifetime-limit:doxorubicin`."""
    name: str = Field(min_length=1)
    """The override as given (`--override 'Dr A Smith: cardiology review, LVEF 60 %'`)."""
    by: str = Field(min_length=1)
